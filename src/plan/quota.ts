// The provider's transfer quota (vps.transfer) and what it carries. Every relayed byte
// crosses the VPS's NIC twice: once plain (to or from the internet) and once inside
// WireGuard (to or from a router), which adds its own headers to every packet. The
// failover probing of every site (BFD, the static mode's probe) crosses it once, inside
// WireGuard, and is spent before any LAN byte. Pure.

export interface TransferQuota {
  monthlyGB: number;
  resetDay: number;
  /** What the provider counts: what the VPS sends, or both directions. */
  counts: "out" | "in+out";
  /** status --check fails from this share of the allowance on. */
  alertPercent: number;
}

/** The average size of a relayed LAN packet (IPv6 header included) the figures assume:
 *  bulk transfers send full 1420-byte packets one way and ~60-byte ACKs the other; a
 *  home's mix averages out near 1,000 bytes. Smaller packets make the overhead weigh more. */
export const AVG_PACKET_BYTES = 1000;

/** What WireGuard adds to a packet on the underlay: its header (16) and tag (16), the
 *  outer UDP (8) and IP header (IPv4 20, IPv6 40), and its padding to a multiple of 16
 *  (7.5 on average, counted as 8): 68 bytes over IPv4, 88 over IPv6. */
export function tunnelOverheadBytes(underlay: 4 | 6): number {
  return 16 + 16 + 8 + (underlay === 4 ? 20 : 40) + 8;
}

/** Underlay bytes a month of one site's failover probing, both directions: its BFD
 *  session (bgp-bfd), or the static mode's probe (a ping every second). */
export function failoverBytesPerMonth(plan: {
  failover: { mode: "static"; probe: { bytesPerMonth: number } } | { mode: "bgp-bfd"; bfd: { bytesPerMonth: number } };
}): number {
  const f = plan.failover;
  return f.mode === "bgp-bfd" ? f.bfd.bytesPerMonth : f.probe.bytesPerMonth;
}

export interface QuotaFigures extends TransferQuota {
  /** monthlyGB in bytes (GB = 10^9 bytes). */
  quotaBytes: number;
  /** The failover probing of every site a month, as the provider counts it (out: what the
   *  VPS sends, half of it; in+out: all of it). */
  failoverBytes: number;
  /** failoverBytes / quotaBytes. */
  failoverShare: number;
  /** LAN traffic a month the rest of the quota carries: all of it downstream (internet →
   *  LAN) or all of it upstream; any mix lies in between. 0 when failover takes it all. */
  lanBytes: { downstream: number; upstream: number };
  /** The assumption the figures rest on, and the formula, in words. */
  packetBytes: number;
  overheadBytes: number;
  formula: string;
}

/** `failoverBothWays`: every site's failover bytes a month, both directions. */
export function quotaFigures(q: TransferQuota, failoverBothWays: number, underlay: 4 | 6): QuotaFigures {
  const quotaBytes = q.monthlyGB * 1e9;
  const S = AVG_PACKET_BYTES;
  const o = tunnelOverheadBytes(underlay);
  // The VPS sends one of the two packets of a BFD exchange or a probe and its reply.
  const failoverBytes = q.counts === "out" ? failoverBothWays / 2 : failoverBothWays;
  const rest = Math.max(0, quotaBytes - failoverBytes);
  // in+out: a LAN packet of S bytes costs S (plain) + S + o (in the tunnel), either way.
  // out: downstream leaves the VPS inside the tunnel (S + o); upstream leaves plain (S).
  const lanBytes =
    q.counts === "in+out"
      ? { downstream: Math.floor((rest * S) / (2 * S + o)), upstream: Math.floor((rest * S) / (2 * S + o)) }
      : { downstream: Math.floor((rest * S) / (S + o)), upstream: Math.floor(rest) };
  const failover = q.counts === "out" ? "failover/2" : "failover";
  const formula =
    q.counts === "in+out"
      ? `LAN = (quota − ${failover}) × S / (2S + o), either direction`
      : `downstream LAN = (quota − ${failover}) × S / (S + o); upstream LAN = quota − ${failover}`;
  return { ...q, quotaBytes, failoverBytes, failoverShare: failoverBytes / quotaBytes, lanBytes, packetBytes: S, overheadBytes: o, formula: `${formula}; S = ${S} B (average packet), o = ${o} B (WireGuard 32 + UDP 8 + IPv${underlay} ${underlay === 4 ? 20 : 40} + padding 8)` };
}

/** The first day (YYYY-MM-DD) of the provider's current period on `today` (YYYY-MM-DD):
 *  the latest reset day not after today; a reset day past a month's end is its last day. */
export function periodStart(today: string, resetDay: number): string {
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  const last = (yy: number, mm: number) => new Date(Date.UTC(yy, mm, 0)).getUTCDate(); // mm: 1-12
  const day = (yy: number, mm: number) => Math.min(resetDay, last(yy, mm));
  let yy = y;
  let mm = m;
  if (d < day(y, m)) {
    mm = m === 1 ? 12 : m - 1;
    yy = m === 1 ? y - 1 : y;
  }
  return `${yy}-${String(mm).padStart(2, "0")}-${String(day(yy, mm)).padStart(2, "0")}`;
}
