// The router's RA drain in the lab: the rendered relay6-ra-drain, run with the lab's paths
// (radvd's running copy and pid file in the lab dir, the rendered radvd.conf as the source).
// `lab up --no-drain` runs radvd from the rendered file and no watcher: radvd alone, as the
// recipe has it. drainOff/drainOn switch it in a running lab (the negative control, and the
// fallback measurements with and without the drain).
import { join } from "node:path";
import { isRunning, sleep } from "./exec.js";
import { daemon, ipIn, nsMust } from "./nodes.js";
import { saveState, type LabClient, type LabState } from "./state.js";

const DRAIN_BIN = "router/files/usr/local/sbin/relay6-ra-drain";
const RADVD_CONF = "router/files/etc/radvd.conf";

export function drainEnv(state: LabState): { RELAY6_RADVD_CONF: string; RELAY6_RADVD_RUNTIME: string; RELAY6_RADVD_PIDFILE: string } {
  return {
    RELAY6_RADVD_CONF: join(state.dir, "artifacts", RADVD_CONF),
    RELAY6_RADVD_RUNTIME: join(state.dir, "radvd-run.conf"),
    RELAY6_RADVD_PIDFILE: join(state.dir, "radvd.pid"),
  };
}

/** The file radvd runs from: the drain's copy, or (no drain) the rendered one. */
export async function radvdConfig(state: LabState, drain: boolean): Promise<string> {
  if (!drain) return join(state.dir, "artifacts", RADVD_CONF);
  // What radvd.service's ExecStartPre does: the copy for the route's state right now.
  await nsMust(state, "rtr", ["bash", join(state.dir, "artifacts", DRAIN_BIN), "render"], { env: drainEnv(state) });
  return drainEnv(state).RELAY6_RADVD_RUNTIME;
}

export function startDrain(state: LabState): void {
  daemon(state, "rtr", "ra-drain", ["bash", join(state.dir, "artifacts", DRAIN_BIN), "watch"], drainEnv(state));
}

/** Stops the watcher: on its way out it gives radvd the rendered file back (SIGTERM). */
export async function drainOff(state: LabState): Promise<void> {
  for (const d of state.daemons.filter((x) => x.name === "ra-drain")) {
    try {
      process.kill(-d.pid, "SIGTERM");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 300 && isRunning(d.pid); i++) await sleep(10);
  }
  state.daemons = state.daemons.filter((x) => x.name !== "ra-drain");
  saveState(state);
}

export async function drainOn(state: LabState): Promise<void> {
  if (!state.daemons.some((x) => x.name === "ra-drain")) startDrain(state);
}

/** The client's IPv6 default route (from the router's RA), or null. */
export async function clientDefault(state: LabState, c: LabClient): Promise<string | null> {
  const r = await ipIn(state, c.role, ["-6", "route", "show", "default"]);
  const line = r.stdout.trim();
  return line === "" ? null : line;
}
