// RouterOS time intervals as its exports and REST show them: "25s", "1m30s", "1h2m3s",
// "250ms", "1.5s". The one parser for apply (comparing values), verify (handshake age) and
// doctor (keepalive, BFD timers).

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when `text` is not an interval. A bare number is an interval
 *  only where the menu gives it a unit (`bare`: BFD's min-rx is milliseconds, keepalive
 *  seconds); elsewhere it is a plain number (an MTU) and not a duration. */
export function rosDurationMs(text: string | undefined, bare?: "s" | "ms"): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return bare === undefined ? undefined : Number(t) * UNIT_MS[bare]!;
  if (!/^(\d+(\.\d+)?(ms|w|d|h|m|s))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
