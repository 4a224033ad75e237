// The recipe's smoke test (section 3) and failover test (section 4c) as scripts, with the
// expected values filled in from the plan. Each prints PASS/FAIL per check and exits 0
// only when every check passed.
import type { Plan } from "../plan/plan.js";
import { header } from "./header.js";
import { commentText, shQuote } from "./quote.js";

const PRELUDE = [
  "set -uo pipefail",
  "fails=0",
  "pass() { printf 'PASS  %s\\n' \"$1\"; }",
  "fail() { printf 'FAIL  %s\\n      hint: %s\\n' \"$1\" \"$2\"; fails=$((fails + 1)); }",
  "summary() { if [ \"$fails\" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo \"$fails check(s) failed\"; exit 1; fi; }",
];

/** Expands an IPv6 address to 32 hex digits, in bash (no python on a bare VPS or client). */
const EXPAND_FN = [
  "expand6() {",
  '  local a="${1%%/*}" head tail groups=() out="" g n i',
  '  if [[ "$a" == *::* ]]; then head="${a%%::*}" tail="${a##*::}"; else head="$a" tail=""; fi',
  '  IFS=: read -r -a h <<< "$head"; IFS=: read -r -a t <<< "$tail"',
  '  [ -z "$head" ] && h=(); [ -z "$tail" ] && t=()',
  '  n=$((8 - ${#h[@]} - ${#t[@]})); groups=("${h[@]}"); for ((i = 0; i < n; i++)); do groups+=(0); done; groups+=("${t[@]}")',
  '  for g in "${groups[@]}"; do out+=$(printf "%04x" "0x$g"); done',
  '  echo "$out"',
  "}",
];

function hex64(prefix: string): string {
  // The first 64 bits of a /64, as 16 hex digits (matches expand6's output prefix).
  const [addr] = prefix.split("/");
  const groups = expandGroups(addr!);
  return groups.slice(0, 4).map((g) => g.padStart(4, "0")).join("");
}

function expandGroups(a: string): string[] {
  const [head, tail] = a.includes("::") ? a.split("::") : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  return [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
}

/** The handshake check both ends' smoke tests run: the newest handshake within 180 s. */
function handshakeCheck(wg: string, hint: string): string[] {
  return [
    "now=$(date +%s)",
    `hs=$(wg show ${wg} latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)`,
    'if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake $((now - hs)) s ago"',
    `else fail "WireGuard handshake within 180 s" "${hint}"; fi`,
  ];
}

export function renderVpsSmoke(plan: Plan, birdProtocol?: string): string {
  const t = plan.transit;
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's smoke test, on the VPS. Exit 0 = every check passed."),
    ...PRELUDE,
    'BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"',
    "",
    ...handshakeCheck("wg0", `is the router's peer up, with this VPS's public key and endpoint ${commentText(plan.vps.endpoint)}:${plan.wireguard.port}? is UDP ${plan.wireguard.port} open?`),
    "",
    `if ping -6 -c 2 -W 2 ${t.router.address} >/dev/null 2>&1; then pass "ping router transit ${t.router.address}"`,
    `else fail "ping router transit ${t.router.address}" "no answer over the tunnel: check the handshake, and that ${t.router.address}/128 is in AllowedIPs"; fi`,
  ];
  for (const s of plan.segments) {
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
  L.push("", "summary", "");
  return L.join("\n");
}

export function renderVpsFailoverTest(plan: Plan, birdProtocol: string): string {
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
    "t0=$(ms); rules -I",
    'if wait_for down bfd_up; then pass "tunnel blocked: BFD down after $(( $(ms) - t0 )) ms"; else fail "BFD down within ${TIMEOUT} s" "is bfd on in bird.conf?"; fi',
    'if wait_for down bgp_up; then pass "BGP withdrawn after $(( $(ms) - t0 )) ms"; else fail "BGP down within ${TIMEOUT} s" "bird BGP must have bfd on"; fi',
    "sleep 1; t0=$(ms); unblock",
    'if wait_for up bfd_up; then pass "unblocked: BFD Up after $(( $(ms) - t0 )) ms"; else fail "BFD back within ${TIMEOUT} s" "bird needs an explicit BFD neighbor"; fi',
    'if wait_for up bgp_up; then pass "BGP Established after $(( $(ms) - t0 )) ms"; else fail "BGP back within ${TIMEOUT} s" "check bird error wait time"; fi',
    "summary",
    "",
  ];
  return L.join("\n");
}

/** For a LAN client: SLAAC address in a segment's /64, default route, ping out. */
export function renderClientSmoke(plan: Plan): string {
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's smoke test on a LAN client. Usage: smoke-test.sh [IPv6 address to ping]"),
    ...PRELUDE,
    'target="${1:-2606:4700:4700::1111}"',
    ...EXPAND_FN,
    "segment=''",
    "while read -r addr; do",
    '  x=$(expand6 "$addr")',
    '  case "${x:0:16}" in',
    ...plan.segments.map((s) => `    ${hex64(s.prefix)}) segment=${shQuote(`${s.name} ${s.prefix}`)}; found="$addr" ;;`),
    "  esac",
    "done < <(ip -6 -o addr show scope global | awk '{print $4}')",
    'if [ -n "$segment" ]; then pass "SLAAC address ${found%%/*} in segment $segment"',
    `else fail "SLAAC address in one of ${plan.segments.map((s) => s.prefix).join(", ")}" "is the router advertising on this link? (radvd / RouterOS /ipv6/nd)"; fi`,
    "if ip -6 route show default | grep -q .; then pass \"IPv6 default route: $(ip -6 route show default | head -n 1)\"",
    'else fail "IPv6 default route" "no router advertisement with a lifetime: is the router\'s ::/0 up (BGP or static)?"; fi',
    'if ping -6 -c 3 -W 2 "$target" >/dev/null 2>&1; then pass "ping $target"; else fail "ping $target" "the relay does not carry traffic: run the VPS and router smoke tests"; fi',
    "summary",
    "",
  ];
  return L.join("\n");
}

/** The recipe's router-side checks for a Linux router (FRR + radvd + wg-quick). */
export function renderLinuxRouterSmoke(plan: Plan): string {
  const t = plan.transit;
  const wg = plan.router.wgInterface;
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's smoke test, on the Linux router. Exit 0 = every check passed."),
    "# VTYSH_ARGS: extra vtysh arguments (e.g. --vty_socket DIR when FRR runs by hand).",
    ...PRELUDE,
    'VTYSH_ARGS="${VTYSH_ARGS:-}"',
    "",
    ...handshakeCheck(wg, `can the router reach ${commentText(plan.vps.endpoint)}:${plan.wireguard.port} over UDP? does the VPS hold this router's public key?`),
    `if ping -6 -c 2 -W 2 ${t.vps.address} >/dev/null 2>&1; then pass "ping VPS transit ${t.vps.address}"`,
    `else fail "ping VPS transit ${t.vps.address}" "no answer over the tunnel: check the handshake"; fi`,
  ];
  for (const s of plan.segments)
    L.push(
      `if ip -6 addr show dev ${s.interface} 2>/dev/null | grep -q ' ${s.router.cidr} '; then pass "segment ${s.name}: ${s.router.cidr} on ${s.interface}"`,
      `else fail "segment ${s.name}: ${s.router.cidr} on ${s.interface}" "run /usr/local/sbin/relay6-router-net (systemctl restart relay6-router-net)"; fi`,
    );
  L.push(
    "def=$(ip -6 route show default)",
    plan.failover.mode === "bgp-bfd"
      ? `if [[ "$def" == *"proto bgp"* && "$def" == *"dev ${wg}"* ]]; then pass "::/0 from BGP via ${wg}"; else fail "::/0 from BGP via ${wg}" "got: \${def:-no default route}; check BGP and BFD with the VPS"; fi`
      : `if [[ "$def" == *"via ${t.vps.address}"* ]]; then pass "::/0 via ${t.vps.address}"; else fail "::/0 via ${t.vps.address}" "got: \${def:-no default route}; the gateway check withdrew it, or the tunnel is down"; fi`,
    'if pgrep -x radvd >/dev/null; then pass "radvd is running"; else fail "radvd is running" "systemctl status radvd"; fi',
  );
  if (plan.failover.mode === "bgp-bfd")
    L.push(
      `if vtysh $VTYSH_ARGS -c 'show bfd peers brief' 2>/dev/null | grep -F ${t.vps.address} | grep -qw up; then pass "BFD up with ${t.vps.address}"`,
      `else fail "BFD up with ${t.vps.address}" "is UDP 3784 open on the VPS's wg0 from ${t.router.address}?"; fi`,
    );
  L.push("", "summary", "");
  return L.join("\n");
}
