// Target `linux`: a Debian/Ubuntu home router. wg-quick for the tunnel, radvd for SLAAC +
// RDNSS on every segment, FRR's bgpd + bfdd against bird on the VPS (bgp-bfd), or a
// health-checked static default route (static), ip6tables for the LAN's stateful guard
// and the MSS clamp. The same files run in the namespace lab (`relay6 lab`).
import type { Diagnostic } from "../../errors.js";
import type { Plan } from "../../plan/plan.js";
import { privateKeyFor, publicKeyFor } from "../../render/keys.js";
import type { Artifact, RenderContext } from "../../render/types.js";
import type { RouterTarget } from "../types.js";
import { renderFrrConf, renderFrrDaemons } from "./frr.js";
import { renderFirewall } from "./firewall.js";
import { renderGatewayCheck, renderGatewayCheckUnit } from "./gwcheck.js";
import { renderRadvd } from "./radvd.js";
import { renderRadvdDropIn, renderRaDrain, renderRaDrainUnit } from "./drain.js";
import { renderNetScript, renderNetUnit, renderRouterUndo, renderSetup, type RouterFile } from "./setup.js";
import { renderSysctl } from "./sysctl.js";
import { renderWgConf } from "./wireguard.js";
import { renderLinuxRouterSmoke } from "./smoke.js";
import { LINUX_PATHS } from "./paths.js";

function check(plan: Plan): Diagnostic[] {
  const ds: Diagnostic[] = [];
  if (plan.router.platform !== "linux")
    ds.push({
      code: "linux-platform",
      severity: "error",
      path: "router.platform",
      message: `the linux target renders routers with platform linux, not ${plan.router.platform}`,
      fix: "set router.platform: linux",
    });
  if (plan.wireguard.keys === "device" && !plan.vps.publicKey)
    ds.push({
      code: "linux-keys-step1",
      severity: "info",
      path: "vps.publicKey",
      message: "no VPS public key yet: the router's setup.sh is step 1 (it makes the router's key and prints the public half)",
      fix: "run router/setup.sh, put the key it prints into router.publicKey and the VPS's into vps.publicKey, then render again",
    });
  if (plan.router.version !== undefined)
    ds.push({
      code: "linux-version",
      severity: "warning",
      path: "router.version",
      message: "router.version is a RouterOS version; the linux target ignores it",
      fix: "remove router.version",
    });
  return ds;
}

function render(plan: Plan, ctx: RenderContext): Artifact[] {
  const wg = plan.router.tunnelInterface;
  const vpsKey = publicKeyFor("vps", plan, ctx.secrets);
  // keys: device without the VPS's public key yet: step 1 of the key exchange, a setup.sh
  // that only installs the packages, makes this router's key and prints its public half.
  if (vpsKey === undefined) return [{ path: LINUX_PATHS.setup, content: renderSetup(plan, [], true), mode: 0o755 }];
  // What setup.sh installs, where, with which mode and owner, and what a change restarts.
  const files: (RouterFile & { content: string })[] = [];
  const put = (path: string, content: string, mode: number, flag: RouterFile["flag"], owner = "root:root") =>
    files.push({ src: path.slice("router/".length), dst: path.slice("router/files".length), mode: mode.toString(8), owner, flag, content });
  put(LINUX_PATHS.wgConf(wg), renderWgConf(plan, vpsKey), 0o600, "wg_changed");
  // radvd runs from the RA drain's copy of radvd.conf (its drop-in): a new radvd.conf is a
  // reload (the drain renders the copy again, radvd re-reads it), a new drop-in a restart.
  put(LINUX_PATHS.radvd, renderRadvd(plan), 0o644, "radvd_conf_changed");
  put(LINUX_PATHS.radvdDropIn, renderRadvdDropIn(plan), 0o644, "radvd_unit_changed");
  put(LINUX_PATHS.raDrain, renderRaDrain(plan), 0o755, "drain_changed");
  put(LINUX_PATHS.raDrainUnit, renderRaDrainUnit(plan), 0o644, "drain_unit_changed");
  put(LINUX_PATHS.sysctl, renderSysctl(plan), 0o644, "none");
  put(LINUX_PATHS.net, renderNetScript(plan, renderFirewall(plan)), 0o755, "net_changed");
  put(LINUX_PATHS.netUnit, renderNetUnit(plan), 0o644, "net_unit_changed");
  if (plan.failover.mode === "bgp-bfd") {
    put(LINUX_PATHS.frr, renderFrrConf(plan), 0o640, "frr_changed", "frr:frr");
    put(LINUX_PATHS.frrDaemons, renderFrrDaemons(plan), 0o644, "frr_changed");
  } else {
    put(LINUX_PATHS.gwCheck, renderGatewayCheck(plan), 0o755, "gw_changed");
    put(LINUX_PATHS.gwCheckUnit, renderGatewayCheckUnit(plan), 0o644, "gw_unit_changed");
  }
  const installed: RouterFile[] = files.map(({ content: _, ...f }) => f);
  const key = plan.wireguard.keys === "relay6" ? privateKeyFor("router", plan, ctx.secrets) : undefined;
  if (plan.wireguard.keys === "relay6") {
    if (!key) throw new Error("internal: linux target rendered without the router's private key (wireguard.keys: relay6)");
    installed.push({ src: LINUX_PATHS.wgKey(wg).slice("router/".length), dst: `/etc/wireguard/${wg}.key`, mode: "600", owner: "root:root", flag: "wg_changed" });
  }
  const out: Artifact[] = [
    { path: LINUX_PATHS.setup, content: renderSetup(plan, installed, false), mode: 0o755 },
    { path: LINUX_PATHS.undo, content: renderRouterUndo(plan), mode: 0o755 },
    { path: LINUX_PATHS.smoke, content: renderLinuxRouterSmoke(plan), mode: 0o755 },
    ...files.map((f) => ({ path: `router/${f.src}`, content: f.content, mode: parseInt(f.mode, 8) })),
  ];
  if (key) out.push({ path: LINUX_PATHS.wgKey(wg), content: `${key}\n`, mode: 0o600 });
  return out;
}

export const linuxTarget: RouterTarget = {
  id: "linux",
  role: "router",
  platform: { id: "linux", tunnelInterface: "wg0", sshUser: "root", management: { port: 22, service: "SSH" } },
  check,
  render,
  next: (_plan, out, site) => `copy ${out}/router to the router and run \`sudo bash setup.sh\` there (or: relay6 apply router ${site} --router-ssh HOST)`,
  apply: () => import("./apply.js"),
  verify: () => import("./verify.js"),
  labRouter: true,
};
