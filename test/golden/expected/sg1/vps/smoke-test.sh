#!/usr/bin/env bash
# managed by relay6 for relay sg1. Re-render instead of editing.
# The recipe's smoke test, on the VPS. Exit 0 = every check passed.
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
BIRD_SOCKET="${BIRD_SOCKET:-/run/bird/bird.ctl}"

# --- site home
now=$(date +%s)
hs=$(wg show wg0 latest-handshakes 2>/dev/null | awk -v k=3+m33430rqpcbuL4jQTzGUvUuASwCNLD2O91XPnzd1w= '$1 == k {print $2}')
if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake of site home $((now - hs)) s ago"
else fail "WireGuard handshake of site home within 180 s" "is the router's peer up, with this VPS's public key and endpoint 203.0.113.10:51820? is UDP 51820 open?"; fi

if ping -6 -c 2 -W 2 2401:4520:110b:0:128c:a3d5:44c0:721e >/dev/null 2>&1; then pass "ping router transit 2401:4520:110b:0:128c:a3d5:44c0:721e"
else fail "ping router transit 2401:4520:110b:0:128c:a3d5:44c0:721e" "no answer over the tunnel: check the handshake, and that 2401:4520:110b:0:128c:a3d5:44c0:721e/128 is in AllowedIPs"; fi
if ping -6 -c 2 -W 2 2401:4520:110b:100::1 >/dev/null 2>&1; then pass "ping router on segment lan (2401:4520:110b:100::1)"
else fail "ping router on segment lan (2401:4520:110b:100::1)" "the router should hold 2401:4520:110b:100::1/64 on bridge"; fi
route=$(ip -6 route get 2401:4520:110b:100::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment lan (2401:4520:110b:100::/64) is dev wg0"
else fail "route to segment lan (2401:4520:110b:100::/64) is dev wg0" "got: $route — 2401:4520:110b:100::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi
if ping -6 -c 2 -W 2 2401:4520:110b:110::1 >/dev/null 2>&1; then pass "ping router on segment guest (2401:4520:110b:110::1)"
else fail "ping router on segment guest (2401:4520:110b:110::1)" "the router should hold 2401:4520:110b:110::1/64 on vlan10"; fi
route=$(ip -6 route get 2401:4520:110b:110::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment guest (2401:4520:110b:110::/64) is dev wg0"
else fail "route to segment guest (2401:4520:110b:110::/64) is dev wg0" "got: $route — 2401:4520:110b:110::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi
if ping -6 -c 2 -W 2 2401:4520:110b:111::1 >/dev/null 2>&1; then pass "ping router on segment iot (2401:4520:110b:111::1)"
else fail "ping router on segment iot (2401:4520:110b:111::1)" "the router should hold 2401:4520:110b:111::1/64 on vlan11"; fi
route=$(ip -6 route get 2401:4520:110b:111::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment iot (2401:4520:110b:111::/64) is dev wg0"
else fail "route to segment iot (2401:4520:110b:111::/64) is dev wg0" "got: $route — 2401:4520:110b:111::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi

if birdc -s "$BIRD_SOCKET" show protocols router_home 2>&1 | grep -q Established; then pass "BGP session router_home Established"
else fail "BGP session router_home Established" "birdc show protocols all router_home; is TCP 179 open on wg0 from 2401:4520:110b:0:128c:a3d5:44c0:721e?"; fi
if birdc -s "$BIRD_SOCKET" show bfd sessions 2>&1 | grep -F 2401:4520:110b:0:128c:a3d5:44c0:721e | grep -q Up; then pass "BFD session to 2401:4520:110b:0:128c:a3d5:44c0:721e Up"
else fail "BFD session to 2401:4520:110b:0:128c:a3d5:44c0:721e Up" "is UDP 3784 open on wg0 from 2401:4520:110b:0:128c:a3d5:44c0:721e, and BFD enabled on the router's BGP connection?"; fi

# --- site parents
now=$(date +%s)
hs=$(wg show wg0 latest-handshakes 2>/dev/null | awk -v k=f/6GPj0eikMbzaYjL7JPHSQyC5ow61fTDiiDU/Q2Pkc= '$1 == k {print $2}')
if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake of site parents $((now - hs)) s ago"
else fail "WireGuard handshake of site parents within 180 s" "is the router's peer up, with this VPS's public key and endpoint 203.0.113.10:51820? is UDP 51820 open?"; fi

if ping -6 -c 2 -W 2 2401:4520:110b::100 >/dev/null 2>&1; then pass "ping router transit 2401:4520:110b::100"
else fail "ping router transit 2401:4520:110b::100" "no answer over the tunnel: check the handshake, and that 2401:4520:110b::100/128 is in AllowedIPs"; fi
if ping -6 -c 2 -W 2 2401:4520:110b:200::1 >/dev/null 2>&1; then pass "ping router on segment lan (2401:4520:110b:200::1)"
else fail "ping router on segment lan (2401:4520:110b:200::1)" "the router should hold 2401:4520:110b:200::1/64 on bridge"; fi
route=$(ip -6 route get 2401:4520:110b:200::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment lan (2401:4520:110b:200::/64) is dev wg0"
else fail "route to segment lan (2401:4520:110b:200::/64) is dev wg0" "got: $route — 2401:4520:110b:200::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi

# --- site cabin
now=$(date +%s)
hs=$(wg show wg0 latest-handshakes 2>/dev/null | awk -v k=Fibm/Jv44H7OT+6Zmst6m8gbdETGhFvuWluP1OVBbQ0= '$1 == k {print $2}')
if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake of site cabin $((now - hs)) s ago"
else fail "WireGuard handshake of site cabin within 180 s" "is the router's peer up, with this VPS's public key and endpoint 203.0.113.10:51820? is UDP 51820 open?"; fi

if ping -6 -c 2 -W 2 2401:4520:110b:0:6547:7430:a811:b5d4 >/dev/null 2>&1; then pass "ping router transit 2401:4520:110b:0:6547:7430:a811:b5d4"
else fail "ping router transit 2401:4520:110b:0:6547:7430:a811:b5d4" "no answer over the tunnel: check the handshake, and that 2401:4520:110b:0:6547:7430:a811:b5d4/128 is in AllowedIPs"; fi
if ping -6 -c 2 -W 2 2401:4520:110b:300::1 >/dev/null 2>&1; then pass "ping router on segment lan (2401:4520:110b:300::1)"
else fail "ping router on segment lan (2401:4520:110b:300::1)" "the router should hold 2401:4520:110b:300::1/64 on br0"; fi
route=$(ip -6 route get 2401:4520:110b:300::1 2>&1)
if [[ "$route" == *" dev wg0 "* ]]; then pass "route to segment lan (2401:4520:110b:300::/64) is dev wg0"
else fail "route to segment lan (2401:4520:110b:300::/64) is dev wg0" "got: $route — 2401:4520:110b:300::/64 must be in wg0's AllowedIPs, more specific than the NIC's connected prefix"; fi

if birdc -s "$BIRD_SOCKET" show protocols router_cabin 2>&1 | grep -q Established; then pass "BGP session router_cabin Established"
else fail "BGP session router_cabin Established" "birdc show protocols all router_cabin; is TCP 179 open on wg0 from 2401:4520:110b:0:6547:7430:a811:b5d4?"; fi
if birdc -s "$BIRD_SOCKET" show bfd sessions 2>&1 | grep -F 2401:4520:110b:0:6547:7430:a811:b5d4 | grep -q Up; then pass "BFD session to 2401:4520:110b:0:6547:7430:a811:b5d4 Up"
else fail "BFD session to 2401:4520:110b:0:6547:7430:a811:b5d4 Up" "is UDP 3784 open on wg0 from 2401:4520:110b:0:6547:7430:a811:b5d4, and BFD enabled on the router's BGP connection?"; fi

summary
