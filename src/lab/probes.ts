// What the lab polls to know the relay's state: handshakes, the router's ::/0, BFD, the
// clients' SLAAC addresses. Read-only; used by lab up, lab test and lab failover.
import { containsAddress, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import { birdSocket, frrDir } from "./daemons.js";
import { ipIn, nsRun } from "./nodes.js";
import type { LabClient, LabState } from "./state.js";

/** BFD Up on a router (FRR) and on the VPS (bird), or undefined. `routerTransit`: that
 *  router's session on the VPS (a relay's VPS has one per bgp-bfd site). */
export async function bfdUp(state: LabState, role = "rtr", routerTransit?: string): Promise<true | undefined> {
  const frr = await nsRun(state, role, ["vtysh", "--vty_socket", frrDir(state, role), "-c", "show bfd peers brief"]);
  if (!/\bup\b/.test(frr.stdout)) return undefined;
  const bird = await nsRun(state, "vps", ["birdc", "-s", birdSocket(state), "show", "bfd", "sessions"]);
  const rows = routerTransit ? bird.stdout.split("\n").filter((l) => l.trim().startsWith(`${routerTransit} `)) : [bird.stdout];
  return rows.some((l) => /\bUp\b/.test(l)) ? true : undefined;
}

/** Seconds since the last handshake of the only peer (or of the peer with public key
 *  `peer`), undefined before the first one. */
export async function handshakeAge(state: LabState, role: string, wg: string, peer?: string): Promise<number | undefined> {
  const r = await nsRun(state, role, ["wg", "show", wg, "latest-handshakes"]);
  const row = r.stdout.trim().split("\n").find((l) => peer === undefined || l.startsWith(`${peer}\t`) || l.startsWith(`${peer} `)) ?? "";
  const t = Number(row.split(/\s+/)[1] ?? "0");
  if (r.code !== 0 || !t) return undefined;
  return Math.max(0, Date.now() / 1000 - t);
}

/** A router's ::/0 as `ip -6 route` prints it, or null when there is none. */
export async function routerDefault(state: LabState, role = "rtr"): Promise<string | null> {
  const r = await ipIn(state, role, ["-6", "route", "show", "default"]);
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
