// What BFD timers cost and buy: detection time and tunnel bytes per month.

export interface BfdFigures {
  /** Time from the last packet heard to the session declared down. */
  detectMs: number;
  /** Underlay bytes per 30-day month for both directions together. */
  bytesPerMonth: number;
}

/** Bytes one BFD control packet takes on the underlay, inside WireGuard. */
export function bfdPacketBytes(underlay: 4 | 6): number {
  const inner = 24 /* BFD control */ + 8 /* UDP */ + 40; /* IPv6 */
  const padded = Math.ceil(inner / 16) * 16; // WireGuard pads to 16 bytes
  const wg = padded + 16 /* header */ + 16; /* Poly1305 tag */
  return wg + 8 /* UDP */ + (underlay === 4 ? 20 : 40);
}

export function bfdFigures(intervalMs: number, multiplier: number, underlay: 4 | 6): BfdFigures {
  const secondsPerMonth = 30 * 24 * 3600;
  const packetsPerSecondBothWays = 2 * (1000 / intervalMs);
  return {
    detectMs: intervalMs * multiplier,
    bytesPerMonth: Math.round(packetsPerSecondBothWays * secondsPerMonth * bfdPacketBytes(underlay)),
  };
}

export function formatBytes(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} TB`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${n} B`;
}
