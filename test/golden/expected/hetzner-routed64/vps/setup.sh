#!/usr/bin/env bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# VPS setup for the relay. Run as root from this folder: sudo bash setup.sh
# Idempotent: a second run changes nothing. Every command is printed before it runs.
# If a step fails, every file it replaced is restored and the old state re-applied.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
has_systemd() { [ -d /run/systemd/system ]; }
bird_running() { birdc show status >/dev/null 2>&1; }

backup="$(mktemp -d /tmp/relay6-backup.XXXXXX)"
changed=0 wg_changed=0 bird_changed=0 unit_changed=0 sysctl_changed=0
wg_was_up=0; ip link show wg0 >/dev/null 2>&1 && wg_was_up=1
touched=()

# install_file SRC DST MODE OWNER: installs SRC when content, mode or owner differ, by an
# atomic rename; keeps the old file for rollback. Returns 0 when it installed.
install_file() {
  local src="$here/$1" dst="$2" mode="$3" owner="$4"
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c '%a %U:%G' "$dst")" = "$mode $owner" ]; then return 1; fi
  mkdir -p "$backup$(dirname "$dst")"
  if [ -e "$dst" ]; then cp -p "$dst" "$backup$dst"; else : > "$backup$dst.absent"; fi
  touched+=("$dst")
  run install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dst.relay6-new"
  run mv -f "$dst.relay6-new" "$dst"
  changed=1
}

rollback() {
  local status=$? dst
  trap - ERR EXIT
  if [ "$status" -eq 0 ]; then rm -rf "$backup"; return; fi
  printf '\n[relay6] FAILED (exit %s): restoring the previous state\n' "$status" >&2
  for dst in "${touched[@]}"; do
    if [ -e "$backup$dst.absent" ]; then rm -f "$dst"; else cp -p "$backup$dst" "$dst"; fi
    printf '[#] restored %s\n' "$dst" >&2
  done
  if [ "$wg_was_up" = 1 ] && [ "$wg_changed" = 1 ]; then wg_live_sync || true; fi
  if [ "$wg_was_up" = 0 ] && ip link show wg0 >/dev/null 2>&1; then wg_stop || true; fi
  if [ "$bird_changed" = 1 ] && bird_running; then birdc configure >/dev/null 2>&1 || true; fi
  if [ "$sysctl_changed" = 1 ] && [ -f /etc/sysctl.d/99-relay6.conf ]; then sysctl -q -p /etc/sysctl.d/99-relay6.conf || true; fi
  rm -rf "$backup"
  exit "$status"
}
trap rollback EXIT
trap 'exit 1' ERR

# wg syncconf would clear a private key the config does not hold, so the key is fed in
# from its file (never on a command line). wg-quick adds routes for AllowedIPs only on
# `up`: add the new ones, drop the old ones.
wg_live_sync() {
  printf '[#] %s\n' 'wg syncconf wg0 <(wg-quick strip wg0 + private key)' >&2
  wg syncconf wg0 <(awk 'NR == FNR { key = $0; next } { print } /^\[Interface\]/ { print "PrivateKey = " key }' /etc/wireguard/wg0.key <(wg-quick strip wg0))
  local want=() net w keep
  while read -r net; do want+=("$net"); done < <(wg show wg0 allowed-ips | cut -f 2 | tr ' ' '\n' | grep / || true)
  for net in "${want[@]}"; do run ip -6 route replace "$net" dev wg0; done
  while read -r net _; do
    [[ "$net" == */* ]] || net="$net/128" # ip prints host routes without /128
    keep=0; for w in "${want[@]}"; do [ "$w" = "$net" ] && keep=1; done
    [ "$keep" = 1 ] || run ip -6 route del "$net" dev wg0
  done < <(ip -6 route show dev wg0 proto boot)
}
wg_start() { if has_systemd; then run systemctl enable --now wg-quick@wg0; else run wg-quick up wg0; fi; }
wg_stop() { if has_systemd; then run systemctl stop wg-quick@wg0; else run wg-quick down wg0; fi; }
# Without systemd (a container, the relay6 lab) bird runs as its own daemon.
bird_start() { if has_systemd; then run systemctl enable --now bird; else run mkdir -p /run/bird; run bird -c /etc/bird/bird.conf; fi; }

step 'packages'
missing=()
for p in wireguard-tools iptables ufw bird2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  changed=1
fi

step 'WireGuard key'
install_file secrets/wg0.key /etc/wireguard/wg0.key 600 root:root && wg_changed=1 || true

step 'files'
install_file files/etc/wireguard/wg0.conf /etc/wireguard/wg0.conf 600 root:root && wg_changed=1 || true
install_file files/etc/wireguard/relay6-hook.sh /etc/wireguard/relay6-hook.sh 700 root:root || true
install_file files/etc/sysctl.d/99-relay6.conf /etc/sysctl.d/99-relay6.conf 644 root:root && sysctl_changed=1 || true
install_file files/etc/wireguard/relay6-vps-net.sh /etc/wireguard/relay6-vps-net.sh 700 root:root || true
install_file files/etc/bird/bird.conf /etc/bird/bird.conf 640 bird:bird && bird_changed=1 || true
install_file files/etc/systemd/system/bird.service.d/relay6-restart.conf /etc/systemd/system/bird.service.d/relay6-restart.conf 644 root:root && unit_changed=1 || true

step 'sysctl'
# Applied every run: cheap, and it repairs a value someone changed by hand.
run sysctl -q -p /etc/sysctl.d/99-relay6.conf

step 'firewall'
run bash "$here/firewall.sh"

step 'own address in the routed /64'
# Before wg0: the /64 must go into the tunnel, not to the NIC (wg0's PostUp does it too,
# at each start). Every run: the provider's network configuration (or a hand edit) may
# have put the connected route back.
if ! /etc/wireguard/relay6-vps-net.sh status; then run /etc/wireguard/relay6-vps-net.sh up; changed=1; fi

step 'wg0'
# The live peer, AllowedIPs and their routes, as the plan has them: a hand edit since the
# last run (wg set, ip route del) is put back too, not only a changed file.
wg_drifted() {
  [ "$(wg show wg0 allowed-ips | while read -r k ips; do for i in $ips; do echo "$k $i"; done; done | sort)" != "$(for i in fe80::2/128 2001:db8:4f8:10::/64; do echo "IQZjl43mcgn25ITcpMZKCpnr8Uv+EKRDVjYuRGhBHBM= $i"; done | sort)" ] && return 0
  # Each AllowedIP must route into wg0 (wg-quick adds no /128 the transit /64 covers).
  # (One address in each: a /64's network address can be the NIC's subnet-router anycast.)
  for a in 2001:db8:4f8:10::1; do ip -6 route get "$a" 2>/dev/null | grep -q ' dev wg0 ' || return 0; done
  return 1
}
if ip link show wg0 >/dev/null 2>&1; then
  if [ "$wg_changed" = 1 ]; then wg_live_sync
  elif wg_drifted; then step 'wg0 drifted from the plan: syncing it'; wg_changed=1; wg_live_sync; changed=1
  fi
else
  wg_start
  changed=1
fi
if has_systemd && ! systemctl is-enabled --quiet wg-quick@wg0; then run systemctl enable wg-quick@wg0; changed=1; fi

step 'bird'
if [ "$unit_changed" = 1 ] && has_systemd; then run systemctl daemon-reload; fi
if bird_running; then
  if [ "$bird_changed" = 1 ]; then run birdc configure; fi
else
  bird_start
  changed=1
fi

if [ "$changed" = 0 ]; then step "no changes: the VPS already matches the plan"; else step "done"; fi
echo "VPS WireGuard public key: $(wg pubkey < /etc/wireguard/wg0.key)"
