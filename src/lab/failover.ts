// `relay6 lab failover`: the recipe's section 4c, timed on the router and on a LAN client.
// Each run:
//   1. block the WireGuard UDP port on the VPS (INPUT and OUTPUT), time until the router's
//      ::/0 is gone (detect) and until the first client's IPv6 default route is gone (RA
//      drain: the router's RA with router lifetime 0);
//   2. 1 s (--outage-ms) after the router's ::/0 is gone, unblock, time until ::/0 is back
//      on the router (restore) and on the client (RA restore);
//   3. restart the VPS side (stop bird and wg0, start them), time from wg0 being up again
//      until ::/0 is back on the router (vps restart).
// In static mode the same steps time the health-checked default route (relay6-gw-check).
// A client figure that never comes (no drain: the client keeps its default route) is null.
// A relay of several sites: --site NAME blocks only that site's tunnel (by its router's
// underlay address, not the port every site shares), times that site's router and first
// client, skips the VPS restart (it is every site's), and reports whether every other site
// kept its ::/0 throughout (others_kept).
import { EXIT, UserError } from "../errors.js";
import { clientDefault, drainRunning } from "./drain.js";
import { LabError, isRunning, sleep, waitFor } from "./exec.js";
import { nsRun } from "./nodes.js";
import { startBird, wgDown, wgUp } from "./daemons.js";
import { bfdUp, routerDefault } from "./probes.js";
import { labSites, requireReadyLab, saveState, type LabClient, type LabSite, type LabState } from "./state.js";

export interface Stats {
  min: number;
  median: number;
  max: number;
}

export interface FailoverReport {
  mode: "static" | "bgp-bfd";
  detect_ms: Stats | null;
  restore_ms: Stats | null;
  /** Block → the client's IPv6 default route gone; null when it never went. */
  ra_drain_ms: Stats | null;
  /** Unblock → the client's IPv6 default route back; null when it never went. */
  ra_restore_ms: Stats | null;
  /** Absent when the run skipped the VPS restart. */
  vps_restart_ms?: Stats | null;
  runs: number;
  /** Whether the (blocked site's) router ran the RA drain. */
  drain: boolean;
  samples: { detect_ms: (number | null)[]; restore_ms: (number | null)[]; ra_drain_ms: (number | null)[]; ra_restore_ms: (number | null)[]; vps_restart_ms: (number | null)[] };
  /** --site: the site whose tunnel was blocked. */
  site?: string;
  /** A relay of several sites: every other site had its ::/0 at every look during the runs. */
  others_kept?: boolean;
}

export interface FailoverOptions {
  vpsRestart?: boolean;
  /** A figure that never comes is recorded as null instead of failing the run (a hand-made
   *  VPS side whose BGP session ignores BFD, say). */
  allowMissing?: boolean;
  /** How long an outage may take to be seen (default 15 s, static 60 s). */
  budgetMs?: number;
  /** How long the tunnel stays blocked after the router's ::/0 is gone (default 1000 ms). */
  outageMs?: number;
  /** A relay: the site whose tunnel to block (required with several sites). */
  site?: string;
  /** With `site`, block the port of every site as a standalone run does (the negative
   *  control of others_kept: the other sites must then lose their ::/0). */
  everyTunnel?: boolean;
}

const POLL_MS = 10;

export function stats(xs: readonly (number | null)[]): Stats | null {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

export interface RunFigures {
  detect: number | null;
  restore: number | null;
  raDrain: number | null;
  raRestore: number | null;
  vpsRestart: number | null;
}

/** The site a run is about: `name` given, or the only one. */
export function targetSite(s: LabState, name: string | undefined): LabSite {
  const sites = labSites(s);
  if (name === undefined && sites.length > 1)
    throw new UserError(`lab "${s.name}" is a relay of ${sites.length} sites`, [], EXIT.badInput, `name the site whose tunnel to block with --site (${sites.map((x) => x.site).join(", ")})`);
  if (name === undefined) return sites[0]!;
  return sites.find((x) => x.site === name) ?? fail(`lab "${s.name}" has no site ${name}`, `give --site one of ${sites.map((x) => x.site).join(", ")}`);
}

export async function labFailover(name: string, runs: number, onRun?: (i: number, r: RunFigures) => void, opts: FailoverOptions = {}): Promise<FailoverReport> {
  const outageMs = opts.outageMs ?? 1000;
  const s = requireReadyLab(name);
  const target = targetSite(s, opts.site);
  const others = labSites(s).filter((x) => x !== target);
  // The VPS restart takes every site down: not a measurement of one site's failover.
  const withRestart = opts.site === undefined ? (opts.vpsRestart ?? true) : false;
  const mode = target.plan.failover.mode;
  // The watcher running, not the lab's flag: a test may have stopped it (drainOff).
  const drain = drainRunning(s, target.rtr.role);
  // Static detection is 3 probes a second apart, but allow for slow machines.
  const budget = opts.budgetMs ?? (mode === "static" ? 60_000 : 15_000);
  const client = target.clients[0]!;
  const present = async () => ((await routerDefault(s, target.rtr.role)) ? true : undefined);
  const absent = async () => ((await routerDefault(s, target.rtr.role)) ? undefined : true);
  let othersKept = true;
  const looks = async () => {
    for (const o of others) if (!(await routerDefault(s, o.rtr.role))) othersKept = false;
  };
  const block = (on: boolean) => blockTunnel(s, on, opts.site === undefined || opts.everyTunnel ? undefined : target);
  const samples: FailoverReport["samples"] = { detect_ms: [], restore_ms: [], ra_drain_ms: [], ra_restore_ms: [], vps_restart_ms: [] };
  const missing = (what: string) => {
    if (!opts.allowMissing) throw new LabError(`timed out after ${budget} ms waiting for ${what}`);
    return null;
  };
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
      // Each run starts from a settled relay: ::/0 present on the router and the client and,
      // in bgp-bfd mode, BFD up on both ends (a route whose BFD session never came up is
      // withdrawn only by the BGP hold timer), all holding for a second.
      await settled(s, target, budget, client, !!opts.allowMissing);
      await looks();
      await block(true);
      const t0 = Date.now();
      const down = await timeBoth(s, target, client, t0, "gone", budget, drain ? budget : undefined);
      const detect = down.router ?? missing("::/0 to be withdrawn after the block");
      await looks();
      // Without the drain the client keeps its route: looked at for 3 s after the router's went.
      const raDrain = down.client;
      // The outage lasts 1 s (--outage-ms) from the withdrawal on the router.
      if (detect !== null) await sleep(Math.max(0, t0 + detect + outageMs - Date.now()));
      await looks();
      await block(false);
      const t1 = Date.now();
      const up = await timeBoth(s, target, client, t1, "back", budget, raDrain !== null ? budget : 0);
      const restore = detect === null ? null : (up.router ?? missing("::/0 to come back after the unblock"));
      const raRestore = raDrain === null ? null : (up.client ?? missing("the client's default route to come back after the unblock"));
      await looks();

      let vpsRestart: number | null = null;
      if (withRestart) {
        await settled(s, target, budget, client, !!opts.allowMissing);
        await stopVps(s);
        const gone = await waitFor("::/0 to be withdrawn while the VPS is down", absent, budget, POLL_MS).catch((e: unknown) => {
          if (!opts.allowMissing) throw e;
          return undefined;
        });
        await wgUp(s, "vps", "wg0");
        const t2 = Date.now();
        if (s.relay?.bgp ?? mode === "bgp-bfd") startBird(s);
        if (gone) {
          const back = await waitFor("::/0 to come back after the VPS restart", present, budget + 15_000, POLL_MS).catch((e: unknown) => {
            if (!opts.allowMissing) throw e;
            return undefined;
          });
          vpsRestart = back ? Date.now() - t2 : null;
        }
        samples.vps_restart_ms.push(vpsRestart);
      }
      samples.detect_ms.push(detect);
      samples.restore_ms.push(restore);
      samples.ra_drain_ms.push(raDrain);
      samples.ra_restore_ms.push(raRestore);
      onRun?.(i + 1, { detect, restore, raDrain, raRestore, vpsRestart });
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
    ra_drain_ms: stats(samples.ra_drain_ms),
    ra_restore_ms: stats(samples.ra_restore_ms),
    ...(withRestart ? { vps_restart_ms: stats(samples.vps_restart_ms) } : {}),
    runs,
    drain,
    samples,
    ...(opts.site !== undefined ? { site: target.site } : {}),
    ...(others.length > 0 ? { others_kept: othersKept } : {}),
  };
}

const fail = (msg: string, fix: string): never => {
  throw new UserError(msg, [], EXIT.badInput, fix);
};

/** Polls the site's router's ::/0 and the client's default route together until both are
 *  `want` (or the client's has not followed `clientMs` after the router's; undefined: 3 s),
 *  and returns when each got there, in ms from t0 (null: never within the budget). */
async function timeBoth(
  s: LabState,
  site: LabSite,
  c: LabClient,
  t0: number,
  want: "gone" | "back",
  budget: number,
  clientMs: number | undefined,
): Promise<{ router: number | null; client: number | null }> {
  let router: number | null = null;
  let client: number | null = null;
  const follow = clientMs ?? 3000;
  for (;;) {
    const now = Date.now() - t0;
    const [r, d] = await Promise.all([routerDefault(s, site.rtr.role), router !== null && client !== null ? Promise.resolve(null) : clientDefault(s, c)]);
    if (router === null && (want === "gone" ? r === null : r !== null)) router = Date.now() - t0;
    if (client === null && follow > 0 && (want === "gone" ? d === null : d !== null)) client = Date.now() - t0;
    if (router !== null && (client !== null || now > router + follow)) break;
    if (router === null && now > budget) break;
    await sleep(POLL_MS);
  }
  return { router, client };
}

const SETTLE_MS = 1000;

/** Waits until the site's ::/0 is there on its router and client `c` (and BFD up, in
 *  bgp-bfd mode) and stays so for SETTLE_MS. With `bfdOptional`, a BFD session that never
 *  comes up is let be. */
export async function settled(s: LabState, site: LabSite, budget: number, c: LabClient, bfdOptional: boolean): Promise<void> {
  let needBfd = site.plan.failover.mode === "bgp-bfd";
  const t0 = Date.now();
  const ok = async () => {
    if (needBfd && bfdOptional && Date.now() - t0 > budget) needBfd = false;
    return (await routerDefault(s, site.rtr.role)) !== null && (await clientDefault(s, c)) !== null && (!needBfd || (await bfdUp(s, site.rtr.role, site.plan.transit.router.address)));
  };
  let since: number | undefined;
  await waitFor(
    "::/0 (router and client) and BFD to hold steady",
    async () => {
      if (!(await ok())) since = undefined;
      else if (since === undefined) since = Date.now();
      return since !== undefined && Date.now() - since >= SETTLE_MS ? true : undefined;
    },
    2 * budget + SETTLE_MS,
    50,
  );
}

/** The recipe's null-route stand-in: drop the tunnel's UDP on the VPS, both ways; with
 *  `site`, only that router's (by its underlay address: every site shares the port). Both
 *  directions change in one iptables-restore transaction: with two separate commands one
 *  direction opens 20-40 ms before the other, and a BFD packet answered into the still
 *  closed one costs the restore ~0.7 s (seen in the restore trace). */
export async function blockTunnel(s: LabState & { plan: NonNullable<LabState["plan"]> }, on: boolean, site?: LabSite): Promise<void> {
  const port = String(s.plan.wireguard.port);
  const from = site ? ["-s", site.underlay.address] : [];
  const to = site ? ["-d", site.underlay.address] : [];
  const rules = [
    ["INPUT", ...from, "-p", "udp", "--dport", port, "-j", "DROP"],
    ["OUTPUT", ...to, "-p", "udp", "--sport", port, "-j", "DROP"],
  ];
  const txn = (op: "-I" | "-D") => ["*filter", ...rules.map((r) => [op, ...r].join(" ")), "COMMIT", ""].join("\n");
  const res = await nsRun(s, "vps", ["iptables-restore", "--noflush"], { input: txn(on ? "-I" : "-D") });
  if (on && res.code !== 0) throw new LabError(`iptables-restore --noflush (block): ${res.stderr.trim()}`);
  // Unblocking what is not (or only partly) there: one rule at a time, all copies.
  if (!on) for (const r of rules) while ((await nsRun(s, "vps", ["iptables", "-D", ...r])).code === 0);
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
