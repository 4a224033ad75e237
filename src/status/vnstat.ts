// This period's transfer on the VPS's NIC from vnstat (`vnstat --json d -i NIC`): the
// kernel's interface counters start again at every boot, vnstat's database does not. Its
// days are the VPS's local dates; the provider's period starts on the reset day.
import { periodStart } from "../plan/quota.js";

export interface TransferCount {
  /** The provider's period began on this day (YYYY-MM-DD, the VPS's local date). */
  periodStart: string;
  /** Bytes the NIC received and sent from periodStart through today. */
  rxBytes: number;
  txBytes: number;
  /** What the provider counts (tx, or rx + tx). */
  countedBytes: number;
  /** vnstat began counting this NIC after the period began: traffic before is missing. */
  countingSince?: string;
  /** Days of the period so far (today included), and in the whole period. */
  daysElapsed: number;
  periodDays: number;
}

interface VnstatDay {
  date: { year: number; month: number; day: number };
  rx: number;
  tx: number;
}

interface VnstatJson {
  jsonversion?: string;
  interfaces?: { name: string; created?: { date?: VnstatDay["date"] }; traffic?: { day?: VnstatDay[] } }[];
}

const ymd = (d: VnstatDay["date"]) => `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;

function daysBetween(a: string, b: string): number {
  const t = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round((t(b) - t(a)) / 86_400_000);
}

/** The day after the period ends: the next reset day after `start`. */
function nextPeriod(start: string, resetDay: number): string {
  const y = Number(start.slice(0, 4));
  const m = Number(start.slice(5, 7));
  const ny = m === 12 ? y + 1 : y;
  const nm = m === 12 ? 1 : m + 1;
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate();
  return `${ny}-${String(nm).padStart(2, "0")}-${String(Math.min(resetDay, last)).padStart(2, "0")}`;
}

/** `today`: the VPS's local date (YYYY-MM-DD). An error is a sentence for the user. */
export function transferFromVnstat(json: string, nic: string, today: string, resetDay: number, counts: "out" | "in+out"): TransferCount | { error: string } {
  let data: VnstatJson;
  try {
    data = JSON.parse(json) as VnstatJson;
  } catch {
    const line = json.trim().split("\n")[0] ?? "";
    return { error: `vnstat gave no JSON${line ? `: ${line}` : ""}` };
  }
  // jsonversion 1 (vnstat 1.x) counted KiB; every release the supported systems ship is 2.x.
  if (data.jsonversion !== "2") return { error: `vnstat's JSON version ${data.jsonversion ?? "?"} (relay6 reads version 2, vnstat 2.x)` };
  const iface = data.interfaces?.find((i) => i.name === nic);
  if (!iface) return { error: `vnstat does not count ${nic} (vnstat --add -i ${nic}, or let vnstatd add it)` };
  const start = periodStart(today, resetDay);
  let rx = 0;
  let tx = 0;
  for (const d of iface.traffic?.day ?? []) {
    const day = ymd(d.date);
    if (day < start || day > today) continue;
    rx += d.rx;
    tx += d.tx;
  }
  const created = iface.created?.date ? ymd(iface.created.date) : undefined;
  return {
    periodStart: start,
    rxBytes: rx,
    txBytes: tx,
    countedBytes: counts === "out" ? tx : rx + tx,
    ...(created && created > start ? { countingSince: created } : {}),
    daysElapsed: daysBetween(start, today) + 1,
    periodDays: daysBetween(start, nextPeriod(start, resetDay)),
  };
}
