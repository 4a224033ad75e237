// What both WireGuard ends of `relay6 verify` read alike: `wg show IF dump`, and the
// handshake check (the VPS's wg0, a Linux router's tunnel).
import type { Finding } from "./findings.js";

export const HANDSHAKE_MAX_AGE_S = 180;

export interface WgPeer {
  publicKey: string;
  endpoint: string;
  allowedIps: string[];
  latestHandshake: number;
  /** Bytes received from and sent to the peer since the interface came up. */
  rxBytes: number;
  txBytes: number;
}

/** `wg show IF dump` with the interface's private key (the first field of its first line)
 *  replaced on the host, before it crosses the connection: verify needs the listen port and
 *  the peers, never the key. Exit status: wg's when it fails. */
export function wgDumpCommand(ifname: string): string {
  return `dump=$(wg show ${ifname} dump) && printf '%s\\n' "$dump" | awk -F '\\t' -v OFS='\\t' 'NR == 1 { $1 = "(hidden)" } 1'`;
}

/** `wg show wg0 dump`: the interface line, then one tab-separated line per peer. */
export function parseWgDump(text: string): { listenPort?: number; peers: WgPeer[] } | undefined {
  const lines = text.split("\n").filter((l) => l.includes("\t"));
  if (lines.length === 0) return undefined;
  const [iface, ...peers] = lines;
  const f = iface!.split("\t");
  return {
    listenPort: Number(f[2]),
    peers: peers.map((l) => {
      const p = l.split("\t");
      return { publicKey: p[0]!, endpoint: p[2]!, allowedIps: (p[3] ?? "").split(",").filter((x) => x && x !== "(none)"), latestHandshake: Number(p[4] ?? 0), rxBytes: Number(p[5] ?? 0), txBytes: Number(p[6] ?? 0) };
    }),
  };
}

/** The handshake check of either end: pass within HANDSHAKE_MAX_AGE_S, else tunnel-down. */
export function handshakeFinding(check: string, peer: WgPeer, now: number, hint: string): Finding {
  const age = peer.latestHandshake > 0 ? now - peer.latestHandshake : Infinity;
  if (age <= HANDSHAKE_MAX_AGE_S) return { check, status: "pass", detail: `latest handshake ${age} s ago with ${peer.endpoint}` };
  return {
    check,
    status: "fail",
    detail: peer.latestHandshake > 0 ? `latest handshake ${age} s ago (more than ${HANDSHAKE_MAX_AGE_S} s)` : "no handshake yet",
    hint,
    fault: "tunnel-down",
  };
}
