// The VPS half of `relay6 verify`: the recipe's smoke test, run against the live VPS.
// One remote script gathers everything (one SSH round trip); pure code judges it.
import { parsePrefix6, scoped } from "../../net/ipv6.js";
import { isGlobal, type Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { connectSsh } from "../../remote/connect.js";
import { routerKeysOf } from "../../render/keys.js";
import { parseSections, sectionBody, sectionRc, sectionScript, type Finding, type Sections } from "../../verify/findings.js";
import { parseNdppdConf, ruleFor } from "../../verify/ndppd.js";
import { handshakeFinding, parseWgDump, wgDumpCommand } from "../../verify/wireguard.js";

type WgDump = NonNullable<ReturnType<typeof parseWgDump>>;
import type { VpsStatusRequest, VpsVerifyRequest } from "../types.js";
import { shQuote } from "../../render/quote.js";
import { parseBfdSessions, parseBirdProtocols } from "../../status/bird.js";
import { parseEvents, type SiteView, type VpsView } from "../../status/status.js";
import { transferFromVnstat } from "../../status/vnstat.js";
import { EVENTS_FILE } from "./alerts.js";
import { BIRD_PROTOCOL } from "./bird.js";
import { NDPPD_CONF } from "./ndppd.js";
import { movedAddress } from "./ownaddr.js";
import { sysctlKey } from "./setup.js";

/** Every ndppd of this network namespace, one line each: pid, then its command line; then
 *  the configuration the first one reads (its -c, else ndppd's default /etc/ndppd.conf;
 *  relay6's when none runs). */
const NDPPD_PROBE = [
  "conf=''",
  'for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] || continue',
  `  cmd=$(tr '\\0' ' ' < /proc/$p/cmdline); echo "pid $p $cmd"`,
  // ndppd's own default when it was started without -c.
  `  [ -n "$conf" ] || conf=$(set -- $cmd; c=/etc/ndppd.conf; while [ $# -gt 0 ]; do case "$1" in -c) c=$2; shift ;; --config=*) c=\${1#--config=} ;; esac; shift; done; echo "$c")`,
  "done",
  `echo "conf \${conf:-${NDPPD_CONF}}"; cat "\${conf:-${NDPPD_CONF}}"`,
].join("\n");

/** The sites a verify looks at: `only` (verify --site), else all. */
function chosen(relay: RelayPlan, only?: readonly string[]): Plan[] {
  return only ? relay.sites.filter((p) => only.includes(p.site)) : relay.sites;
}

/** Section and check names: a standalone site's as they always were; a relay's per site. */
const per = (relay: RelayPlan, plan: Plan, name: string) => (relay.kind === "site" ? name : `${plan.site}.${name}`);

export function vpsScript(relay: RelayPlan, only?: readonly string[]): string {
  const sites = chosen(relay, only);
  const cmds: [string, string][] = [
    ["now", "date +%s"],
    ["wg-dump", wgDumpCommand("wg0")],
  ];
  for (const plan of sites) cmds.push([per(relay, plan, "ping-transit"), `ping -6 -c 2 -i 0.2 -W 1 ${scoped(plan.transit.router.address, relay.vps.tunnelInterface)}`]);
  cmds.push(["forwarding", "sysctl -n net.ipv6.conf.all.forwarding"]);
  for (const plan of sites) for (const s of plan.segments.filter(isGlobal)) cmds.push([per(relay, plan, `route:${s.name}`), `ip -6 route get ${s.router.address}`]);
  if (relay.vps.onLink) cmds.push(["ndppd", NDPPD_PROBE]);
  if (movedAddress(relay)) {
    const nic = relay.vps.nic;
    cmds.push(["own-address", `ip -6 -o addr show dev ${nic}`], ["ra-pinfo", `sysctl -n net.ipv6.conf.${sysctlKey(nic)}.accept_ra_pinfo net.ipv6.conf.${sysctlKey(nic)}.accept_ra_rt_info_max_plen`]);
  }
  const bgp = sites.filter((p) => p.failover.mode === "bgp-bfd");
  if (bgp.length > 0) {
    cmds.push(["bird-status", "birdc show status"]);
    for (const plan of bgp) cmds.push([per(relay, plan, "bgp"), `birdc show protocols ${BIRD_PROTOCOL(plan)}`]);
    cmds.push(["bfd", "birdc show bfd sessions"]);
  }
  if (relay.vps.firewall === "ufw") cmds.push(["ufw", "ufw status verbose"]);
  return sectionScript(cmds);
}

/** `routerKeys`: each site's router public key as the VPS should name it (undefined: not
 *  known; a standalone site's only peer is then taken as the router). */
export function checkVps(relay: RelayPlan, sec: Sections, routerKeys: ReadonlyMap<string, string | undefined>, only?: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const sites = chosen(relay, only);
  const now = Number(sectionBody(sec.get("now")).trim());
  const wg = sectionRc(sec.get("wg-dump")) === 0 ? parseWgDump(sectionBody(sec.get("wg-dump"))) : undefined;
  if (!wg) {
    out.push({ check: "vps.wg0", status: "fail", detail: "wg0 is not up", hint: "run setup.sh or `systemctl status wg-quick@wg0`", fault: "wg-down" });
  } else {
    out.push({ check: "vps.wg0", status: "pass", detail: `wg0 up, listening on UDP ${wg.listenPort}` });
    for (const plan of sites) out.push(...peerFindings(relay, plan, wg, now, routerKeys.get(plan.site)));
  }
  for (const plan of sites) out.push(...transitFindings(relay, plan, sec));
  const fwd = sectionBody(sec.get("forwarding")).trim();
  out.push(fwd === "1" ? { check: "vps.forwarding", status: "pass", detail: "IPv6 forwarding on" } : { check: "vps.forwarding", status: "fail", detail: `net.ipv6.conf.all.forwarding = ${fwd || "?"}`, hint: "sysctl -p /etc/sysctl.d/99-relay6.conf" });
  if (relay.vps.onLink) out.push(...ndppdFindings(relay, sites, sectionBody(sec.get("ndppd"))));
  if (movedAddress(relay)) out.push(...ownAddressFindings(relay, sectionBody(sec.get("own-address")), sectionBody(sec.get("ra-pinfo"))));

  const bgp = sites.filter((p) => p.failover.mode === "bgp-bfd");
  if (bgp.length > 0) {
    if (sectionRc(sec.get("bird-status")) !== 0) {
      out.push({ check: "vps.bird", status: "fail", detail: "bird does not answer on its control socket", hint: "systemctl status bird; journalctl -u bird", fault: "bird-down" });
    } else {
      out.push({ check: "vps.bird", status: "pass", detail: "bird is running" });
      for (const plan of bgp) out.push(...bgpFindings(relay, plan, sec));
    }
  }
  if (relay.vps.firewall === "ufw") out.push(firewallFinding(relay, sites, sectionBody(sec.get("ufw"))));
  return out;
}

/** vps.onLink: ndppd runs, and its configuration answers for every routed /64 with a
 *  static rule on the NIC. */
export function ndppdFindings(relay: RelayPlan, sites: Plan[], text: string): Finding[] {
  const nic = relay.vps.nic;
  const pids = text.split("\n").filter((l) => l.startsWith("pid "));
  if (pids.length === 0)
    return [{ check: "vps.ndppd", status: "fail", detail: "ndppd is not running", hint: "the provider's neighbour solicitations for the LAN go unanswered: every packet to the LAN is lost. systemctl status ndppd; journalctl -u ndppd", fault: "ndppd-down" }];
  const out: Finding[] = [{ check: "vps.ndppd", status: "pass", detail: `ndppd is running (${pids.length === 1 ? "pid " + pids[0]!.split(" ")[1] : `${pids.length} processes`})` }];
  const confAt = text.indexOf("\nconf ");
  const confLine = confAt >= 0 ? text.slice(confAt + 1).split("\n")[0]! : "conf ?";
  const body = confAt >= 0 ? text.slice(confAt + 1).split("\n").slice(1).join("\n") : "";
  const parsed = parseNdppdConf(body);
  const file = confLine.slice(5);
  if (!parsed.ok) return [...out, { check: "vps.ndppd-rules", status: "fail", detail: `${file} does not parse: ${parsed.reason} (line ${parsed.line})`, hint: "apply the rendered ndppd.conf (relay6 apply vps)", fault: "ndp-proxy-missing" }];
  const problems: string[] = [];
  for (const plan of sites)
    for (const s of plan.segments.filter(isGlobal)) {
      const net = parsePrefix6(s.prefix);
      if (!net.ok) continue;
      const r = ruleFor(parsed.conf, nic, net.prefix);
      if (!r) problems.push(`no rule on ${nic} covers ${s.prefix} (segment ${s.name})`);
      else if (r.method !== "static") problems.push(`${s.prefix} (segment ${s.name}) falls under rule ${r.prefix} (${file}:${r.line}) with method ${r.method}${r.via ? ` ${r.via}` : ""}: over WireGuard only static can answer`);
    }
  out.push(
    problems.length === 0
      ? { check: "vps.ndppd-rules", status: "pass", detail: `${file}: static rules on ${nic} cover ${relay.vps.ndp?.rules.filter((r) => r.endsWith("/64")).join(", ") ?? "the LAN"}` }
      : { check: "vps.ndppd-rules", status: "fail", detail: problems.join("; "), hint: "every packet to those LAN hosts is lost: apply the rendered ndppd.conf (relay6 apply vps) and restart ndppd", fault: "ndp-proxy-missing" },
  );
  return out;
}

/** A routed /64 holding the VPS's own address: the address has no connected route, and
 *  RAs may not add one. */
export function ownAddressFindings(relay: RelayPlan, addrs: string, sysctls: string): Finding[] {
  const own = movedAddress(relay)!;
  const line = addrs.split("\n").find((l) => l.includes(` inet6 ${own.cidr} `));
  const [pinfo, plen] = sysctls.trim().split(/\s+/);
  const out: Finding[] = [];
  if (!line) out.push({ check: "vps.own-address", status: "warn", detail: `${own.cidr} is not on ${relay.vps.nic}`, hint: "the VPS has another address; vps.upstream.address should say which" });
  else if (!/noprefixroute/.test(line)) out.push({ check: "vps.own-address", status: "fail", detail: `${own.cidr} on ${relay.vps.nic} keeps its connected ${own.prefix}: it beats the /64 into wg0`, hint: "/etc/wireguard/relay6-vps-net.sh up (relay6 apply vps); the provider's network configuration may have put it back", fault: "vps-address-connected" });
  else out.push({ check: "vps.own-address", status: "pass", detail: `${own.cidr} on ${relay.vps.nic} without a connected route (noprefixroute)` });
  out.push(
    pinfo === "0" && plen !== undefined && Number(plen) < 64
      ? { check: "vps.ra-prefix", status: "pass", detail: "RAs add no prefix route (accept_ra_pinfo = 0, accept_ra_rt_info_max_plen below 64)" }
      : { check: "vps.ra-prefix", status: "fail", detail: `accept_ra_pinfo = ${pinfo ?? "?"}, accept_ra_rt_info_max_plen = ${plen ?? "?"}: an RA can put ${own.prefix} back on the NIC`, hint: "sysctl -p /etc/sysctl.d/99-relay6.conf", fault: "vps-address-connected" },
  );
  return out;
}

function peerFindings(relay: RelayPlan, plan: Plan, wg: WgDump, now: number, expectedRouterKey: string | undefined): Finding[] {
  const out: Finding[] = [];
  const n = (name: string) => `vps.${per(relay, plan, name)}`;
  if (!expectedRouterKey && relay.kind === "relay") return [{ check: n("peer-key"), status: "skip", detail: `site ${plan.site}: its router's public key is not known yet (router.publicKey)` }];
  const peer = expectedRouterKey ? wg.peers.find((p) => p.publicKey === expectedRouterKey) : wg.peers[0];
  if (expectedRouterKey && !peer)
    out.push({
      check: n("peer-key"),
      status: "fail",
      detail: `no peer with the router's public key ${expectedRouterKey} (peers: ${wg.peers.map((p) => p.publicKey).join(", ") || "none"})`,
      hint: "the VPS's wg0.conf names another key than the router holds: re-render and apply, or fix router.publicKey",
      fault: "wrong-public-key",
    });
  else if (peer) {
    if (expectedRouterKey) out.push({ check: n("peer-key"), status: "pass", detail: "the router's public key is the peer" });
    out.push(
      handshakeFinding(n("handshake"), peer, now, `is UDP ${plan.wireguard.port} reaching the VPS (provider firewall, ufw)? does the router's peer hold this VPS's public key and endpoint ${plan.vps.endpoint}:${plan.wireguard.port}?`),
    );
    const missing = plan.vps.allowedIps.filter((a) => !peer.allowedIps.includes(a));
    out.push(
      missing.length === 0
        ? { check: n("allowed-ips"), status: "pass", detail: `AllowedIPs hold the transit /128 and ${plan.segments.filter(isGlobal).length} segment /64s` }
        : { check: n("allowed-ips"), status: "fail", detail: `AllowedIPs lack ${missing.join(", ")}`, hint: "apply the rendered wg0.conf (relay6 apply vps): return traffic for those hosts leaves by the NIC", fault: "allowed-ips-missing-segment" },
    );
  }
  return out;
}

function transitFindings(relay: RelayPlan, plan: Plan, sec: Sections): Finding[] {
  const out: Finding[] = [];
  const n = (name: string) => `vps.${per(relay, plan, name)}`;
  const ping = sec.get(per(relay, plan, "ping-transit"));
  out.push(
    sectionRc(ping) === 0
      ? { check: n("transit-ping"), status: "pass", detail: `${plan.transit.router.address} answers over the tunnel` }
      : { check: n("transit-ping"), status: "fail", detail: `${plan.transit.router.address} does not answer`, hint: "no handshake, or the router lacks its transit address or drops ICMPv6 from the tunnel", fault: "tunnel-down" },
  );
  for (const s of plan.segments.filter(isGlobal)) {
    const r = sectionBody(sec.get(per(relay, plan, `route:${s.name}`)));
    out.push(
      / dev wg0( |$)/m.test(r)
        ? { check: n(`route.${s.name}`), status: "pass", detail: `${s.prefix} goes into wg0` }
        : { check: n(`route.${s.name}`), status: "fail", detail: `ip -6 route get ${s.router.address}: ${r.trim().split("\n")[0] ?? ""}`, hint: `${s.prefix} must be in wg0's AllowedIPs (more specific than the NIC's connected prefix)`, fault: "allowed-ips-missing-segment" },
    );
  }
  return out;
}

function bgpFindings(relay: RelayPlan, plan: Plan, sec: Sections): Finding[] {
  if (plan.failover.mode !== "bgp-bfd") return [];
  const out: Finding[] = [];
  const n = (name: string) => `vps.${per(relay, plan, name)}`;
  const f = plan.failover;
  const bgp = sectionBody(sec.get(per(relay, plan, "bgp")));
  out.push(
    /Established/.test(bgp)
      ? { check: n("bgp"), status: "pass", detail: `BGP ${BIRD_PROTOCOL(plan)} Established with ${plan.transit.router.address} (AS${f.routerAs})` }
      : { check: n("bgp"), status: "fail", detail: `BGP ${BIRD_PROTOCOL(plan)}: ${bgp.trim().split("\n").pop() ?? "absent"}`, hint: `is TCP 179 open on wg0 from ${plan.transit.router.address}? does the router's BGP connection use AS${f.vpsAs} for the VPS?`, fault: "bgp-down" },
  );
  const row = sectionBody(sec.get("bfd")).split("\n").find((l) => l.trim().startsWith(plan.transit.router.address + " ") || l.includes(` ${plan.transit.router.address} `));
  const cols = row?.trim().split(/\s+/) ?? [];
  // IP address  Interface  State  Since  Interval  Timeout
  const state = cols[2];
  const interval = Number(cols[cols.length - 2]);
  const timeout = Number(cols[cols.length - 1]);
  const wantInterval = f.bfd.intervalMs / 1000;
  const wantTimeout = f.bfd.detectMs / 1000;
  if (state !== "Up")
    out.push({ check: n("bfd"), status: "fail", detail: row ? `BFD session to ${plan.transit.router.address} is ${state}` : "no BFD session to the router", hint: "is UDP 3784 open on wg0 from the router, and BFD on in the router's BGP connection?", fault: "bfd-down" });
  else if (Math.abs(interval - wantInterval) > 1e-6 || Math.abs(timeout - wantTimeout) > 1e-6)
    out.push({ check: n("bfd"), status: "warn", detail: `BFD Up but interval ${interval} s / timeout ${timeout} s, plan says ${wantInterval} s / ${wantTimeout} s`, hint: "the router negotiates slower timers: check its BFD configuration" });
  else out.push({ check: n("bfd"), status: "pass", detail: `BFD Up, interval ${interval} s, timeout ${timeout} s` });
  return out;
}

function firewallFinding(relay: RelayPlan, sites: Plan[], ufw: string): Finding {
  const need: [string, RegExp][] = [[`${relay.wireguard.port}/udp`, new RegExp(`^${relay.wireguard.port}/udp\\s+ALLOW IN`, "m")]];
  const who = (p: Plan) => (relay.kind === "site" ? "the router" : `site ${p.site}'s router`);
  for (const plan of sites)
    if (plan.failover.mode === "bgp-bfd")
      need.push(
        [`BGP 179/tcp on wg0 from ${who(plan)}`, new RegExp(`179/tcp on wg0\\s+ALLOW IN\\s+${escape(plan.transit.router.address)}\\b`, "m")],
        [`BFD 3784/udp on wg0 from ${who(plan)}`, new RegExp(`3784/udp on wg0\\s+ALLOW IN\\s+${escape(plan.transit.router.address)}\\b`, "m")],
      );
  if (!/Status: active/.test(ufw)) return { check: "vps.firewall", status: "warn", detail: "ufw is not active", hint: "the rendered firewall.sh enables it (default deny incoming)" };
  const missing = need.filter(([, re]) => !re.test(ufw)).map(([n]) => n);
  return missing.length === 0
    ? { check: "vps.firewall", status: "pass", detail: `ufw active, open: ${need.map(([n]) => n).join(", ")}` }
    : { check: "vps.firewall", status: "fail", detail: `ufw active but missing: ${missing.join(", ")}`, hint: "run the rendered firewall.sh (relay6 apply vps)", fault: "firewall-blocks" };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `relay6 status`: what the VPS sees of every site, in one round trip. The dump's first
 *  field (wg0's private key) is blanked on the VPS: it never leaves it. */
export function statusScript(relay: RelayPlan): string {
  const cmds: [string, string][] = [
    ["now", "date +%s"],
    ["tz", "date +%z"],
    ["today", "date +%F"],
    ["wg-dump", `d=$(wg show wg0 dump); r=$?; printf '%s\\n' "$d" | awk 'BEGIN { FS = OFS = "\\t" } NR == 1 { $1 = "(hidden)" } { print }'; (exit $r)`],
  ];
  if (relay.bgp) cmds.push(["protocols", "birdc show protocols all"], ["bfd", "birdc show bfd sessions"]);
  if (relay.quota) cmds.push(["vnstat", `vnstat --json d -i ${shQuote(relay.vps.nic)}`]);
  cmds.push(["events", `if [ -f ${EVENTS_FILE} ]; then echo present; tail -n 1000 ${EVENTS_FILE}; else echo absent; fi`]);
  return sectionScript(cmds);
}

/** The sections of statusScript → what the VPS sees. */
export function statusView(relay: RelayPlan, sec: Sections): VpsView {
  const body = (n: string) => sectionBody(sec.get(n));
  const tz = body("tz").trim() || "+0000";
  const now = Number(body("now").trim());
  const wg = sectionRc(sec.get("wg-dump")) === 0 ? parseWgDump(body("wg-dump")) : undefined;
  const birdUp = relay.bgp ? sectionRc(sec.get("protocols")) === 0 && /BIRD .* ready/.test(body("protocols")) : false;
  const protocols = birdUp ? parseBirdProtocols(body("protocols"), tz) : new Map();
  const bfd = birdUp ? parseBfdSessions(body("bfd"), tz) : [];
  const ev = body("events").split("\n");
  const eventLog = ev[0]?.trim() === "present";
  const events = eventLog ? parseEvents(ev.slice(1).join("\n")) : [];
  const sites: SiteView[] = relay.sites.map((p) => {
    const transit = p.transit.router.address;
    const peer = wg?.peers.find((x) => x.allowedIps.includes(`${transit}/128`));
    const proto = protocols.get(BIRD_PROTOCOL(p));
    const session = bfd.find((b) => b.address === transit);
    return {
      site: p.site,
      mode: p.failover.mode,
      transit,
      ...(peer ? { peer: { endpoint: peer.endpoint, latestHandshake: peer.latestHandshake, rxBytes: peer.rxBytes, txBytes: peer.txBytes } } : {}),
      ...(p.failover.mode === "bgp-bfd" && birdUp
        ? {
            bgp: proto ? { protocol: proto.name, state: proto.state, ...(proto.bgpState ? { bgpState: proto.bgpState } : {}), ...(proto.since !== undefined ? { since: proto.since } : {}), ...(proto.lastError ? { lastError: proto.lastError } : {}) } : null,
            bfd: session ?? null,
          }
        : {}),
      events: events.filter((e) => e.site === p.site),
    };
  });
  const q = relay.quota;
  const today = body("today").trim();
  return {
    now,
    tz,
    today,
    wg: wg ? { up: true, ...(wg.listenPort !== undefined ? { listenPort: wg.listenPort } : {}) } : { up: false },
    ...(relay.bgp ? { bird: { running: birdUp } } : {}),
    sites,
    ...(q
      ? { transfer: sectionRc(sec.get("vnstat")) === 127 ? { error: "vnstat is not installed on the VPS" } : transferFromVnstat(body("vnstat"), relay.vps.nic, today, q.resetDay, q.counts) }
      : {}),
    eventLog,
  };
}

/** Opens one SSH connection; each read() is one round trip (--watch reads again on it). */
export async function statusReader(req: VpsStatusRequest): Promise<{ read(): Promise<VpsView>; close(): void }> {
  const s = await connectSsh(req.access.ssh, req.log);
  const script = statusScript(req.relay);
  return {
    read: async () => {
      const out = await s.exec(script, { quiet: true });
      return statusView(req.relay, parseSections(out.stdout + out.stderr));
    },
    close: () => s.close(),
  };
}

export async function verify(req: VpsVerifyRequest): Promise<Finding[]> {
  const s = await connectSsh(req.access.ssh, req.log);
  try {
    req.log(`checking the VPS ${s.target.host}`);
    const out = await s.exec(vpsScript(req.relay, req.sites), { quiet: true });
    return checkVps(req.relay, parseSections(out.stdout + out.stderr), routerKeysOf(req.relay, req.ctx), req.sites);
  } finally {
    s.close();
  }
}
