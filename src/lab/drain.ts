// A router's RA drain in the lab: the rendered relay6-ra-drain, run with the lab's paths
// (radvd's running copy and pid file in the lab dir, the rendered radvd.conf as the source).
// `lab up --no-drain` runs radvd from the rendered file and no watcher: radvd alone, as the
// recipe has it. drainOff/drainOn switch it in a running lab (the negative control, and the
// fallback measurements with and without the drain). A relay lab has one per site's router.
import { join } from "node:path";
import { isRunning, sleep } from "./exec.js";
import { daemon, ipIn, nsMust, nsOf } from "./nodes.js";
import { labSites, saveState, type LabClient, type LabSite, type LabState } from "./state.js";

const DRAIN_BIN = "files/usr/local/sbin/relay6-ra-drain";
const RADVD_CONF = "files/etc/radvd.conf";

/** A router node and its router/ folder in the lab's render output. */
export interface DrainRouter {
  role: string;
  routerDir: string;
}

/** The router node of a lab site, and where its files are. */
export function drainRouter(state: LabState, site: LabSite): DrainRouter {
  return { role: site.rtr.role, routerDir: join(state.dir, "artifacts", site.dir, "router") };
}

/** radvd's pid file for router node `role` (the first site's: <lab>/radvd.pid). */
export function radvdPidFile(state: LabState, role: string): string {
  return join(state.dir, role === "rtr" ? "radvd.pid" : `radvd-${role}.pid`);
}

export function drainEnv(state: LabState, r: DrainRouter): { RELAY6_RADVD_CONF: string; RELAY6_RADVD_RUNTIME: string; RELAY6_RADVD_PIDFILE: string } {
  return {
    RELAY6_RADVD_CONF: join(r.routerDir, RADVD_CONF),
    RELAY6_RADVD_RUNTIME: join(state.dir, r.role === "rtr" ? "radvd-run.conf" : `radvd-run-${r.role}.conf`),
    RELAY6_RADVD_PIDFILE: radvdPidFile(state, r.role),
  };
}

/** The file radvd runs from: the drain's copy, or (no drain) the rendered one. */
export async function radvdConfig(state: LabState, r: DrainRouter, drain: boolean): Promise<string> {
  if (!drain) return join(r.routerDir, RADVD_CONF);
  // What radvd.service's ExecStartPre does: the copy for the route's state right now.
  await nsMust(state, r.role, ["bash", join(r.routerDir, DRAIN_BIN), "render"], { env: drainEnv(state, r) });
  return drainEnv(state, r).RELAY6_RADVD_RUNTIME;
}

export function startDrain(state: LabState, r: DrainRouter): void {
  daemon(state, r.role, "ra-drain", ["bash", join(r.routerDir, DRAIN_BIN), "watch"], drainEnv(state, r));
}

/** Whether router node `role` runs the drain's watcher. */
export function drainRunning(state: LabState, role: string): boolean {
  return state.daemons.some((d) => d.name === "ra-drain" && d.ns === nsOf(state, role));
}

/** Stops the watcher of every site (or of `site` only): on its way out it gives radvd the
 *  rendered file back (SIGTERM). */
export async function drainOff(state: LabState, site?: LabSite): Promise<void> {
  const ns = site ? nsOf(state, site.rtr.role) : undefined;
  const mine = (d: LabState["daemons"][number]) => d.name === "ra-drain" && (ns === undefined || d.ns === ns);
  for (const d of state.daemons.filter(mine)) {
    try {
      process.kill(-d.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 300 && isRunning(d.pid); i++) await sleep(10);
  }
  state.daemons = state.daemons.filter((d) => !mine(d));
  saveState(state);
}

/** Starts the watcher again on every site (or `site` only) that has none. */
export async function drainOn(state: LabState, site?: LabSite): Promise<void> {
  for (const x of site ? [site] : labSites(state)) if (!drainRunning(state, x.rtr.role)) startDrain(state, drainRouter(state, x));
}

/** The client's IPv6 default route (from the router's RA), or null. */
export async function clientDefault(state: LabState, c: LabClient): Promise<string | null> {
  const r = await ipIn(state, c.role, ["-6", "route", "show", "default"]);
  const line = r.stdout.trim();
  return line === "" ? null : line;
}
