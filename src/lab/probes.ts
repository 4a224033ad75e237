// What the lab polls to know the relay's state: handshakes, the router's ::/0, BFD, the
// clients' SLAAC addresses. Read-only; used by lab up, lab test and lab failover.
import { containsAddress, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import { birdSocket, frrDir } from "./daemons.js";
import { ipIn, nsRun } from "./nodes.js";
import type { LabClient, LabState } from "./state.js";

/** BFD Up on the router (FRR) and on the VPS (bird), or undefined. */
export async function bfdUp(state: LabState): Promise<true | undefined> {
  const frr = await nsRun(state, "rtr", ["vtysh", "--vty_socket", frrDir(state), "-c", "show bfd peers brief"]);
  if (!/\bup\b/.test(frr.stdout)) return undefined;
  const bird = await nsRun(state, "vps", ["birdc", "-s", birdSocket(state), "show", "bfd", "sessions"]);
  return /\bUp\b/.test(bird.stdout) ? true : undefined;
}

/** Seconds since the last handshake of the only peer, undefined before the first one. */
export async function handshakeAge(state: LabState, role: string, wg: string): Promise<number | undefined> {
  const r = await nsRun(state, role, ["wg", "show", wg, "latest-handshakes"]);
  const t = Number(r.stdout.trim().split(/\s+/)[1] ?? "0");
  if (r.code !== 0 || !t) return undefined;
  return Math.max(0, Date.now() / 1000 - t);
}

/** The router's ::/0 as `ip -6 route` prints it, or null when there is none. */
export async function routerDefault(state: LabState): Promise<string | null> {
  const r = await ipIn(state, "rtr", ["-6", "route", "show", "default"]);
  const line = r.stdout.trim();
  return line === "" ? null : line;
}

/** The client's global SLAAC address inside its segment's /64, if it has one. */
export async function slaacAddress(state: LabState, c: LabClient): Promise<string | undefined> {
  const r = await ipIn(state, c.role, ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
  const seg = parsePrefix6(c.prefix);
  if (!seg.ok) return undefined;
  for (const line of r.stdout.split("\n")) {
    const m = /inet6 ([0-9a-f:]+)\/64 /.exec(line);
    if (!m || /tentative|dadfailed/.test(line)) continue;
    const a = parseAddress6(m[1]!);
    if (a !== undefined && containsAddress(seg.prefix, a)) return m[1]!;
  }
  return undefined;
}
