#!/usr/bin/env bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# wg-quick hook for wg0: run as `relay6-hook.sh up|down IFACE`.
set -u
action="$1" dev="$2"
saved=/etc/wireguard/wg0.endpoints

clamp() { # $1 = -A or -D; -A only adds what is missing
  if [ "$1" = -A ]; then ip6tables -t mangle -C FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || ip6tables -t mangle -A FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360; else ip6tables -t mangle -D FORWARD -o "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || true; fi
  if [ "$1" = -A ]; then ip6tables -t mangle -C FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || ip6tables -t mangle -A FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360; else ip6tables -t mangle -D FORWARD -i "$dev" -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360 2>/dev/null || true; fi
}

case "$action" in
up)
  clamp -A
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
  (umask 077; wg show "$dev" endpoints > "$saved.tmp" 2>/dev/null && mv "$saved.tmp" "$saved") || true
  clamp -D
  ;;
*) echo "usage: $0 up|down IFACE" >&2; exit 2 ;;
esac
exit 0
