#!/usr/bin/env bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# The recipe's smoke test, on the Linux router. Exit 0 = every check passed.
# VTYSH_ARGS: extra vtysh arguments (e.g. --vty_socket DIR when FRR runs by hand).
set -uo pipefail
fails=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() { printf 'FAIL  %s\n      hint: %s\n' "$1" "$2"; fails=$((fails + 1)); }
summary() { if [ "$fails" -eq 0 ]; then echo 'all checks passed'; exit 0; else echo "$fails check(s) failed"; exit 1; fi; }
VTYSH_ARGS="${VTYSH_ARGS:-}"

now=$(date +%s)
hs=$(wg show wg0 latest-handshakes 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)
if [ -n "$hs" ] && [ "$hs" -gt 0 ] && [ $((now - hs)) -lt 180 ]; then pass "WireGuard handshake $((now - hs)) s ago"
else fail "WireGuard handshake within 180 s" "can the router reach 198.51.100.8:51820 over UDP? does the VPS hold this router's public key?"; fi
if ping -6 -c 2 -W 2 -I fe80::2%wg0 fe80::1%wg0 >/dev/null 2>&1; then pass "ping VPS transit fe80::1"
else fail "ping VPS transit fe80::1" "no answer over the tunnel: check the handshake"; fi
if ip -6 addr show dev br0 2>/dev/null | grep -q ' 2001:db8:4f8:10::1/64 '; then pass "segment lan: 2001:db8:4f8:10::1/64 on br0"
else fail "segment lan: 2001:db8:4f8:10::1/64 on br0" "run /usr/local/sbin/relay6-router-net (systemctl restart relay6-router-net)"; fi
def=$(ip -6 route show default)
if [[ "$def" == *"proto bgp"* && "$def" == *"dev wg0"* ]]; then pass "::/0 from BGP via wg0"; else fail "::/0 from BGP via wg0" "got: ${def:-no default route}; check BGP and BFD with the VPS"; fi
if pgrep -x radvd >/dev/null; then pass "radvd is running"; else fail "radvd is running" "systemctl status radvd"; fi
if vtysh $VTYSH_ARGS -c 'show bfd peers brief' 2>/dev/null | grep -F fe80::1 | grep -qw up; then pass "BFD up with fe80::1"
else fail "BFD up with fe80::1" "is UDP 3784 open on the VPS's wg0 from fe80::2?"; fi

summary
