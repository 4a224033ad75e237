// The VPS target: Ubuntu 22.04/24.04 and Debian 12 with wg-quick, ufw and bird2.
import { publicKeyOf } from "../../keys/wireguard.js";
import type { Plan } from "../../plan/plan.js";
import { renderVpsFailoverTest, renderVpsSmoke } from "../../render/checks.js";
import type { Artifact, RenderContext, Target } from "../../render/types.js";
import { BIRD_PROTOCOL, renderBirdConf, renderBirdRestartDropIn } from "./bird.js";
import { renderFirewallScript } from "./firewall.js";
import { renderSetup, renderSysctl, type InstalledFile } from "./setup.js";
import { HOOK_FILE, renderHook, renderWgConf } from "./wireguard.js";

/** The router's public key as the VPS needs it, or undefined in step 1 of a device-key exchange. */
export function routerPublicKey(plan: Plan, ctx: RenderContext): string | undefined {
  if (plan.wireguard.keys === "relay6") return ctx.secrets.routerPrivateKey && publicKeyOf(ctx.secrets.routerPrivateKey);
  return plan.router.publicKey;
}

export function renderVps(plan: Plan, ctx: RenderContext): Artifact[] {
  const out: Artifact[] = [];
  const peerKey = routerPublicKey(plan, ctx);
  const files: (InstalledFile & { content: string; artifactMode: number })[] = [];
  const bgp = plan.failover.mode === "bgp-bfd";
  if (peerKey) {
    files.push(
      { src: "files/etc/wireguard/wg0.conf", dst: "/etc/wireguard/wg0.conf", mode: "600", owner: "root:root", reload: "wg", content: renderWgConf(plan, peerKey), artifactMode: 0o600 },
      { src: "files/etc/wireguard/relay6-hook.sh", dst: HOOK_FILE, mode: "700", owner: "root:root", reload: "none", content: renderHook(plan), artifactMode: 0o755 },
      { src: "files/etc/sysctl.d/99-relay6.conf", dst: "/etc/sysctl.d/99-relay6.conf", mode: "644", owner: "root:root", reload: "sysctl", content: renderSysctl(plan), artifactMode: 0o644 },
    );
    if (bgp)
      files.push(
        { src: "files/etc/bird/bird.conf", dst: "/etc/bird/bird.conf", mode: "640", owner: "bird:bird", reload: "bird", content: renderBirdConf(plan), artifactMode: 0o644 },
        { src: "files/etc/systemd/system/bird.service.d/relay6-restart.conf", dst: "/etc/systemd/system/bird.service.d/relay6-restart.conf", mode: "644", owner: "root:root", reload: "unit", content: renderBirdRestartDropIn(plan), artifactMode: 0o644 },
      );
  }
  for (const f of files) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
  out.push({ path: "vps/setup.sh", content: renderSetup(plan, files, !peerKey), mode: 0o755 });
  if (plan.vps.firewall === "ufw" && peerKey) out.push({ path: "vps/firewall.sh", content: renderFirewallScript(plan), mode: 0o755 });
  if (plan.wireguard.keys === "relay6" && ctx.secrets.vpsPrivateKey)
    out.push({ path: "vps/secrets/wg0.key", content: `${ctx.secrets.vpsPrivateKey}\n`, mode: 0o600 });
  if (peerKey) {
    out.push({ path: "vps/smoke-test.sh", content: renderVpsSmoke(plan, bgp ? BIRD_PROTOCOL(plan) : undefined), mode: 0o755 });
    if (bgp) out.push({ path: "vps/failover-test.sh", content: renderVpsFailoverTest(plan, BIRD_PROTOCOL(plan)), mode: 0o755 });
  }
  return out;
}

export const vpsTarget: Target = {
  id: "vps",
  role: "vps",
  check: () => [],
  render: renderVps,
};
