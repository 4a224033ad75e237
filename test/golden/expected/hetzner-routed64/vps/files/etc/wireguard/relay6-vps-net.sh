#!/bin/bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# The VPS's own address in the routed /64: keep it, drop its connected route.
# Usage: relay6-vps-net.sh up|down|status (status: exit 0 when nothing is left to do).
# Idempotent; every command is printed before it runs.
set -euo pipefail
nic=enp0s31f6 cidr=2001:db8:4f8:10::2/64 lan=2001:db8:4f8:10::/64
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
# The address as `ip -6 -o addr` shows it on the NIC ("" when the provider has not put it there).
line() { ip -6 -o addr show dev "$nic" | grep -F " inet6 $cidr " || true; }
case "${1:-up}" in
up)
  l=$(line)
  if [ -z "$l" ]; then echo "relay6-vps-net.sh: $cidr is not on $nic: nothing to move (the VPS uses another address)" >&2
  elif [[ "$l" != *noprefixroute* ]]; then run ip -6 addr change "$cidr" dev "$nic" noprefixroute
  fi
  # A connected or RA-learned route for the LAN /64 on the NIC would still beat wg0's.
  while ip -6 route show "$lan" dev "$nic" | grep -q .; do run ip -6 route del "$lan" dev "$nic"; done
  ;;
status)
  l=$(line)
  [ -z "$l" ] || [[ "$l" == *noprefixroute* ]] || exit 1
  ! ip -6 route show "$lan" dev "$nic" | grep -q .
  ;;
down)
  l=$(line)
  if [[ "$l" == *noprefixroute* ]]; then run ip -6 addr change "$cidr" dev "$nic"; fi
  ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
