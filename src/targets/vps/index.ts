// The VPS target: Ubuntu 22.04/24.04 and Debian 12 with wg-quick, ufw and bird2.
import { publicKeyFor } from "../../render/keys.js";
import type { Artifact } from "../../render/types.js";
import type { Target } from "../types.js";
import { BIRD_PROTOCOL } from "./bird.js";
import { vpsFiles } from "./files.js";
import { renderFirewallScript } from "./firewall.js";
import { renderSetup } from "./setup.js";
import { renderVpsFailoverTest, renderVpsSmoke } from "./smoke.js";
import { renderVpsUndo } from "./undo.js";

export const vpsTarget: Target = {
  id: "vps",
  role: "vps",
  check: () => [],
  render(plan, ctx) {
    const out: Artifact[] = [];
    const peerKey = publicKeyFor("router", plan, ctx.secrets);
    const bgp = plan.failover.mode === "bgp-bfd";
    const all = vpsFiles(plan, ctx);
    const files = all.filter((f) => !f.secret);
    for (const f of files) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
    out.push({ path: "vps/setup.sh", content: renderSetup(plan, files, peerKey), mode: 0o755 });
    if (plan.vps.firewall === "ufw" && peerKey) out.push({ path: "vps/firewall.sh", content: renderFirewallScript(plan), mode: 0o755 });
    out.push({ path: "vps/undo.sh", content: renderVpsUndo(plan), mode: 0o755 });
    for (const f of all.filter((x) => x.secret)) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
    if (peerKey) {
      out.push({ path: "vps/smoke-test.sh", content: renderVpsSmoke(plan, bgp ? BIRD_PROTOCOL(plan) : undefined), mode: 0o755 });
      if (bgp) out.push({ path: "vps/failover-test.sh", content: renderVpsFailoverTest(plan, BIRD_PROTOCOL(plan)), mode: 0o755 });
    }
    return out;
  },
  next: (_plan, out, site) => `copy ${out}/vps to the VPS and run \`sudo bash setup.sh\` there (or: relay6 apply vps ${site})`,
  apply: () => import("./apply.js"),
  verify: () => import("./verify.js"),
};
