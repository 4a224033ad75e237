// The recipe's smoke test (section 3) as scripts: the pieces every end's test shares
// (PASS/FAIL helpers, the handshake check), and the LAN client's test. Each end's own test
// is its target's (vps/smoke.ts, linux/smoke.ts). Each prints PASS/FAIL per check and exits
// 0 only when every check passed.
import type { Plan } from "../plan/plan.js";
import { header } from "./header.js";
import { shQuote } from "./quote.js";

export const PRELUDE = [
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
export function handshakeCheck(wg: string, hint: string): string[] {
  return [
    "now=$(date +%s)",
    `hs=$(wg show ${wg} latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)`,
    'if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake $((now - hs)) s ago"',
    `else fail "WireGuard handshake within 180 s" "${hint}"; fi`,
  ];
}

/** The same check for one peer of several (the VPS of a relay): that peer's handshake. */
export function peerHandshakeCheck(wg: string, key: string, label: string, hint: string): string[] {
  return [
    "now=$(date +%s)",
    `hs=$(wg show ${wg} latest-handshakes 2>/dev/null | awk -v k=${shQuote(key)} '$1 == k {print $2}')`,
    `if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake of ${label} $((now - hs)) s ago"`,
    `else fail "WireGuard handshake of ${label} within 180 s" "${hint}"; fi`,
  ];
}

/** For a LAN client: SLAAC address in a segment's /64, default route, ping out. */
export function renderClientSmoke(plan: Plan): string {
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's smoke test on a LAN client. Usage: smoke-test.sh [IPv6 address to ping]"),
    ...PRELUDE,
    'target="${1:-2606:4700:4700::1111}"',
    ...EXPAND_FN,
    plan.segments.some((s) => s.global === false) ? "segment='' ulaonly=''" : "segment=''",
    "while read -r addr; do",
    '  x=$(expand6 "$addr")',
    '  case "${x:0:16}" in',
    ...plan.segments.map((s) => `    ${hex64(s.prefix)}) segment=${shQuote(`${s.name} ${s.prefix}`)}; found="$addr"${s.global === false ? ` ulaonly=${s.router.address}` : ""} ;;`),
    "  esac",
    "done < <(ip -6 -o addr show scope global | awk '{print $4}')",
    'if [ -n "$segment" ]; then pass "SLAAC address ${found%%/*} in segment $segment"',
    `else fail "SLAAC address in one of ${plan.segments.map((s) => s.prefix).join(", ")}" "is the router advertising on this link? (radvd / RouterOS /ipv6/nd)"; fi`,
    "if ip -6 route show default | grep -q .; then pass \"IPv6 default route: $(ip -6 route show default | head -n 1)\"",
    'else fail "IPv6 default route" "no router advertisement with a lifetime: is the router\'s ::/0 up (BGP or static)?"; fi',
    ...(plan.segments.some((s) => s.global === false)
      ? [
          "# A ULA-only segment (global: false) reaches the router and the other segments, not the internet.",
          'if [ -n "$ulaonly" ]; then',
          '  if ping -6 -c 3 -W 2 "$ulaonly" >/dev/null 2>&1; then pass "ping the router $ulaonly (ULA-only segment: no global IPv6 here)"; else fail "ping the router $ulaonly" "is the router on this segment?"; fi',
          "  summary",
          "fi",
        ]
      : []),
    'if ping -6 -c 3 -W 2 "$target" >/dev/null 2>&1; then pass "ping $target"; else fail "ping $target" "the relay does not carry traffic: run the VPS and router smoke tests"; fi',
    "summary",
    "",
  ];
  return L.join("\n");
}
