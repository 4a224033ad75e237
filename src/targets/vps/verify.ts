// The VPS half of `relay6 verify`: the recipe's smoke test, run against the live VPS.
// One remote script gathers everything (one SSH round trip); pure code judges it.
import type { Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { connectSsh } from "../../remote/connect.js";
import { routerKeysOf } from "../../render/keys.js";
import { parseSections, sectionBody, sectionRc, sectionScript, type Finding, type Sections } from "../../verify/findings.js";
import { handshakeFinding, parseWgDump, wgDumpCommand } from "../../verify/wireguard.js";

type WgDump = NonNullable<ReturnType<typeof parseWgDump>>;
import type { VpsStatusRequest, VpsVerifyRequest } from "../types.js";
import { shQuote } from "../../render/quote.js";
import { parseBfdSessions, parseBirdProtocols } from "../../status/bird.js";
import { parseEvents, type SiteView, type VpsView } from "../../status/status.js";
import { transferFromVnstat } from "../../status/vnstat.js";
import { EVENTS_FILE } from "./alerts.js";
import { BIRD_PROTOCOL } from "./bird.js";

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
  for (const plan of sites) cmds.push([per(relay, plan, "ping-transit"), `ping -6 -c 2 -i 0.2 -W 1 ${plan.transit.router.address}`]);
  cmds.push(["forwarding", "sysctl -n net.ipv6.conf.all.forwarding"]);
  for (const plan of sites) for (const s of plan.segments) cmds.push([per(relay, plan, `route:${s.name}`), `ip -6 route get ${s.router.address}`]);
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
        ? { check: n("allowed-ips"), status: "pass", detail: `AllowedIPs hold the transit /128 and ${plan.segments.length} segment /64s` }
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
  for (const s of plan.segments) {
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
