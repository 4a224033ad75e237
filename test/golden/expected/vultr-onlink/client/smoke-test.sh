#!/usr/bin/env bash
# managed by relay6 for site vultr. Re-render instead of editing.
# The recipe's smoke test on a LAN client. Usage: smoke-test.sh [IPv6 address to ping]
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
target="${1:-2606:4700:4700::1111}"
expand6() {
  local a="${1%%/*}" head tail groups=() out="" g n i
  if [[ "$a" == *::* ]]; then head="${a%%::*}" tail="${a##*::}"; else head="$a" tail=""; fi
  IFS=: read -r -a h <<< "$head"; IFS=: read -r -a t <<< "$tail"
  [ -z "$head" ] && h=(); [ -z "$tail" ] && t=()
  n=$((8 - ${#h[@]} - ${#t[@]})); groups=("${h[@]}"); for ((i = 0; i < n; i++)); do groups+=(0); done; groups+=("${t[@]}")
  for g in "${groups[@]}"; do out+=$(printf "%04x" "0x$g"); done
  echo "$out"
}
segment='' ulaonly=''
while read -r addr; do
  x=$(expand6 "$addr")
  case "${x:0:16}" in
    20010db800770001) segment='lan 2001:db8:77:1::/64'; found="$addr" ;;
    fd42007700010030) segment='trusted fd42:77:1:30::/64'; found="$addr" ulaonly=fd42:77:1:30::1 ;;
  esac
done < <(ip -6 -o addr show scope global | awk '{print $4}')
if [ -n "$segment" ]; then pass "SLAAC address ${found%%/*} in segment $segment"
else fail "SLAAC address in one of 2001:db8:77:1::/64, fd42:77:1:30::/64" "is the router advertising on this link? (radvd / RouterOS /ipv6/nd)"; fi
if ip -6 route show default | grep -q .; then pass "IPv6 default route: $(ip -6 route show default | head -n 1)"
else fail "IPv6 default route" "no router advertisement with a lifetime: is the router's ::/0 up (BGP or static)?"; fi
# A ULA-only segment (global: false) reaches the router and the other segments, not the internet.
if [ -n "$ulaonly" ]; then
  if ping -6 -c 3 -W 2 "$ulaonly" >/dev/null 2>&1; then pass "ping the router $ulaonly (ULA-only segment: no global IPv6 here)"; else fail "ping the router $ulaonly" "is the router on this segment?"; fi
  summary
fi
if ping -6 -c 3 -W 2 "$target" >/dev/null 2>&1; then pass "ping $target"; else fail "ping $target" "the relay does not carry traffic: run the VPS and router smoke tests"; fi
summary
