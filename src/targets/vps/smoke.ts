// The recipe's smoke test (section 3) and failover test (section 4c) on the VPS, with the
// expected values filled in from the plan: every site's checks, one after the other.
import { scoped } from "../../net/ipv6.js";
import { isGlobal, type Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { handshakeCheck, peerHandshakeCheck, PRELUDE } from "../../render/checks.js";
import { header } from "../../render/header.js";
import { commentText, shQuote } from "../../render/quote.js";
import { BIRD_PROTOCOL } from "./bird.js";

/** `routerKeys`: each site's router public key (a relay's checks name each peer by it). */
export function renderVpsSmoke(relay: RelayPlan, routerKeys: ReadonlyMap<string, string | undefined>): string {
  const L = [
    "#!/usr/bin/env bash",
    ...header(relay, "#", "The recipe's smoke test, on the VPS. Exit 0 = every check passed."),
    ...PRELUDE,
    'BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"',
  ];
  const solo = relay.kind === "site";
  for (const plan of relay.sites) {
    const hint = `is the router's peer up, with this VPS's public key and endpoint ${commentText(plan.vps.endpoint)}:${plan.wireguard.port}? is UDP ${plan.wireguard.port} open?`;
    const key = routerKeys.get(plan.site);
    L.push("");
    if (solo) L.push(...handshakeCheck("wg0", hint));
    else if (key) L.push(`# --- site ${commentText(plan.site)}`, ...peerHandshakeCheck("wg0", key, `site ${plan.site}`, hint));
    else {
      L.push(`# --- site ${commentText(plan.site)}: no peer yet (its router's public key is not known)`, `fail "site ${plan.site}: peer on wg0" "set router.publicKey in its site file and render again"`);
      continue;
    }
    L.push("", ...siteChecks(plan, plan.failover.mode === "bgp-bfd" ? BIRD_PROTOCOL(plan) : undefined));
  }
  if (relay.vps.onLink)
    L.push(
      "",
      "# vps.onLink: without ndppd the provider's neighbour solicitations go unanswered and every packet to the LAN is lost.",
      `if [ -n "$(for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done)" ]; then pass "ndppd is running"`,
      `else fail "ndppd is running" "systemctl status ndppd; journalctl -u ndppd"; fi`,
    );
  L.push("", "summary", "");
  return L.join("\n");
}

function siteChecks(plan: Plan, birdProtocol?: string): string[] {
  const t = plan.transit;
  const L: string[] = [
    `if ping -6 -c 2 -W 2 ${scoped(t.router.address, "wg0")} >/dev/null 2>&1; then pass "ping router transit ${t.router.address}"`,
    `else fail "ping router transit ${t.router.address}" "no answer over the tunnel: check the handshake, and that ${t.router.address}/128 is in AllowedIPs"; fi`,
  ];
  for (const s of plan.segments.filter(isGlobal)) {
    const a = s.router.address;
    L.push(
      `if ping -6 -c 2 -W 2 ${a} >/dev/null 2>&1; then pass "ping router on segment ${s.name} (${a})"`,
      `else fail "ping router on segment ${s.name} (${a})" "the router should hold ${s.router.cidr} on ${s.interface}"; fi`,
      `route=$(ip -6 route get ${a} 2>&1)`,
      `if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment ${s.name} (${s.prefix}) is dev wg0"`,
      `else fail "route to segment ${s.name} (${s.prefix}) is dev wg0" "got: $route — ${s.prefix} must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi`,
    );
  }
  if (plan.failover.mode === "bgp-bfd" && birdProtocol) {
    L.push(
      "",
      `if birdc -s "$BIRD_SOCKET" show protocols ${birdProtocol} 2>&1 | grep -q Established; then pass "BGP session ${birdProtocol} Established"`,
      `else fail "BGP session ${birdProtocol} Established" "birdc show protocols all ${birdProtocol}; is TCP 179 open on wg0 from ${t.router.address}?"; fi`,
      `if birdc -s "$BIRD_SOCKET" show bfd sessions 2>&1 | grep -F ${t.router.address} | grep -q Up; then pass "BFD session to ${t.router.address} Up"`,
      `else fail "BFD session to ${t.router.address} Up" "is UDP 3784 open on wg0 from ${t.router.address}, and BFD enabled on the router's BGP connection?"; fi`,
    );
  }
  return L;
}

/** The failover test: a standalone site's blocks the tunnel's port; a relay's takes a site
 *  and blocks only that router's underlay address (and checks the others stay up). */
export function renderVpsFailoverTest(relay: RelayPlan, routerKeys: ReadonlyMap<string, string | undefined>): string {
  if (relay.kind === "relay") return relayFailoverTest(relay, routerKeys);
  const plan = relay.sites[0]!;
  const birdProtocol = BIRD_PROTOCOL(plan);
  const port = plan.wireguard.port;
  const rtr = plan.transit.router.address;
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's failover test (4c), on the VPS: block WireGuard, watch BFD and BGP drop, unblock, watch them return."),
    "# Clients of the router see their IPv6 default route go and come back at the same moments.",
    ...PRELUDE,
    'BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"',
    'TIMEOUT="${TIMEOUT:-30}"',
    "ms() { echo $(( $(date +%s%N) / 1000000 )); }",
    `bfd_up() { birdc -s "$BIRD_SOCKET" show bfd sessions 2>/dev/null | grep -F ${rtr} | grep -q Up; }`,
    `bgp_up() { birdc -s "$BIRD_SOCKET" show protocols ${birdProtocol} 2>/dev/null | grep -q Established; }`,
    "wait_for() { local want=$1 fn=$2 t0; t0=$(ms); while :; do if $fn; then [ \"$want\" = up ] && return 0; else [ \"$want\" = down ] && return 0; fi; [ $(( $(ms) - t0 )) -gt $((TIMEOUT * 1000)) ] && return 1; sleep 0.05; done; }",
    "rules() { local op=$1; for ipt in iptables ip6tables; do",
    `  $ipt -w "$op" INPUT -p udp --dport ${port} -j DROP 2>/dev/null; $ipt -w "$op" OUTPUT -p udp --sport ${port} -j DROP 2>/dev/null; done; }`,
    "unblock() { while iptables -w -C INPUT -p udp --dport " + port + " -j DROP 2>/dev/null || ip6tables -w -C INPUT -p udp --dport " + port + " -j DROP 2>/dev/null; do rules -D; done; }",
    "trap unblock EXIT",
    "",
    'if bfd_up && bgp_up; then pass "before: BFD Up, BGP Established"; else fail "before: BFD Up, BGP Established" "run smoke-test.sh first"; summary; fi',
    ...blockAndMeasure([]),
  ];
  return L.join("\n");
}

function relayFailoverTest(relay: RelayPlan, routerKeys: ReadonlyMap<string, string | undefined>): string {
  const port = relay.wireguard.port;
  const sites = relay.sites.filter((p) => p.failover.mode === "bgp-bfd" && routerKeys.get(p.site));
  const names = sites.map((p) => p.site).join(", ");
  const L = [
    "#!/usr/bin/env bash",
    ...header(relay, "#", "The recipe's failover test (4c), on the VPS, for one site: block its router's tunnel, watch BFD and BGP drop, unblock, watch them return."),
    `# Usage: failover-test.sh SITE (${commentText(names)}). Only that router's underlay address is blocked:`,
    "# every other site's BGP session must stay Established throughout.",
    ...PRELUDE,
    'BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"',
    'TIMEOUT="${TIMEOUT:-30}"',
    'case "${1:-}" in',
    ...sites.map((p) => `  ${shQuote(p.site)}) key=${shQuote(routerKeys.get(p.site)!)} rtr=${p.transit.router.address} proto=${BIRD_PROTOCOL(p)} ;;`),
    `  *) echo ${shQuote(`usage: $0 SITE (bgp-bfd sites: ${names})`)} >&2; exit 2 ;;`,
    "esac",
    `others=(${sites.map((p) => BIRD_PROTOCOL(p)).join(" ")})`,
    "ms() { echo $(( $(date +%s%N) / 1000000 )); }",
    'bfd_up() { birdc -s "$BIRD_SOCKET" show bfd sessions 2>/dev/null | grep -F "$rtr" | grep -q Up; }',
    'bgp_up() { birdc -s "$BIRD_SOCKET" show protocols "$proto" 2>/dev/null | grep -q Established; }',
    'others_up() { local p; for p in "${others[@]}"; do [ "$p" = "$proto" ] && continue; birdc -s "$BIRD_SOCKET" show protocols "$p" 2>/dev/null | grep -q Established || return 1; done; }',
    "wait_for() { local want=$1 fn=$2 t0; t0=$(ms); while :; do if $fn; then [ \"$want\" = up ] && return 0; else [ \"$want\" = down ] && return 0; fi; [ $(( $(ms) - t0 )) -gt $((TIMEOUT * 1000)) ] && return 1; sleep 0.05; done; }",
    `ep=$(wg show wg0 endpoints 2>/dev/null | awk -v k="$key" '$1 == k {print $2}')`,
    'host="${ep%:*}"; host="${host#[}"; host="${host%]}"',
    'if [ -z "$host" ] || [ "$ep" = "(none)" ]; then fail "the router of site $1 has an endpoint" "no handshake yet: run smoke-test.sh first"; summary; fi',
    'ipt=iptables; [[ "$host" == *:* ]] && ipt=ip6tables',
    `rules() { $ipt -w "$1" INPUT -s "$host" -p udp --dport ${port} -j DROP 2>/dev/null; $ipt -w "$1" OUTPUT -d "$host" -p udp --sport ${port} -j DROP 2>/dev/null; }`,
    `unblock() { while $ipt -w -C INPUT -s "$host" -p udp --dport ${port} -j DROP 2>/dev/null; do rules -D; done; }`,
    "trap unblock EXIT",
    "",
    'if bfd_up && bgp_up; then pass "before: BFD Up, BGP Established ($1, router $host)"; else fail "before: BFD Up, BGP Established" "run smoke-test.sh first"; summary; fi',
    ...blockAndMeasure([
      'if others_up; then pass "every other site\'s BGP session stayed Established"; else fail "the other sites\' BGP sessions stay Established" "only $host was blocked: birdc show protocols"; fi',
    ]),
  ];
  return L.join("\n");
}

/** The failover test's measurement, the same for a site and for one site of a relay: block
 *  the tunnel (rules -I), time BFD and BGP going down, run `whileBlocked`, unblock, time
 *  them coming back. */
function blockAndMeasure(whileBlocked: string[]): string[] {
  return [
    "t0=$(ms); rules -I",
    'if wait_for down bfd_up; then pass "tunnel blocked: BFD down after $(( $(ms) - t0 )) ms"; else fail "BFD down within ${TIMEOUT} s" "is bfd on in bird.conf?"; fi',
    'if wait_for down bgp_up; then pass "BGP withdrawn after $(( $(ms) - t0 )) ms"; else fail "BGP down within ${TIMEOUT} s" "bird BGP must have bfd on"; fi',
    ...whileBlocked,
    "sleep 1; t0=$(ms); unblock",
    'if wait_for up bfd_up; then pass "unblocked: BFD Up after $(( $(ms) - t0 )) ms"; else fail "BFD back within ${TIMEOUT} s" "bird needs an explicit BFD neighbor"; fi',
    'if wait_for up bgp_up; then pass "BGP Established after $(( $(ms) - t0 )) ms"; else fail "BGP back within ${TIMEOUT} s" "check bird error wait time"; fi',
    "summary",
    "",
  ];
}
