// `relay6 lab failover`: the recipe's section 4c, timed. Each run:
//   1. block the WireGuard UDP port on the VPS (INPUT and OUTPUT), time until the router's
//      ::/0 is gone (detect);
//   2. 1 s after it is gone, unblock, time until ::/0 is back (restore);
//   3. restart the VPS side (stop bird and wg0, start them), time from wg0 being up again
//      until ::/0 is back (vps restart).
// In static mode the same steps time the health-checked default route (relay6-gw-check).
// A relay of several sites: --site NAME blocks only that site's tunnel (by its router's
// underlay address, not the port every site shares), skips the VPS restart (it is every
// site's), and reports whether every other site kept its ::/0 throughout (others_kept).
import { EXIT, UserError } from "../errors.js";
import { LabError, isRunning, sleep, waitFor } from "./exec.js";
import { nsRun } from "./nodes.js";
import { startBird, wgDown, wgUp } from "./daemons.js";
import { bfdUp, routerDefault } from "./probes.js";
import { labSites, requireReadyLab, saveState, type LabSite, type LabState } from "./state.js";

export interface Stats {
  min: number;
  median: number;
  max: number;
}

export interface FailoverReport {
  mode: "static" | "bgp-bfd";
  detect_ms: Stats;
  restore_ms: Stats;
  /** Absent when the run skipped the VPS restart. */
  vps_restart_ms?: Stats;
  runs: number;
  samples: { detect_ms: number[]; restore_ms: number[]; vps_restart_ms: number[] };
  /** --site: the site whose tunnel was blocked. */
  site?: string;
  /** A relay of several sites: every other site had its ::/0 at every look during the runs. */
  others_kept?: boolean;
}

const POLL_MS = 10;

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

export async function labFailover(
  name: string,
  runs: number,
  onRun?: (i: number, r: { detect: number; restore: number; vpsRestart: number }) => void,
  /** everyTunnel: with --site, block the port of every site as a standalone run does (the
   *  negative control of others_kept: the other sites must then lose their ::/0). */
  opts: { vpsRestart?: boolean; site?: string; everyTunnel?: boolean } = {},
): Promise<FailoverReport> {
  const s = requireReadyLab(name);
  const sites = labSites(s);
  if (opts.site === undefined && sites.length > 1)
    throw new UserError(`lab "${name}" is a relay of ${sites.length} sites`, [], EXIT.badInput, `name the site whose tunnel to block with --site (${sites.map((x) => x.site).join(", ")})`);
  const target = opts.site === undefined ? sites[0]! : (sites.find((x) => x.site === opts.site) ?? fail(`lab "${name}" has no site ${opts.site}`, `give --site one of ${sites.map((x) => x.site).join(", ")}`));
  const others = sites.filter((x) => x !== target);
  // The VPS restart takes every site down: not a measurement of one site's failover.
  const withRestart = opts.site === undefined ? (opts.vpsRestart ?? true) : false;
  const mode = target.plan.failover.mode;
  const present = async () => ((await routerDefault(s, target.rtr.role)) ? true : undefined);
  const absent = async () => ((await routerDefault(s, target.rtr.role)) ? undefined : true);
  let othersKept = true;
  const looks = async () => {
    for (const o of others) if (!(await routerDefault(s, o.rtr.role))) othersKept = false;
  };
  const block = (on: boolean) => blockTunnel(s, on, opts.site === undefined || opts.everyTunnel ? undefined : target);
  // Static detection is 3 pings 10 s apart: allow for it.
  const budget = mode === "static" ? 60_000 : 15_000;
  const samples = { detect_ms: [] as number[], restore_ms: [] as number[], vps_restart_ms: [] as number[] };
  await waitFor("::/0 on the router before the first run", present, budget, POLL_MS);
  // Interrupted (Ctrl-C): take the block away before going, so the lab is left working.
  const onSignal = (sig: NodeJS.Signals) => {
    void block(false).finally(() => {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      process.kill(process.pid, sig);
    });
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (let i = 0; i < runs; i++) {
      // Each run starts from a settled relay: ::/0 present and, in bgp-bfd mode, BFD up on
      // both ends (a route whose BFD session never came up is withdrawn only by the BGP
      // hold timer), both holding for a second.
      await settled(s, target, budget);
      await looks();
      await block(true);
      const t0 = Date.now();
      await waitFor("::/0 to be withdrawn after the block", absent, budget, POLL_MS);
      const detect = Date.now() - t0;
      await looks();
      await sleep(1000);
      await looks();
      await block(false);
      const t1 = Date.now();
      await waitFor("::/0 to come back after the unblock", present, budget, POLL_MS);
      const restore = Date.now() - t1;
      await looks();

      let vpsRestart = NaN;
      if (withRestart) {
        await settled(s, target, budget);
        await stopVps(s);
        await waitFor("::/0 to be withdrawn while the VPS is down", absent, budget, POLL_MS);
        await wgUp(s, "vps", "wg0");
        const t2 = Date.now();
        if (s.relay?.bgp ?? mode === "bgp-bfd") startBird(s);
        await waitFor("::/0 to come back after the VPS restart", present, budget + 15_000, POLL_MS);
        vpsRestart = Date.now() - t2;
        samples.vps_restart_ms.push(vpsRestart);
      }
      samples.detect_ms.push(detect);
      samples.restore_ms.push(restore);
      onRun?.(i + 1, { detect, restore, vpsRestart });
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await block(false);
  }
  return {
    mode,
    detect_ms: stats(samples.detect_ms),
    restore_ms: stats(samples.restore_ms),
    ...(withRestart ? { vps_restart_ms: stats(samples.vps_restart_ms) } : {}),
    runs,
    samples,
    ...(opts.site !== undefined ? { site: target.site } : {}),
    ...(others.length > 0 ? { others_kept: othersKept } : {}),
  };
}

const fail = (msg: string, fix: string): never => {
  throw new UserError(msg, [], EXIT.badInput, fix);
};

const SETTLE_MS = 1000;

/** Waits until the site's ::/0 is there (and BFD up, in bgp-bfd mode) and stays so for SETTLE_MS. */
async function settled(s: LabState, site: LabSite, budget: number): Promise<void> {
  const ok = async () => (await routerDefault(s, site.rtr.role)) && (site.plan.failover.mode === "static" || (await bfdUp(s, site.rtr.role, site.plan.transit.router.address)));
  let since: number | undefined;
  await waitFor(
    "::/0 and BFD to hold steady",
    async () => {
      if (!(await ok())) since = undefined;
      else if (since === undefined) since = Date.now();
      return since !== undefined && Date.now() - since >= SETTLE_MS ? true : undefined;
    },
    budget + SETTLE_MS,
    50,
  );
}
/** The recipe's null-route stand-in: drop the tunnel's UDP on the VPS, both ways; with
 *  `site`, only that router's (by its underlay address: every site shares the port). */
async function blockTunnel(s: LabState & { plan: NonNullable<LabState["plan"]> }, on: boolean, site?: LabSite): Promise<void> {
  const port = String(s.plan.wireguard.port);
  const from = site ? ["-s", site.underlay.address] : [];
  const to = site ? ["-d", site.underlay.address] : [];
  const rules = [
    ["INPUT", ...from, "-p", "udp", "--dport", port, "-j", "DROP"],
    ["OUTPUT", ...to, "-p", "udp", "--sport", port, "-j", "DROP"],
  ];
  for (const r of rules) {
    if (on) {
      const res = await nsRun(s, "vps", ["iptables", "-I", ...r]);
      if (res.code !== 0) throw new LabError(`iptables -I ${r.join(" ")}: ${res.stderr.trim()}`);
    } else while ((await nsRun(s, "vps", ["iptables", "-D", ...r])).code === 0);
  }
}

/** Stop the VPS's relay: bird killed as a crash or a reboot would, then wg0 down. */
async function stopVps(s: LabState & { plan: NonNullable<LabState["plan"]> }): Promise<void> {
  for (const d of s.daemons.filter((x) => x.name === "bird")) {
    try {
      process.kill(-d.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 200 && isRunning(d.pid); i++) await sleep(10);
  }
  s.daemons = s.daemons.filter((x) => x.name !== "bird");
  saveState(s);
  await wgDown(s, "vps", "wg0");
}

