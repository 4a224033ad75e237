#!/usr/bin/env bash
# managed by relay6 for site moved. Re-render instead of editing.
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
else fail "WireGuard handshake within 180 s" "is the router's peer up, with this VPS's public key and endpoint 198.51.100.9:51820? is UDP 51820 open?"; fi

if ping -6 -c 2 -W 2 fd42:77:2:ffff::2 >/dev/null 2>&1; then pass "ping router transit fd42:77:2:ffff::2"
else fail "ping router transit fd42:77:2:ffff::2" "no answer over the tunnel: check the handshake, and that fd42:77:2:ffff::2/128 is in AllowedIPs"; fi
if ping -6 -c 2 -W 2 2001:db8:77:2::1 >/dev/null 2>&1; then pass "ping router on segment lan (2001:db8:77:2::1)"
else fail "ping router on segment lan (2001:db8:77:2::1)" "the router should hold 2001:db8:77:2::1/64 on br0"; fi
route=$(ip -6 route get 2001:db8:77:2::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment lan (2001:db8:77:2::/64) is dev wg0"
else fail "route to segment lan (2001:db8:77:2::/64) is dev wg0" "got: $route — 2001:db8:77:2::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi

# vps.onLink: without ndppd the provider's neighbour solicitations go unanswered and every packet to the LAN is lost.
if [ -n "$(for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done)" ]; then pass "ndppd is running"
else fail "ndppd is running" "systemctl status ndppd; journalctl -u ndppd"; fi

summary
