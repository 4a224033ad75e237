#!/usr/bin/env bash
# managed by relay6 for site vultr. Re-render instead of editing.
# wg-quick hook for wg0: run as `relay6-hook.sh up|down|guard IFACE`.
set -u
action="$1" dev="$2"
saved=/etc/wireguard/wg0.endpoints

clamp() { # $1 = -A or -D; -A only adds what is missing
  if [ "$1" = -A ]; then ip6tables -t mangle -C FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || ip6tables -t mangle -A FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360; else ip6tables -t mangle -D FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || true; fi
  if [ "$1" = -A ]; then ip6tables -t mangle -C FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || ip6tables -t mangle -A FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360; else ip6tables -t mangle -D FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || true; fi
}

guard() { # $1 = -A or -D
  if [ "$1" = -A ]; then
    ip6tables -t mangle -N RELAY6-SRC 2>/dev/null || ip6tables -t mangle -F RELAY6-SRC
    ip6tables -t mangle -A RELAY6-SRC -s fe80::2/128 -j RETURN
    ip6tables -t mangle -A RELAY6-SRC -s 2001:db8:77:1::/64 -j RETURN
    ip6tables -t mangle -A RELAY6-SRC -s fd42:77:1:30::/64 -j RETURN
    ip6tables -t mangle -A RELAY6-SRC -j DROP
    ip6tables -t mangle -C FORWARD -i "$dev" -o enp1s0 -p ipv6-icmp -j RELAY6-SRC 2>/dev/null || ip6tables -t mangle -A FORWARD -i "$dev" -o enp1s0 -p ipv6-icmp -j RELAY6-SRC
  else
    ip6tables -t mangle -D FORWARD -i "$dev" -o enp1s0 -p ipv6-icmp -j RELAY6-SRC 2>/dev/null || true
    ip6tables -t mangle -F RELAY6-SRC 2>/dev/null && ip6tables -t mangle -X RELAY6-SRC 2>/dev/null || true
  fi
}

case "$action" in
up)
  clamp -A
  guard -A
  if [ -s "$saved" ]; then
    while read -r key endpoint; do
      case "$endpoint" in ""|"(none)") continue ;; esac
      wg set "$dev" peer "$key" endpoint "$endpoint" 2>/dev/null || true
    done < "$saved"
    # One packet makes the VPS start the handshake instead of waiting for the router's.
    (ping -6 -c 1 -W 1 fe80::2%wg0 >/dev/null 2>&1 &)
  fi
  ;;
down)
  if (umask 077; wg show "$dev" endpoints > "$saved.tmp") 2>/dev/null; then mv -f "$saved.tmp" "$saved"; else rm -f "$saved.tmp"; fi
  clamp -D
  guard -D
  ;;
guard)
  # After a live wg syncconf: the chain refilled with the sources the plan has now.
  ip link show "$dev" >/dev/null 2>&1 && guard -A
  ;;
*) echo "usage: $0 up|down|guard IFACE" >&2; exit 2 ;;
esac
exit 0
