// What the failover probes cost and buy: detection time and tunnel bytes per month, for
// BFD (bgp-bfd) and for the static mode's ping probe.

export interface BfdFigures {
  /** Time from the last packet heard to the session declared down. */
  detectMs: number;
  /** Underlay bytes per 30-day month for both directions together. */
  bytesPerMonth: number;
}

/** Bytes an inner IPv6 packet of `inner` bytes takes on the underlay, inside WireGuard. */
function tunnelPacketBytes(inner: number, underlay: 4 | 6): number {
  const padded = Math.ceil(inner / 16) * 16; // WireGuard pads to 16 bytes
  const wg = padded + 16 /* header */ + 16; /* Poly1305 tag */
  return wg + 8 /* UDP */ + (underlay === 4 ? 20 : 40);
}

/** Bytes one BFD control packet takes on the underlay, inside WireGuard. */
export function bfdPacketBytes(underlay: 4 | 6): number {
  return tunnelPacketBytes(24 /* BFD control */ + 8 /* UDP */ + 40 /* IPv6 */, underlay);
}

const SECONDS_PER_MONTH = 30 * 24 * 3600;

export function bfdFigures(intervalMs: number, multiplier: number, underlay: 4 | 6): BfdFigures {
  const packetsPerSecondBothWays = 2 * (1000 / intervalMs);
  return {
    detectMs: intervalMs * multiplier,
    bytesPerMonth: Math.round(packetsPerSecondBothWays * SECONDS_PER_MONTH * bfdPacketBytes(underlay)),
  };
}

/** The static mode's probe: one ICMPv6 echo to the VPS's transit address every
 *  `intervalMs`, the route withdrawn after `misses` unanswered in a row. Both routers probe
 *  every second (the shortest period RouterOS's netwatch takes); three misses keep 1 %
 *  random loss from failing over (3 in a row at ~2 % per probe: about once in 36 hours, 0.5 % of 10-minute spells). */
export const PROBE = { intervalMs: 1000, misses: 3, payloadBytes: 56 } as const;

export interface ProbeFigures {
  intervalMs: number;
  misses: number;
  /** Time from the first unanswered probe to the route withdrawn (misses × interval). */
  detectMs: number;
  /** Underlay bytes per 30-day month: the echo request and its reply. */
  bytesPerMonth: number;
}

/** Bytes one probe packet (echo request or reply, ping's default 56-byte payload) takes. */
export function probePacketBytes(underlay: 4 | 6): number {
  return tunnelPacketBytes(PROBE.payloadBytes + 8 /* ICMPv6 echo */ + 40 /* IPv6 */, underlay);
}

export function probeFigures(underlay: 4 | 6): ProbeFigures {
  const packetsPerSecondBothWays = 2 * (1000 / PROBE.intervalMs);
  return {
    intervalMs: PROBE.intervalMs,
    misses: PROBE.misses,
    detectMs: PROBE.intervalMs * PROBE.misses,
    bytesPerMonth: Math.round(packetsPerSecondBothWays * SECONDS_PER_MONTH * probePacketBytes(underlay)),
  };
}

export function formatBytes(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} TB`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${n} B`;
}
