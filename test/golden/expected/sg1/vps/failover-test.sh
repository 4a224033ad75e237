#!/usr/bin/env bash
# managed by relay6 for relay sg1. Re-render instead of editing.
# The recipe's failover test (4c), on the VPS, for one site: block its router's tunnel, watch BFD and BGP drop, unblock, watch them return.
# Usage: failover-test.sh SITE (home, cabin). Only that router's underlay address is blocked:
# every other site's BGP session must stay Established throughout.
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"
TIMEOUT="${TIMEOUT:-30}"
case "${1:-}" in
  home) key=3+m33430rqpcbuL4jQTzGUvUuASwCNLD2O91XPnzd1w= rtr=2401:4520:110b:0:128c:a3d5:44c0:721e proto=router_home ;;
  cabin) key=Fibm/Jv44H7OT+6Zmst6m8gbdETGhFvuWluP1OVBbQ0= rtr=2401:4520:110b:0:6547:7430:a811:b5d4 proto=router_cabin ;;
  *) echo 'usage: $0 SITE (bgp-bfd sites: home, cabin)' >&2; exit 2 ;;
esac
others=(router_home router_cabin)
ms() { echo $(( $(date +%s%N) / 1000000 )); }
bfd_up() { birdc -s "$BIRD_SOCKET" show bfd sessions 2>/dev/null | grep -F "$rtr" | grep -q Up; }
bgp_up() { birdc -s "$BIRD_SOCKET" show protocols "$proto" 2>/dev/null | grep -q Established; }
others_up() { local p; for p in "${others[@]}"; do [ "$p" = "$proto" ] && continue; birdc -s "$BIRD_SOCKET" show protocols "$p" 2>/dev/null | grep -q Established || return 1; done; }
wait_for() { local want=$1 fn=$2 t0; t0=$(ms); while :; do if $fn; then [ "$want" = up ] && return 0; else [ "$want" = down ] && return 0; fi; [ $(( $(ms) - t0 )) -gt $((TIMEOUT * 1000)) ] && return 1; sleep 0.05; done; }
ep=$(wg show wg0 endpoints 2>/dev/null | awk -v k="$key" '$1 == k {print $2}')
host="${ep%:*}"; host="${host#[}"; host="${host%]}"
if [ -z "$host" ] || [ "$ep" = "(none)" ]; then fail "the router of site $1 has an endpoint" "no handshake yet: run smoke-test.sh first"; summary; fi
ipt=iptables; [[ "$host" == *:* ]] && ipt=ip6tables
rules() { $ipt -w "$1" INPUT -s "$host" -p udp --dport 51820 -j DROP 2>/dev/null; $ipt -w "$1" OUTPUT -d "$host" -p udp --sport 51820 -j DROP 2>/dev/null; }
unblock() { while $ipt -w -C INPUT -s "$host" -p udp --dport 51820 -j DROP 2>/dev/null; do rules -D; done; }
trap unblock EXIT

if bfd_up && bgp_up; then pass "before: BFD Up, BGP Established ($1, router $host)"; else fail "before: BFD Up, BGP Established" "run smoke-test.sh first"; summary; fi
t0=$(ms); rules -I
if wait_for down bfd_up; then pass "tunnel blocked: BFD down after $(( $(ms) - t0 )) ms"; else fail "BFD down within ${TIMEOUT} s" "is bfd on in bird.conf?"; fi
if wait_for down bgp_up; then pass "BGP withdrawn after $(( $(ms) - t0 )) ms"; else fail "BGP down within ${TIMEOUT} s" "bird BGP must have bfd on"; fi
if others_up; then pass "every other site's BGP session stayed Established"; else fail "the other sites' BGP sessions stay Established" "only $host was blocked: birdc show protocols"; fi
sleep 1; t0=$(ms); unblock
if wait_for up bfd_up; then pass "unblocked: BFD Up after $(( $(ms) - t0 )) ms"; else fail "BFD back within ${TIMEOUT} s" "bird needs an explicit BFD neighbor"; fi
if wait_for up bgp_up; then pass "BGP Established after $(( $(ms) - t0 )) ms"; else fail "BGP back within ${TIMEOUT} s" "check bird error wait time"; fi
summary
