// `relay6 lab test`: each claim about the relay, checked against the running lab: every
// item per site, and for a relay of several sites the isolation between them (a client of
// one site cannot open a connection to another site's client; a router cannot send from
// another site's prefix past the VPS's wg0) and the other sites' named services, which
// they may open as internet hosts may.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadInput, planInput, renderInput } from "../pipeline.js";
import { formatAddress6, parsePrefix6, transitPing } from "../net/ipv6.js";
import type { Plan } from "../plan/plan.js";
import { wgDown, wgUp } from "./daemons.js";
import { sleep, waitFor, isRunning } from "./exec.js";
import { daemon, ipIn, nsOf, nsRun } from "./nodes.js";
import { handshakeAge, routerDefault, slaacAddress } from "./probes.js";
import { drainChecks } from "./drain-checks.js";
import { labSites, requireReadyLab, saveState, type LabClient, type LabSite, type LabState } from "./state.js";
import { INTERNET_ROLE } from "./topology.js";
import { kindChecks, relayKind } from "./kinds.js";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

type Ready = ReturnType<typeof requireReadyLab>;
type Check = { name: string; run: (s: Ready) => Promise<string> };

/** Thrown inside a check: the claim does not hold; the message says what was seen. */
class Failed extends Error {}
const fail = (msg: string): never => {
  throw new Failed(msg);
};

const BULK_BYTES = 8 * 1024 * 1024;
const IPERF_PORT = 5201;
const CLOSED_PORT = 5202;

export async function labTest(
  name: string,
  onResult?: (r: CheckResult) => void,
  only?: (checkName: string) => boolean,
): Promise<CheckResult[]> {
  const state = requireReadyLab(name);
  const results: CheckResult[] = [];
  for (const c of checksFor(state).filter((x) => !only || only(x.name))) {
    const t0 = Date.now();
    let r: CheckResult;
    try {
      r = { name: c.name, ok: true, detail: await c.run(state), ms: Date.now() - t0 };
    } catch (e) {
      r = { name: c.name, ok: false, detail: (e as Error).message, ms: Date.now() - t0 };
    } finally {
      await stopTransient(state);
    }
    results.push(r);
    onResult?.(r);
  }
  return results;
}

function checksFor(s: Ready): Check[] {
  const sites = labSites(s);
  const multi = sites.length > 1;
  // A relay's items carry their site's name; a standalone site's are named as they always were.
  const named = (site: LabSite) => (c: Check): Check => (multi ? { ...c, name: `${site.site}: ${c.name}` } : c);
  return [
    ...sites.flatMap((site) => siteChecks(s, site).map(named(site))),
    ...(multi ? isolationChecks(s, sites) : []),
    // The recipe's /48 trap needs the provider's connected prefix on the NIC: a routed
    // /40-/63 (a /64 site's AllowedIPs hold its whole prefix anyway; on-link, the VPS's own
    // address is in another /64). The other kinds' traps are kinds.ts's.
    ...(relayKind(s) === "routed" ? [named(sites[0]!)({ name: "negative case: AllowedIPs = the whole prefix loses the return traffic", run: async () => trapCase(s, sites[0]!) })] : []),
  ];
}

/** Every item of one site (its router's node, its clients). */
function siteChecks(s: Ready, site: LabSite): Check[] {
  const plan = site.plan;
  const internetHost = s.addresses.internetHost;
  const wgR = plan.router.tunnelInterface;
  const all = site.clients;
  // A ULA-only segment's client has no global address: the internet checks are the others'.
  const clients = all.filter((c) => c.global !== false);
  const rtr = site.rtr.role;
  const checks: Check[] = [
    {
      name: "WireGuard handshake (router and VPS)",
      run: async () => {
        const r = await handshakeAge(s, rtr, wgR);
        const v = await handshakeAge(s, "vps", "wg0", site.routerPublicKey);
        if (r === undefined || v === undefined) fail(`no handshake: router ${r ?? "none"}, VPS ${v ?? "none"}`);
        if (r! > 180 || v! > 180) fail(`last handshake too old: router ${r} s, VPS ${v} s`);
        return `latest handshake ${Math.round(r!)} s ago (router), ${Math.round(v!)} s ago (VPS)`;
      },
    },
    {
      name: "transit pings both ways",
      run: async () => {
        // A link-local transit (a /64 site) is scoped, and the router pings from its own
        // transit address, as relay6-gw-check and verify do (wg0 may hold another).
        await ping(s, "vps", ...transitPing(plan.transit.vps.address, plan.transit.router.address, "wg0").split(" "));
        await ping(s, rtr, ...transitPing(plan.transit.router.address, plan.transit.vps.address, wgR).split(" "));
        return `VPS → ${plan.transit.router.address} and router → ${plan.transit.vps.address}`;
      },
    },
    ...all.map((c) => ({
      name: `${c.role} (${c.segment}): SLAAC address in ${c.prefix} and RDNSS`,
      run: async () => {
        const a = (await slaacAddress(s, c)) ?? fail(`no address of ${c.prefix} on eth0`);
        const want = expectedRdnss(plan, c);
        const got = await rdnssSeen(s, c);
        if (want.length === 0) return `${a}; RDNSS not advertised (dns.advertise: none)`;
        if (got.length === 0) fail(`${a}, but the router advertisement held no RDNSS option`);
        for (const w of want) if (!got.includes(w)) fail(`RDNSS ${got.join(" ")} does not hold ${w}`);
        return `${a}; RDNSS ${got.join(" ")}`;
      },
    })),
    ...clients.map((c) => ({
      name: `${c.role} (${c.segment}): ping and bulk TCP to the internet host and back`,
      run: async () => {
        await ping(s, c.role, internetHost);
        await iperfServer(s, INTERNET_ROLE, IPERF_PORT);
        const up = await iperf(s, c.role, internetHost, IPERF_PORT, false);
        const down = await iperf(s, c.role, internetHost, IPERF_PORT, true);
        return `ping ok; ${mb(up.bytes)} up at ${mbit(up.bps)}, ${mb(down.bytes)} down at ${mbit(down.bps)}`;
      },
    })),
    {
      name: "VPS routes every client into wg0 (ip -6 route get)",
      run: async () => {
        const seen: string[] = [];
        for (const c of clients) {
          const a = (await slaacAddress(s, c)) ?? fail(`${c.role} has no address`);
          const r = await ipIn(s, "vps", ["-6", "route", "get", a]);
          if (!/ dev wg0 /.test(r.stdout + " ")) fail(`ip -6 route get ${a}: ${r.stdout.trim() || r.stderr.trim()}`);
          seen.push(`${a} dev wg0`);
        }
        return seen.join("; ");
      },
    },
    {
      name: plan.failover.mode === "bgp-bfd" ? "router's ::/0 comes from BGP" : "router's ::/0 via the VPS's transit address",
      run: async () => {
        const d = (await routerDefault(s, rtr)) ?? fail("the router has no ::/0");
        if (plan.failover.mode === "bgp-bfd" && !/proto bgp/.test(d)) fail(`::/0 is not from BGP: ${d}`);
        if (plan.failover.mode === "static" && !d.includes(`via ${plan.transit.vps.address} dev ${wgR}`)) fail(`unexpected ::/0: ${d}`);
        return d;
      },
    },
    {
      name: "unsolicited inbound to a client is dropped; client-initiated flows",
      run: async () => {
        const c = clients[0]!;
        const a = (await slaacAddress(s, c)) ?? fail(`${c.role} has no address`);
        await iperfServer(s, c.role, CLOSED_PORT);
        const fromInternet = await iperfTry(s, INTERNET_ROLE, a, CLOSED_PORT, false, 2000);
        if (fromInternet.ok) return fail(`the internet host opened a connection to ${a} port ${CLOSED_PORT}`);
        // The same listener answers from the router's side: only the firewall stopped it.
        const fromRouter = await iperfTry(s, rtr, a, CLOSED_PORT, false, 3000);
        if (!fromRouter.ok) fail(`control failed: the router cannot reach ${a} port ${CLOSED_PORT} either (${fromRouter.error})`);
        await iperfServer(s, INTERNET_ROLE, IPERF_PORT);
        const out = await iperf(s, c.role, internetHost, IPERF_PORT, false);
        return `internet → [${a}]:${CLOSED_PORT}: ${fromInternet.error}; router → same port: connected; ${c.role} → internet: ${mb(out.bytes)}`;
      },
    },
    {
      name: "ICMPv6 packet-too-big dropped on the path: bulk TCP both ways, both initiators",
      // (run from a client that ignores the RA's MTU, so that the MSS clamps are what it takes)
      run: async () => {
        const c = clients.find((x) => inboundPortOpen(plan, x, IPERF_PORT)) ?? clients[0]!;
        const a = (await slaacAddress(s, c)) ?? fail(`${c.role} has no address`);
        // A host that ignores the RA's MTU (1500 on a 1420 tunnel): only the MSS clamps
        // can save its TCP once packet-too-big is lost.
        // The RA's MTU sits on the RA-learned default route; a preferred default route
        // without it makes the client size its TCP segments for a 1500-byte link.
        const ra = (await ipIn(s, c.role, ["-6", "route", "show", "default", "proto", "ra"])).stdout;
        const gw = /via (\S+)/.exec(ra)?.[1] ?? fail(`${c.role} has no default route from the router's RA`);
        const ignoreRaMtu = ["-6", "route", "add", "default", "via", gw, "dev", "eth0", "metric", "512"];
        const mtuBefore = (await nsRun(s, c.role, ["sysctl", "-n", "net.ipv6.conf.eth0.mtu"])).stdout.trim() || "1500";
        const setMtu = (raMtu: 0 | 1, mtu: string) =>
          nsRun(s, c.role, ["sysctl", "-q", "-w", `net.ipv6.conf.eth0.accept_ra_mtu=${raMtu}`, "-w", `net.ipv6.conf.eth0.mtu=${mtu}`]);
        await setMtu(0, "1500");
        const added = await ipIn(s, c.role, ignoreRaMtu);
        if (added.code !== 0) fail(`ip ${ignoreRaMtu.join(" ")}: ${added.stderr.trim()}`);
        await dropPtb(s, true);
        try {
          const parts: string[] = [];
          await iperfServer(s, INTERNET_ROLE, IPERF_PORT);
          for (const reverse of [false, true]) {
            await forgetPmtu(s, c.role);
            const r = await iperf(s, c.role, internetHost, IPERF_PORT, reverse);
            parts.push(`${c.role}→internet ${reverse ? "download" : "upload"} ${mb(r.bytes)}`);
          }
          if (inboundPortOpen(plan, c, IPERF_PORT)) {
            await iperfServer(s, c.role, IPERF_PORT);
            for (const reverse of [false, true]) {
              await forgetPmtu(s, c.role);
              const r = await iperf(s, INTERNET_ROLE, a, IPERF_PORT, reverse);
              parts.push(`internet→${c.role} ${reverse ? "download" : "upload"} ${mb(r.bytes)}`);
            }
          } else parts.push(`internet-initiated skipped: no segment opens tcp/${IPERF_PORT} (segments[].inbound)`);
          const drops = await ptbDrops(s);
          return `client ignoring the RA's MTU: ${parts.join(", ")}; packet-too-big dropped on the path: ${drops}`;
        } finally {
          await dropPtb(s, false);
          await ipIn(s, c.role, ["-6", "route", "del", "default", "via", gw, "dev", "eth0", "metric", "512"]);
          await setMtu(1, mtuBefore);
        }
      },
    },
    ...drainChecks(s, site),
    // The provider's kind (once, with the first site's clients) and the site's own /64 traps
    // (provider.ts, kinds.ts).
    ...kindChecks(s, site, site === labSites(s)[0]),
  ];
  return checks;
}

// --- a relay's sites among themselves ---------------------------------------------------

/** Each site against the next one round the relay (a→b, b→c, ..., the last → a): its
 *  client cannot open a connection into the other's LAN, its router cannot send from the
 *  other's prefix past the VPS's wg0, and it opens the other's named inbound services as
 *  an internet host does. */
function isolationChecks(s: Ready, sites: LabSite[]): Check[] {
  const pairs = sites.map((a, i) => [a, sites[(i + 1) % sites.length]!] as const);
  const out: Check[] = [];
  for (const [a, b] of pairs)
    out.push(
      { name: `isolation: a client of ${a.site} cannot open a TCP connection to a client of ${b.site}`, run: async () => crossSite(s, a, b) },
      { name: `isolation: ${a.site}'s router sending from ${b.site}'s prefix never gets past the VPS's wg0`, run: async () => spoofed(s, a, b) },
    );
  for (const [a, b] of pairs) {
    const svc = openService(b);
    if (svc) out.push({ name: `a client of ${a.site} opens ${b.site}'s named inbound service tcp/${svc.port} as internet hosts do`, run: async () => namedService(s, a, b, svc) });
  }
  return out;
}

/** A segment-wide TCP inbound service of a site (segments[].inbound without host). */
function openService(site: LabSite): { client: LabClient; port: number } | undefined {
  for (const c of site.clients) {
    const seg = site.plan.segments.find((x) => x.name === c.segment);
    const svc = seg?.inbound.find((i) => i.proto === "tcp" && i.host === undefined && i.port !== CLOSED_PORT);
    if (svc) return { client: c, port: svc.port };
  }
  return undefined;
}

async function crossSite(s: Ready, a: LabSite, b: LabSite): Promise<string> {
  const from = a.clients[0]!;
  const to = b.clients[0]!;
  const addr = (await slaacAddress(s, to)) ?? fail(`${to.role} has no address`);
  await ping(s, from.role, s.addresses.internetHost); // the client is online
  await iperfServer(s, to.role, CLOSED_PORT);
  const tried = await iperfTry(s, from.role, addr, CLOSED_PORT, false, 2000);
  if (tried.ok) return fail(`${from.role} (${a.site}) opened a connection to [${addr}]:${CLOSED_PORT} on ${b.site}`);
  // The same listener answers from its own router: only the relay's rules stopped it.
  const control = await iperfTry(s, b.rtr.role, addr, CLOSED_PORT, false, 3000);
  if (!control.ok) fail(`control failed: ${b.site}'s router cannot reach [${addr}]:${CLOSED_PORT} either (${control.error})`);
  return `${from.role} (${a.site}) → [${addr}]:${CLOSED_PORT} (${b.site}): ${tried.error}; ${b.site}'s router → same port: connected`;
}

async function namedService(s: Ready, a: LabSite, b: LabSite, svc: { client: LabClient; port: number }): Promise<string> {
  const from = a.clients[0]!;
  const addr = (await slaacAddress(s, svc.client)) ?? fail(`${svc.client.role} has no address`);
  await iperfServer(s, svc.client.role, svc.port);
  const r = await iperfTry(s, from.role, addr, svc.port, false, 3000);
  if (!r.ok) return fail(`${from.role} (${a.site}) could not open [${addr}]:${svc.port}, ${b.site}'s named service: ${r.error}`);
  return `${from.role} (${a.site}) → [${addr}]:${svc.port} (${b.site}, segments[].inbound): ${mb(r.bytes)}`;
}

const SPOOF_TAG = "relay6-lab-spoof";

/** Packets a tagged counting rule saw. */
async function tagged(s: LabState, role: string, table: string, chain: string): Promise<number> {
  const r = await nsRun(s, role, ["ip6tables", "-t", table, "-nvxL", chain]);
  const line = r.stdout.split("\n").find((l) => l.includes(SPOOF_TAG));
  return Number(line?.trim().split(/\s+/)[0] ?? "0");
}

async function spoofed(s: Ready, a: LabSite, b: LabSite): Promise<string> {
  const seg = parsePrefix6(b.plan.segments[0]!.prefix);
  if (!seg.ok) throw new Error("internal: a segment prefix that does not parse");
  const spoof = formatAddress6(seg.prefix.network | 0x5eedn);
  const wg = a.plan.router.tunnelInterface;
  const rule = (role: string, table: string, chain: string, match: string[]) => ({ role, table, chain, args: [...match, "-m", "comment", "--comment", SPOOF_TAG, "-j", "ACCEPT"] });
  const rules = [
    rule(a.rtr.role, "mangle", "POSTROUTING", ["-o", wg, "-s", spoof]),
    rule("vps", "raw", "PREROUTING", ["-i", "wg0", "-s", spoof]),
    rule("inet", "raw", "PREROUTING", ["-s", spoof]),
  ];
  const host = ["-6", "addr", "add", `${spoof}/128`, "dev", "lo", "nodad"];
  try {
    for (const r of rules) {
      const x = await nsRun(s, r.role, ["ip6tables", "-t", r.table, "-I", r.chain, "1", ...r.args]);
      if (x.code !== 0) fail(`ip6tables -t ${r.table} -I ${r.chain} in ${r.role}: ${x.stderr.trim()}`);
    }
    const added = await ipIn(s, a.rtr.role, host);
    if (added.code !== 0) fail(`ip ${host.join(" ")}: ${added.stderr.trim()}`);
    await nsRun(s, a.rtr.role, ["ping", "-6", "-n", "-c", "5", "-i", "0.2", "-W", "1", "-I", spoof, s.addresses.internetHost], { timeoutMs: 10_000 });
    const sent = await tagged(s, a.rtr.role, "mangle", "POSTROUTING");
    const past = await tagged(s, "vps", "raw", "PREROUTING");
    const arrived = await tagged(s, "inet", "raw", "PREROUTING");
    if (sent === 0) fail(`control failed: ${a.site}'s router sent nothing from ${spoof} into ${wg}`);
    if (past > 0 || arrived > 0) fail(`${a.site}'s router sent ${sent} packets from ${spoof} (${b.site}'s prefix): ${past} came out of the VPS's wg0, ${arrived} reached the internet host`);
    return `${a.site}'s router sent ${sent} packets from ${spoof} (${b.site}'s) into its tunnel; the VPS's wg0 let 0 through (not in ${a.site}'s AllowedIPs), the internet host got 0`;
  } finally {
    await ipIn(s, a.rtr.role, ["-6", "addr", "del", `${spoof}/128`, "dev", "lo"]);
    for (const r of rules) await nsRun(s, r.role, ["ip6tables", "-t", r.table, "-D", r.chain, ...r.args]);
  }
}

// --- helpers --------------------------------------------------------------------------

async function ping(s: LabState, role: string, ...to: string[]): Promise<void> {
  // A few tries: the first packet after a quiet spell may wait for neighbour discovery.
  const r = await nsRun(s, role, ["ping", "-6", "-n", "-c", "3", "-i", "0.2", "-W", "1", ...to], { timeoutMs: 10_000 });
  const m = /(\d+) received/.exec(r.stdout);
  if (!m || Number(m[1]) === 0) fail(`[${nsOf(s, role)}] ping ${to.join(" ")}: ${lastLine(r.stdout) || r.stderr.trim()}`);
}

const lastLine = (t: string) => t.trim().split("\n").slice(-2).join(" / ");
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const mbit = (bps: number) => `${(bps / 1e6).toFixed(0)} Mbit/s`;

function expectedRdnss(plan: Plan, c: LabClient): string[] {
  const a = plan.dns.advertise;
  if (a === "none") return [];
  if (a === "self") {
    const seg = plan.segments.find((x) => x.name === c.segment)!;
    return [seg.ula ? seg.ula.router.address : seg.router.address];
  }
  return a;
}

/** RDNSS addresses in the first router advertisement the client captured at bring-up. */
async function rdnssSeen(s: LabState, c: LabClient): Promise<string[]> {
  const pcap = join(s.dir, `ra-${c.role}.pcap`);
  // 24 bytes is the pcap header alone: tcpdump may not have written the packet yet.
  const size = () => {
    try {
      return statSync(pcap).size;
    } catch {
      return 0;
    }
  };
  await waitFor(`the router advertisement captured on ${c.role}`, () => (size() > 24 ? true : undefined), 5000, 50).catch(() => {
    fail(`${c.role} captured no router advertisement (${pcap})`);
  });
  const out = runSyncText(["tcpdump", "-r", pcap, "-n", "-vv"]);
  const found: string[] = [];
  for (const m of out.matchAll(/rdnss option[^\n]*?addr: ([0-9a-f:]+(?:\s+addr: [0-9a-f:]+)*)/g))
    for (const a of m[1]!.matchAll(/([0-9a-f:]{3,})/g)) found.push(a[1]!);
  return found;
}

function runSyncText(cmd: string[]): string {
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "ignore"] }).toString();
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? "");
  }
}

function inboundPortOpen(plan: Plan, c: LabClient, port: number): boolean {
  const seg = plan.segments.find((x) => x.name === c.segment);
  return !!seg?.inbound.some((i) => i.proto === "tcp" && i.port === port && i.host === undefined);
}

/** Short-lived helpers a check starts (iperf3 servers); stopped after each check. */
const transient: { pid: number }[] = [];

async function iperfServer(s: LabState, role: string, port: number): Promise<void> {
  const pid = daemon(s, role, `iperf3-${port}`, ["iperf3", "-s", "-p", String(port)]);
  transient.push({ pid });
  await waitFor(`iperf3 listening in ${nsOf(s, role)}:${port}`, async () => {
    const r = await nsRun(s, role, ["ss", "-Hltn", `sport = :${port}`]);
    return r.stdout.trim() !== "" ? true : undefined;
  }, 5000);
}

async function stopTransient(s: LabState): Promise<void> {
  for (const t of transient.splice(0)) {
    try {
      process.kill(-t.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    s.daemons = s.daemons.filter((d) => d.pid !== t.pid);
    for (let i = 0; i < 50 && isRunning(t.pid); i++) await sleep(10);
  }
  saveState(s);
}

async function iperfTry(
  s: LabState,
  role: string,
  to: string,
  port: number,
  reverse: boolean,
  connectTimeoutMs = 3000,
): Promise<{ ok: true; bytes: number; bps: number } | { ok: false; error: string }> {
  const bytes = BULK_BYTES;
  const args = ["iperf3", "-6", "-J", "-c", to, "-p", String(port), "-n", String(bytes), "--connect-timeout", String(connectTimeoutMs)];
  if (reverse) args.push("-R");
  const r = await nsRun(s, role, args, { timeoutMs: 10_000 });
  let j: { error?: string; end?: { sum_sent?: { bytes: number }; sum_received?: { bytes: number; bits_per_second: number } } } = {};
  try {
    j = JSON.parse(r.stdout);
  } catch {
    return { ok: false, error: (r.stderr || r.stdout).trim().slice(0, 200) || `exit ${r.code}` };
  }
  if (r.code !== 0 || j.error) return { ok: false, error: j.error ?? `exit ${r.code}` };
  // With -n, iperf3 exits 0 once the sender has sent every byte and the receiver has
  // acknowledged the end of the test; a stalled transfer never gets there (timeout).
  const sent = j.end?.sum_sent?.bytes ?? 0;
  const got = j.end?.sum_received?.bytes ?? 0;
  if (sent < bytes || got === 0) return { ok: false, error: `sent ${sent} of ${bytes} bytes, ${got} received` };
  return { ok: true, bytes: sent, bps: j.end?.sum_received?.bits_per_second ?? 0 };
}

async function iperf(s: LabState, role: string, to: string, port: number, reverse: boolean) {
  const r = await iperfTry(s, role, to, port, reverse);
  if (!r.ok) return fail(`[${nsOf(s, role)}] iperf3 -c ${to}${reverse ? " -R" : ""}: ${r.error}`);
  return r;
}

/** Each transfer starts without path MTUs learned by an earlier one: the client learns
 *  1420 from the router's packet-too-big on the LAN (which nothing drops), and would then
 *  announce a small MSS that hides a missing clamp on the other direction. */
async function forgetPmtu(s: LabState, client: string): Promise<void> {
  for (const role of [client, INTERNET_ROLE]) await ipIn(s, role, ["-6", "route", "flush", "cache"]);
}

/** A broken-PMTUD internet: inet drops every ICMPv6 packet-too-big it sees or sends. */
async function dropPtb(s: LabState, on: boolean): Promise<void> {
  for (const chain of ["INPUT", "FORWARD", "OUTPUT"]) {
    const rule = [chain, "-p", "ipv6-icmp", "--icmpv6-type", "packet-too-big", "-j", "DROP"];
    if (on) await nsRun(s, "inet", ["ip6tables", "-I", ...rule]);
    else while ((await nsRun(s, "inet", ["ip6tables", "-D", ...rule])).code === 0);
  }
}

async function ptbDrops(s: LabState): Promise<number> {
  const r = await nsRun(s, "inet", ["ip6tables", "-nvxL"]);
  let n = 0;
  for (const l of r.stdout.split("\n")) if (/packet-too-big|icmptype 2\b/.test(l) && /DROP/.test(l)) n += Number(l.trim().split(/\s+/)[0] ?? 0);
  return n;
}

// --- the recipe's trap ----------------------------------------------------------------

/** The VPS's wg0.conf rendered by the real VPS target from the same input, with the first
 *  site's AllowedIPs replaced by the routed prefix itself (what the recipe warns against). */
export function trapWgConf(s: Ready): string {
  const input = loadInput(s.siteFile).input;
  const [first, ...rest] = input.sites;
  const relay = planInput({ ...input, sites: [{ ...first!, allowedIps: [routedPrefix(s)] }, ...rest] });
  const sites = labSites(s);
  const arts = renderInput(relay, {
    secrets: {
      vpsPrivateKey: readKey(s, "vps/secrets/wg0.key"),
      routers: Object.fromEntries(sites.map((x) => [x.site, readKey(s, `${x.dir}router/secrets/${x.plan.router.tunnelInterface}.key`)])),
    },
    version: "lab",
  });
  const wg = arts.find((a) => a.path === "vps/files/etc/wireguard/wg0.conf");
  if (!wg) throw new Error("internal: the VPS target rendered no wg0.conf");
  return wg.content;
}

/** The prefix the provider routes to the lab's VPS. */
const routedPrefix = (s: Ready) => s.relay?.prefix ?? s.plan.prefix;

function readKey(s: LabState, rel: string): string {
  return readFileSync(join(s.dir, "artifacts", rel), "utf8").trim();
}

async function trapCase(s: Ready, site: LabSite): Promise<string> {
  const internetHost = s.addresses.internetHost;
  const c = site.clients[0]!;
  const plan = site.plan;
  const prefix = routedPrefix(s);
  const a = (await slaacAddress(s, c)) ?? fail(`${c.role} has no address`);
  const conf = `/etc/netns/${nsOf(s, "vps")}/wireguard/wg0.conf`;
  const saved = join(s.dir, "wg0.conf.good");
  copyFileSync(conf, saved);
  let detail = "";
  try {
    await wgDown(s, "vps", "wg0");
    writeFileSync(conf, trapWgConf(s), { mode: 0o600 });
    await wgUp(s, "vps", "wg0");
    // The tunnel itself works (transit is a connected /64 on wg0)...
    await waitFor("the transit ping under the trap config", async () =>
      (await nsRun(s, "vps", ["ping", "-6", "-n", "-c", "1", "-W", "1", plan.transit.router.address])).code === 0 ? true : undefined, 15_000, 100);
    const route = (await ipIn(s, "vps", ["-6", "route", "get", a])).stdout.trim();
    // ...but the client's return traffic does not come back.
    const r = await nsRun(s, c.role, ["ping", "-6", "-n", "-c", "5", "-i", "0.2", "-W", "1", internetHost], { timeoutMs: 15_000 });
    const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? "0");
    if (received > 0) fail(`with AllowedIPs = ${prefix} the client still got ${received}/5 replies (route: ${route})`);
    if (!new RegExp(` dev ${plan.vps.nic} `).test(route + " ")) fail(`expected the VPS to route ${a} to ${plan.vps.nic}, got: ${route}`);
    detail = `AllowedIPs = ${prefix}: 0/5 replies, VPS routes the client via ${plan.vps.nic} (${route.split("\n")[0]})`;
  } finally {
    await wgDown(s, "vps", "wg0").catch(() => {});
    copyFileSync(saved, conf);
    await wgUp(s, "vps", "wg0");
  }
  // The rendered AllowedIPs bring it back.
  await waitFor("::/0 back on the router", async () => ((await routerDefault(s, site.rtr.role)) ? true : undefined), 30_000, 50);
  await waitFor(`${c.role} to reach the internet host again`, async () =>
    (await nsRun(s, c.role, ["ping", "-6", "-n", "-c", "1", "-W", "1", internetHost])).code === 0 ? true : undefined, 30_000, 100);
  return `${detail}; with the rendered AllowedIPs replies are back`;
}

