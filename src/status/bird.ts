// What bird says about its sessions: `birdc show protocols all` (each protocol's state,
// when it last changed, BGP's own state and last error) and `birdc show bfd sessions`.
// bird prints times in the VPS's local time as `timeformat protocol` says; relay6's
// bird.conf sets `iso long ms` ("2026-12-01 18:52:04.385"), so each has its date.

export interface BirdProtocol {
  name: string;
  proto: string;
  /** bird's protocol state: up, start, down, ... */
  state: string;
  /** When it last changed state, seconds since the epoch (ms precision); undefined when
   *  bird printed a time without a date (another timeformat). */
  since?: number;
  /** The Info column: BGP's state (Established, Connect, Active, ...) and its error. */
  info: string;
  /** BGP: "BGP state:" of the details. */
  bgpState?: string;
  /** BGP: "Last error:" of the details. */
  lastError?: string;
  neighbor?: string;
}

export interface BfdSession {
  address: string;
  iface: string;
  /** Up, Down, Init, AdminDown. */
  state: string;
  since?: number;
  /** Seconds, as bird prints them. */
  interval: number;
  timeout: number;
}

/** "+0100" → minutes east of UTC. */
export function tzMinutes(tz: string): number {
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(tz.trim());
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** A bird time ("2026-12-01 18:52:04.385", local time `tz`) → seconds since the epoch. */
export function birdTime(text: string, tz: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + Number(`0.${m[7] ?? "0"}`) * 1000;
  return (ms - tzMinutes(tz) * 60_000) / 1000;
}

// A summary line: name, protocol, table, state, then the time (date and time, or one of
// them), then the info. The time is one or two words.
const SUMMARY = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d(?: \d\d:\d\d:\d\d(?:\.\d+)?)?|\d\d:\d\d:\d\d(?:\.\d+)?)\s*(.*)$/;

export function parseBirdProtocols(text: string, tz: string): Map<string, BirdProtocol> {
  const out = new Map<string, BirdProtocol>();
  let current: BirdProtocol | undefined;
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) {
      const m = SUMMARY.exec(line.trimEnd());
      if (!m || m[1] === "Name") {
        current = undefined;
        continue;
      }
      const since = birdTime(m[5]!, tz);
      current = { name: m[1]!, proto: m[2]!, state: m[4]!, ...(since !== undefined ? { since } : {}), info: m[6]!.trim() };
      out.set(current.name, current);
      continue;
    }
    if (!current) continue;
    const d = /^\s+(BGP state|Last error|Neighbor address):\s+(.*)$/.exec(line);
    if (!d) continue;
    if (d[1] === "BGP state") current.bgpState = d[2]!.trim();
    else if (d[1] === "Last error") current.lastError = d[2]!.trim();
    else current.neighbor = d[2]!.trim();
  }
  return out;
}

export function parseBfdSessions(text: string, tz: string): BfdSession[] {
  const out: BfdSession[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S*:\S*)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(line);
    if (!m) continue;
    const since = birdTime(m[4]!, tz);
    out.push({ address: m[1]!, iface: m[2]!, state: m[3]!, ...(since !== undefined ? { since } : {}), interval: Number(m[5]), timeout: Number(m[6]) });
  }
  return out;
}
