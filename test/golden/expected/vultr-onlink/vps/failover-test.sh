#!/usr/bin/env bash
# managed by relay6 for site vultr. Re-render instead of editing.
# The recipe's failover test (4c), on the VPS: block WireGuard, watch BFD and BGP drop, unblock, watch them return.
# Clients of the router see their IPv6 default route go and come back at the same moments.
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"
TIMEOUT="${TIMEOUT:-30}"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
bfd_up() { birdc -s "$BIRD_SOCKET" show bfd sessions 2>/dev/null | grep -F fe80::2 | grep -q Up; }
bgp_up() { birdc -s "$BIRD_SOCKET" show protocols router_vultr 2>/dev/null | grep -q Established; }
wait_for() { local want=$1 fn=$2 t0; t0=$(ms); while :; do if $fn; then [ "$want" = up ] && return 0; else [ "$want" = down ] && return 0; fi; [ $(( $(ms) - t0 )) -gt $((TIMEOUT * 1000)) ] && return 1; sleep 0.05; done; }
rules() { local op=$1; for ipt in iptables ip6tables; do
  $ipt -w "$op" INPUT -p udp --dport 51820 -j DROP 2>/dev/null; $ipt -w "$op" OUTPUT -p udp --sport 51820 -j DROP 2>/dev/null; done; }
unblock() { while iptables -w -C INPUT -p udp --dport 51820 -j DROP 2>/dev/null || ip6tables -w -C INPUT -p udp --dport 51820 -j DROP 2>/dev/null; do rules -D; done; }
trap unblock EXIT

if bfd_up && bgp_up; then pass "before: BFD Up, BGP Established"; else fail "before: BFD Up, BGP Established" "run smoke-test.sh first"; summary; fi
t0=$(ms); rules -I
if wait_for down bfd_up; then pass "tunnel blocked: BFD down after $(( $(ms) - t0 )) ms"; else fail "BFD down within ${TIMEOUT} s" "is bfd on in bird.conf?"; fi
if wait_for down bgp_up; then pass "BGP withdrawn after $(( $(ms) - t0 )) ms"; else fail "BGP down within ${TIMEOUT} s" "bird BGP must have bfd on"; fi
sleep 1; t0=$(ms); unblock
if wait_for up bfd_up; then pass "unblocked: BFD Up after $(( $(ms) - t0 )) ms"; else fail "BFD back within ${TIMEOUT} s" "bird needs an explicit BFD neighbor"; fi
if wait_for up bgp_up; then pass "BGP Established after $(( $(ms) - t0 )) ms"; else fail "BGP back within ${TIMEOUT} s" "check bird error wait time"; fi
summary
