#!/usr/bin/env bash
# managed by relay6 for site vultr. Re-render instead of editing.
# The recipe's smoke test, on the VPS. Exit 0 = every check passed.
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"

now=$(date +%s)
hs=$(wg show wg0 latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)
if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake $((now - hs)) s ago"
else fail "WireGuard handshake within 180 s" "is the router's peer up, with this VPS's public key and endpoint 198.51.100.7:51820? is UDP 51820 open?"; fi

if ping -6 -c 2 -W 2 fe80::2%wg0 >/dev/null 2>&1; then pass "ping router transit fe80::2"
else fail "ping router transit fe80::2" "no answer over the tunnel: check the handshake, and that fe80::2/128 is in AllowedIPs"; fi
if ping -6 -c 2 -W 2 2001:db8:77:1::1 >/dev/null 2>&1; then pass "ping router on segment lan (2001:db8:77:1::1)"
else fail "ping router on segment lan (2001:db8:77:1::1)" "the router should hold 2001:db8:77:1::1/64 on bridge"; fi
route=$(ip -6 route get 2001:db8:77:1::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment lan (2001:db8:77:1::/64) is dev wg0"
else fail "route to segment lan (2001:db8:77:1::/64) is dev wg0" "got: $route — 2001:db8:77:1::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi

if birdc -s "$BIRD_SOCKET" show protocols router_vultr 2>&1 | grep -q Established; then pass "BGP session router_vultr Established"
else fail "BGP session router_vultr Established" "birdc show protocols all router_vultr; is TCP 179 open on wg0 from fe80::2?"; fi
if birdc -s "$BIRD_SOCKET" show bfd sessions 2>&1 | grep -F fe80::2 | grep -q Up; then pass "BFD session to fe80::2 Up"
else fail "BFD session to fe80::2 Up" "is UDP 3784 open on wg0 from fe80::2, and BFD enabled on the router's BGP connection?"; fi

# vps.onLink: without ndppd the provider's neighbour solicitations go unanswered and every packet to the LAN is lost.
if [ -n "$(for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done)" ]; then pass "ndppd is running"
else fail "ndppd is running" "systemctl status ndppd; journalctl -u ndppd"; fi

summary
