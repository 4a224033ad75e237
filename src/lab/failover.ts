// `relay6 lab failover`: the recipe's section 4c, timed. Each run:
//   1. block the WireGuard UDP port on the VPS (INPUT and OUTPUT), time until the router's
//      ::/0 is gone (detect);
//   2. 1 s after it is gone, unblock, time until ::/0 is back (restore);
//   3. restart the VPS side (stop bird and wg0, start them), time from wg0 being up again
//      until ::/0 is back (vps restart).
// In static mode the same steps time the health-checked default route (relay6-gw-check).
import { LabError, isRunning, sleep, waitFor } from "./exec.js";
import { nsRun } from "./nodes.js";
import { startBird, wgDown, wgUp } from "./daemons.js";
import { bfdUp, routerDefault } from "./probes.js";
import { requireReadyLab, saveState, type LabState } from "./state.js";

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
  opts: { vpsRestart?: boolean } = {},
): Promise<FailoverReport> {
  const withRestart = opts.vpsRestart ?? true;
  const s = requireReadyLab(name);
  const mode = s.plan.failover.mode;
  // Static detection is 3 pings 10 s apart: allow for it.
  const budget = mode === "static" ? 60_000 : 15_000;
  const samples = { detect_ms: [] as number[], restore_ms: [] as number[], vps_restart_ms: [] as number[] };
  await waitFor("::/0 on the router before the first run", () => present(s), budget, POLL_MS);
  // Interrupted (Ctrl-C): take the block away before going, so the lab is left working.
  const onSignal = (sig: NodeJS.Signals) => {
    void block(s, false).finally(() => {
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
      await settled(s, mode, budget);
      await block(s, true);
      const t0 = Date.now();
      await waitFor("::/0 to be withdrawn after the block", () => absent(s), budget, POLL_MS);
      const detect = Date.now() - t0;
      await sleep(1000);
      await block(s, false);
      const t1 = Date.now();
      await waitFor("::/0 to come back after the unblock", () => present(s), budget, POLL_MS);
      const restore = Date.now() - t1;

      let vpsRestart = NaN;
      if (withRestart) {
        await settled(s, mode, budget);
        await stopVps(s);
        await waitFor("::/0 to be withdrawn while the VPS is down", () => absent(s), budget, POLL_MS);
        await wgUp(s, "vps", "wg0");
        const t2 = Date.now();
        if (mode === "bgp-bfd") startBird(s);
        await waitFor("::/0 to come back after the VPS restart", () => present(s), budget + 15_000, POLL_MS);
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
    await block(s, false);
  }
  return {
    mode,
    detect_ms: stats(samples.detect_ms),
    restore_ms: stats(samples.restore_ms),
    ...(withRestart ? { vps_restart_ms: stats(samples.vps_restart_ms) } : {}),
    runs,
    samples,
  };
}

const present = async (s: LabState) => ((await routerDefault(s)) ? true : undefined);

const SETTLE_MS = 1000;

/** Waits until ::/0 is there (and BFD up, in bgp-bfd mode) and stays so for SETTLE_MS. */
async function settled(s: LabState, mode: "static" | "bgp-bfd", budget: number): Promise<void> {
  const ok = async () => (await present(s)) && (mode === "static" || (await bfdUp(s)));
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
const absent = async (s: LabState) => ((await routerDefault(s)) ? undefined : true);

/** The recipe's null-route stand-in: drop the tunnel's UDP on the VPS, both ways. */
async function block(s: LabState & { plan: NonNullable<LabState["plan"]> }, on: boolean): Promise<void> {
  const port = String(s.plan.wireguard.port);
  const rules = [
    ["INPUT", "-p", "udp", "--dport", port, "-j", "DROP"],
    ["OUTPUT", "-p", "udp", "--sport", port, "-j", "DROP"],
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

