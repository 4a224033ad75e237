// The VPS target: Ubuntu 22.04/24.04 and Debian 12 with wg-quick, ufw and bird2. It renders
// the whole relay: one wg0 with a peer per site, one BGP session per bgp-bfd site.
import type { Diagnostic } from "../../errors.js";
import type { RelayPlan } from "../../plan/relay.js";
import { routerKeysOf } from "../../render/keys.js";
import type { Artifact } from "../../render/types.js";
import type { VpsTarget } from "../types.js";
import { BIRD_PROTOCOL } from "./bird.js";
import { vpsFiles } from "./files.js";
import { renderFirewallScript } from "./firewall.js";
import { renderSetup } from "./setup.js";
import { renderVpsFailoverTest, renderVpsSmoke } from "./smoke.js";
import { renderVpsUndo } from "./undo.js";

/** bird names each site's session router_<site>, with every character bird cannot hold in
 *  a name as `_`: two sites whose names differ only there would share one. */
function check(relay: RelayPlan): Diagnostic[] {
  const seen = new Map<string, string>();
  const out: Diagnostic[] = [];
  relay.sites.forEach((p, i) => {
    if (p.failover.mode !== "bgp-bfd") return;
    const name = BIRD_PROTOCOL(p);
    const other = seen.get(name);
    if (other !== undefined)
      out.push({
        code: "vps-bird-name-clash",
        severity: "error",
        path: `sites[${i}]`,
        message: `sites "${other}" and "${p.site}" both give the BGP protocol name ${name} on the VPS's bird`,
        fix: "rename one of the sites (bird names hold letters, digits and _ only)",
      });
    else seen.set(name, p.site);
  });
  return out;
}

export const vpsTarget: VpsTarget = {
  id: "vps",
  role: "vps",
  check,
  render(plan, ctx) {
    const out: Artifact[] = [];
    const routerKeys = routerKeysOf(plan, ctx);
    const anyPeer = [...routerKeys.values()].some(Boolean);
    const all = vpsFiles(plan, ctx);
    const files = all.filter((f) => !f.secret);
    for (const f of files) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
    out.push({ path: "vps/setup.sh", content: renderSetup(plan, files, routerKeys), mode: 0o755 });
    if (plan.vps.firewall === "ufw" && anyPeer) out.push({ path: "vps/firewall.sh", content: renderFirewallScript(plan), mode: 0o755 });
    out.push({ path: "vps/undo.sh", content: renderVpsUndo(plan), mode: 0o755 });
    for (const f of all.filter((x) => x.secret)) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
    if (anyPeer) {
      out.push({ path: "vps/smoke-test.sh", content: renderVpsSmoke(plan, routerKeys), mode: 0o755 });
      if (plan.bgp) out.push({ path: "vps/failover-test.sh", content: renderVpsFailoverTest(plan, routerKeys), mode: 0o755 });
    }
    return out;
  },
  next: (_plan, out, input) => `copy ${out}/vps to the VPS and run \`sudo bash setup.sh\` there (or: relay6 apply vps ${input})`,
  apply: () => import("./apply.js"),
  verify: () => import("./verify.js"),
};
