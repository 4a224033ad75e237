// The VPS target: Ubuntu 22.04/24.04 and Debian 12 with wg-quick, ufw and bird2.
import { publicKeyOf } from "../../keys/wireguard.js";
import type { Plan } from "../../plan/plan.js";
import { renderVpsFailoverTest, renderVpsSmoke } from "../../render/checks.js";
import type { Artifact, RenderContext, Target } from "../../render/types.js";
import { BIRD_PROTOCOL, renderBirdConf, renderBirdRestartDropIn } from "./bird.js";
import { renderFirewallScript } from "./firewall.js";
import { renderSetup, renderSysctl, type InstalledFile } from "./setup.js";
import { HOOK_FILE, KEY_FILE, renderHook, renderWgConf } from "./wireguard.js";

/** The router's public key as the VPS needs it, or undefined in step 1 of a device-key exchange. */
export function routerPublicKey(plan: Plan, ctx: RenderContext): string | undefined {
  if (plan.wireguard.keys === "relay6") return ctx.secrets.routerPrivateKey && publicKeyOf(ctx.secrets.routerPrivateKey);
  return plan.router.publicKey;
}

export interface VpsFile extends InstalledFile {
  content: string;
  /** Mode of the copy in the render output (the installed mode is `mode`). */
  artifactMode: number;
  /** Holds a private key: never shown, compared by hash. */
  secret: boolean;
}

/** Every file setup.sh installs on the VPS, with where and how. apply uses the same list. */
export function vpsFiles(plan: Plan, ctx: RenderContext): VpsFile[] {
  const peerKey = routerPublicKey(plan, ctx);
  const files: VpsFile[] = [];
  if (plan.wireguard.keys === "relay6" && ctx.secrets.vpsPrivateKey)
    files.push({ src: "secrets/wg0.key", dst: KEY_FILE, mode: "600", owner: "root:root", reload: "wg", content: `${ctx.secrets.vpsPrivateKey}\n`, artifactMode: 0o600, secret: true });
  if (!peerKey) return files;
  const file = (src: string, dst: string, mode: string, owner: string, reload: InstalledFile["reload"], content: string, artifactMode: number): VpsFile => ({ src, dst, mode, owner, reload, content, artifactMode, secret: false });
  files.push(
    file("files/etc/wireguard/wg0.conf", "/etc/wireguard/wg0.conf", "600", "root:root", "wg", renderWgConf(plan, peerKey), 0o600),
    file("files/etc/wireguard/relay6-hook.sh", HOOK_FILE, "700", "root:root", "none", renderHook(plan), 0o755),
    file("files/etc/sysctl.d/99-relay6.conf", "/etc/sysctl.d/99-relay6.conf", "644", "root:root", "sysctl", renderSysctl(plan), 0o644),
  );
  if (plan.failover.mode === "bgp-bfd")
    files.push(
      file("files/etc/bird/bird.conf", "/etc/bird/bird.conf", "640", "bird:bird", "bird", renderBirdConf(plan), 0o644),
      file("files/etc/systemd/system/bird.service.d/relay6-restart.conf", "/etc/systemd/system/bird.service.d/relay6-restart.conf", "644", "root:root", "unit", renderBirdRestartDropIn(plan), 0o644),
    );
  return files;
}

export function renderVps(plan: Plan, ctx: RenderContext): Artifact[] {
  const out: Artifact[] = [];
  const peerKey = routerPublicKey(plan, ctx);
  const bgp = plan.failover.mode === "bgp-bfd";
  const all = vpsFiles(plan, ctx);
  const files = all.filter((f) => !f.secret);
  for (const f of files) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
  out.push({ path: "vps/setup.sh", content: renderSetup(plan, files, peerKey), mode: 0o755 });
  if (plan.vps.firewall === "ufw" && peerKey) out.push({ path: "vps/firewall.sh", content: renderFirewallScript(plan), mode: 0o755 });
  for (const f of all.filter((x) => x.secret)) out.push({ path: `vps/${f.src}`, content: f.content, mode: f.artifactMode });
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
