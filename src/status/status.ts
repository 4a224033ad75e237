// `relay6 status`: what the VPS sees of each site (its peer's handshake and transfer, its
// BGP session and BFD session, the last failover events) and this period's transfer, as
// read in one SSH round trip by the VPS target (src/targets/vps/verify.ts); the checks
// `--check` fails on; and the text the command prints. Pure.
import { formatBytes } from "../plan/bfd.js";
import type { RelayPlan } from "../plan/relay.js";
import type { Finding } from "../verify/findings.js";
import { HANDSHAKE_MAX_AGE_S } from "../verify/wireguard.js";
import type { BfdSession } from "./bird.js";
import type { TransferCount } from "./vnstat.js";

/** One line of the VPS's event log (/var/lib/relay6/events.log, written by the rendered
 *  relay6-status check): a state change of one site, when it happened. */
export interface StatusEvent {
  at: number;
  site: string;
  what: "tunnel" | "bgp" | "bfd";
  from: string;
  to: string;
}

export interface SiteView {
  site: string;
  mode: "static" | "bgp-bfd";
  /** The router's transit address (the VPS finds the site's peer by it). */
  transit: string;
  /** The site's peer on wg0; absent when wg0 has none for it. */
  peer?: { endpoint: string; latestHandshake: number; rxBytes: number; txBytes: number };
  /** bgp-bfd: the site's BGP protocol in bird (null: bird has none of that name). */
  bgp?: { protocol: string; state: string; bgpState?: string; since?: number; lastError?: string } | null;
  /** bgp-bfd: bird's BFD session to the router (null: none). */
  bfd?: BfdSession | null;
  /** The newest events of this site in the VPS's event log, oldest first. */
  events: StatusEvent[];
}

export interface VpsView {
  /** The VPS's clock (seconds), its UTC offset ("+0000") and local date. */
  now: number;
  tz: string;
  today: string;
  wg: { up: boolean; listenPort?: number };
  /** Present when a site is bgp-bfd. */
  bird?: { running: boolean };
  sites: SiteView[];
  /** vps.transfer: this period's count, or why there is none. */
  transfer?: TransferCount | { error: string };
  /** Whether the VPS keeps an event log (vps.alerts renders the check that writes it). */
  eventLog: boolean;
}

export const EVENTS_SHOWN = 5;

/** The event log's lines: "EPOCH SITE WHAT FROM TO". Lines of other shapes are skipped. */
export function parseEvents(text: string): StatusEvent[] {
  const out: StatusEvent[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+(?:\.\d+)?) (\S+) (tunnel|bgp|bfd) (\S+) (\S+)$/.exec(line.trim());
    if (m) out.push({ at: Number(m[1]), site: m[2]!, what: m[3] as StatusEvent["what"], from: m[4]!, to: m[5]! });
  }
  return out;
}

const ageText = (s: number) => (s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172_800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86_400).toFixed(1)} days`);

/** What --check fails on, named `<site>.<check>` and `vps.<check>`. */
export function statusChecks(relay: RelayPlan, v: VpsView): Finding[] {
  const out: Finding[] = [];
  out.push(v.wg.up ? { check: "vps.wg0", status: "pass", detail: `wg0 up, UDP ${v.wg.listenPort ?? "?"}` } : { check: "vps.wg0", status: "fail", detail: "wg0 is not up on the VPS", hint: "systemctl status wg-quick@wg0", fault: "wg-down" });
  if (v.bird) out.push(v.bird.running ? { check: "vps.bird", status: "pass", detail: "bird is running" } : { check: "vps.bird", status: "fail", detail: "bird does not answer on its control socket", hint: "systemctl status bird", fault: "bird-down" });
  for (const s of v.sites) {
    const n = (c: string) => `${s.site}.${c}`;
    if (v.wg.up) {
      if (!s.peer) out.push({ check: n("tunnel"), status: "fail", detail: `wg0 has no peer for ${s.transit}`, hint: "the router's key is not known yet, or the VPS was not applied since the site was added (relay6 apply vps)", fault: "wrong-public-key" });
      else {
        const age = s.peer.latestHandshake > 0 ? v.now - s.peer.latestHandshake : Infinity;
        out.push(
          age <= HANDSHAKE_MAX_AGE_S
            ? { check: n("tunnel"), status: "pass", detail: `handshake ${ageText(age)} ago from ${s.peer.endpoint}` }
            : { check: n("tunnel"), status: "fail", detail: s.peer.latestHandshake > 0 ? `no handshake for ${ageText(age)} (more than ${HANDSHAKE_MAX_AGE_S} s)` : "no handshake yet", hint: "the router cannot reach the VPS's UDP port, or it is down", fault: "tunnel-down" },
        );
      }
    }
    if (s.mode !== "bgp-bfd" || !v.bird?.running) continue;
    const b = s.bgp;
    out.push(
      b && b.bgpState === "Established"
        ? { check: n("bgp"), status: "pass", detail: `BGP Established${b.since ? ` for ${ageText(v.now - b.since)}` : ""}` }
        : { check: n("bgp"), status: "fail", detail: b ? `BGP ${b.bgpState ?? b.state}${b.since ? ` for ${ageText(v.now - b.since)}` : ""}${b.lastError ? ` (${b.lastError})` : ""}` : "bird has no BGP session for this site", hint: b ? "the router's default route is gone: IPv6 clients fall back to IPv4" : "apply the VPS (relay6 apply vps)", fault: "bgp-down" },
    );
    const f = s.bfd;
    out.push(
      f && f.state === "Up"
        ? { check: n("bfd"), status: "pass", detail: `BFD Up${f.since ? ` for ${ageText(v.now - f.since)}` : ""}, ${Math.round(f.interval * 1000)} ms, timeout ${Math.round(f.timeout * 1000)} ms` }
        : { check: n("bfd"), status: "fail", detail: f ? `BFD ${f.state}${f.since ? ` for ${ageText(v.now - f.since)}` : ""}` : "no BFD session to the router", hint: "BFD packets do not cross the tunnel", fault: "bfd-down" },
    );
  }
  const q = relay.quota;
  if (q && v.transfer) {
    const t = v.transfer;
    if ("error" in t) out.push({ check: "vps.transfer", status: "fail", detail: t.error, hint: "setup.sh installs vnstat when vps.transfer is set (relay6 apply vps)" });
    else {
      const share = t.countedBytes / q.quotaBytes;
      const pace = (t.countedBytes / t.daysElapsed) * t.periodDays;
      const detail = `${formatBytes(t.countedBytes)} of ${q.monthlyGB} GB (${(share * 100).toFixed(1)} %) counted ${q.counts} since ${t.periodStart}${t.countingSince ? ` (vnstat counts only since ${t.countingSince})` : ""}`;
      if (share * 100 >= q.alertPercent)
        out.push({ check: "vps.transfer", status: "fail", detail, hint: `past vps.transfer.alertPercent (${q.alertPercent} %): providers null-route or throttle at the quota`, fault: "quota" });
      else if (pace > q.quotaBytes)
        out.push({ check: "vps.transfer", status: "warn", detail: `${detail}; at this pace ${formatBytes(pace)} by the period's end` });
      else out.push({ check: "vps.transfer", status: "pass", detail });
    }
  }
  return out;
}

export interface FormatOptions {
  /** ANSI colours (a terminal, and no NO_COLOR). */
  color: boolean;
}

const paint = (on: boolean, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** The VPS's local time of an epoch, as the VPS would write it. */
export function localTime(at: number, tz: string): string {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(tz);
  const off = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return new Date(at * 1000 + off * 60_000).toISOString().replace("T", " ").slice(0, 19);
}

/** The status for people: a line per site and check; the router's view under its site. */
export interface RouterView {
  site: string;
  /** The router target's verify findings (router.*); none: the router was not read. */
  findings: Finding[];
  /** Why it was not read (no access given). */
  skipped?: string;
}

export function formatStatus(relay: RelayPlan, v: VpsView, checks: readonly Finding[], router: RouterView | undefined, o: FormatOptions): string {
  const L: string[] = [];
  const mark = (st: Finding["status"]) => paint(o.color, st === "pass" ? 32 : st === "fail" ? 31 : st === "warn" ? 33 : 2, st === "pass" ? "ok  " : st.toUpperCase().padEnd(4));
  const byCheck = new Map(checks.map((f) => [f.check, f]));
  L.push(`${relay.kind === "site" ? "site" : "relay"} ${relay.relay}: the VPS ${relay.vps.ssh.host} at ${localTime(v.now, v.tz)} ${v.tz}`);
  for (const c of ["vps.wg0", "vps.bird"]) {
    const f = byCheck.get(c);
    if (f) L.push(`  ${mark(f.status)} ${f.detail}`);
  }
  for (const s of v.sites) {
    const mode = s.mode === "bgp-bfd" ? "bgp-bfd" : "static";
    L.push("", `site ${s.site} (${mode}, ${s.transit})`);
    for (const c of ["tunnel", "bgp", "bfd"]) {
      const f = byCheck.get(`${s.site}.${c}`);
      if (f) L.push(`  ${mark(f.status)} ${c.padEnd(7)} ${f.detail}`);
    }
    if (s.peer) L.push(`       transfer rx ${formatBytes(s.peer.rxBytes)}, tx ${formatBytes(s.peer.txBytes)} (since wg0 came up)`);
    const ev = s.events.slice(-EVENTS_SHOWN);
    if (ev.length > 0) {
      L.push("       last events:");
      for (const e of ev) L.push(`         ${localTime(e.at, v.tz)}  ${e.what} ${e.from} → ${e.to}`);
    } else {
      const last = [s.bgp?.since, s.bfd?.since].filter((x): x is number => typeof x === "number").sort((a, b) => b - a)[0];
      const note = v.eventLog ? "no events logged" : "no event log on the VPS (vps.alerts installs the check that keeps one)";
      L.push(`       ${note}${last !== undefined ? `; last BGP/BFD change ${localTime(last, v.tz)} (${ageText(v.now - last)} ago)` : ""}`);
    }
    if (router?.site !== s.site) continue;
    if (router.skipped) L.push(`       the router's view: not read (${router.skipped})`);
    else {
      L.push("       the router's view:");
      for (const f of router.findings) L.push(`  ${mark(f.status)} ${f.check.replace(/^router\./, "").padEnd(14)} ${f.detail}`);
    }
  }
  const t = byCheck.get("vps.transfer");
  if (t) L.push("", `transfer quota`, `  ${mark(t.status)} ${t.detail}`);
  const fails = [...checks, ...(router?.findings ?? [])].filter((f) => f.status === "fail").length;
  L.push("", fails === 0 ? paint(o.color, 32, "all checks pass") : paint(o.color, 31, `${fails} check${fails === 1 ? "" : "s"} failing`));
  return L.join("\n") + "\n";
}

/** --check: one line per failure, nothing when all pass. */
export function failureLines(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.status === "fail").map((f) => `FAIL ${f.check}: ${f.detail}`);
}
