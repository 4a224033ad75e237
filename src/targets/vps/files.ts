// Every file setup.sh installs on the VPS, with where and how: render writes them, apply
// diffs the live VPS against the same list.
import type { RelayPlan } from "../../plan/relay.js";
import { routerKeysOf, vpsPrivateKeyOf } from "../../render/keys.js";
import type { RelayRenderContext } from "../../render/types.js";
import { renderStatusScript, renderStatusService, renderStatusTimer, STATUS_SCRIPT, STATUS_UNIT } from "./alerts.js";
import { renderBirdConf, renderBirdRestartDropIn } from "./bird.js";
import { renderSysctl, type InstalledFile } from "./setup.js";
import { NDPPD_CONF, NDPPD_UNIT, renderNdppdConf, renderNdppdUnit } from "./ndppd.js";
import { movedAddress, renderVpsNetScript, VPS_NET_SCRIPT } from "./ownaddr.js";
import { HOOK_FILE, KEY_FILE, renderHook, renderWgConf } from "./wireguard.js";

export interface VpsFile extends InstalledFile {
  content: string;
  /** Mode of the copy in the render output (the installed mode is `mode`). */
  artifactMode: number;
  /** Holds a private key: never shown, compared by hash. */
  secret: boolean;
}

/** Every file setup.sh installs on the VPS, with where and how. apply uses the same list. */
export function vpsFiles(plan: RelayPlan, ctx: RelayRenderContext): VpsFile[] {
  const routerKeys = routerKeysOf(plan, ctx);
  const ownKey = vpsPrivateKeyOf(plan, ctx);
  const files: VpsFile[] = [];
  if (ownKey) files.push({ src: "secrets/wg0.key", dst: KEY_FILE, mode: "600", owner: "root:root", reload: "wg", content: `${ownKey}\n`, artifactMode: 0o600, secret: true });
  // Step 1 of the key exchange (keys: device): no router's key is known yet.
  if (![...routerKeys.values()].some(Boolean)) return files;
  const file = (src: string, dst: string, mode: string, owner: string, reload: InstalledFile["reload"], content: string, artifactMode: number): VpsFile => ({ src, dst, mode, owner, reload, content, artifactMode, secret: false });
  files.push(
    file("files/etc/wireguard/wg0.conf", "/etc/wireguard/wg0.conf", "600", "root:root", "wg", renderWgConf(plan, routerKeys), 0o600),
    file("files/etc/wireguard/relay6-hook.sh", HOOK_FILE, "700", "root:root", "none", renderHook(plan), 0o755),
    file("files/etc/sysctl.d/99-relay6.conf", "/etc/sysctl.d/99-relay6.conf", "644", "root:root", "sysctl", renderSysctl(plan), 0o644),
  );
  if (plan.vps.alerts)
    files.push(
      file("files/usr/local/sbin/relay6-status", STATUS_SCRIPT, "755", "root:root", "none", renderStatusScript(plan), 0o755),
      file(`files/etc/systemd/system/${STATUS_UNIT}.service`, `/etc/systemd/system/${STATUS_UNIT}.service`, "644", "root:root", "unit", renderStatusService(plan), 0o644),
      file(`files/etc/systemd/system/${STATUS_UNIT}.timer`, `/etc/systemd/system/${STATUS_UNIT}.timer`, "644", "root:root", "unit", renderStatusTimer(plan), 0o644),
    );
  if (plan.vps.onLink)
    files.push(
      file(`files${NDPPD_CONF}`, NDPPD_CONF, "644", "root:root", "ndppd", renderNdppdConf(plan), 0o644),
      file(`files/etc/systemd/system/${NDPPD_UNIT}`, `/etc/systemd/system/${NDPPD_UNIT}`, "644", "root:root", "ndppd", renderNdppdUnit(plan), 0o644),
    );
  if (movedAddress(plan))
    files.push(file(`files${VPS_NET_SCRIPT}`, VPS_NET_SCRIPT, "700", "root:root", "none", renderVpsNetScript(plan), 0o755));
  if (plan.bgp)
    files.push(
      file("files/etc/bird/bird.conf", "/etc/bird/bird.conf", "640", "bird:bird", "bird", renderBirdConf(plan), 0o644),
      file("files/etc/systemd/system/bird.service.d/relay6-restart.conf", "/etc/systemd/system/bird.service.d/relay6-restart.conf", "644", "root:root", "unit", renderBirdRestartDropIn(plan), 0o644),
    );
  return files;
}
