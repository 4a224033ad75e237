#!/usr/bin/env bash
# managed by relay6 for site home. Re-render instead of editing.
# VPS setup for the relay. Run as root from this folder: sudo bash setup.sh
# Idempotent: a second run changes nothing. Every command is printed before it runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
changed=0 wg_changed=0 bird_changed=0 unit_changed=0
# install_file SRC DST MODE OWNER: copies when content, mode or owner differ; returns 0 if it copied
install_file() {
  local src="$here/$1" dst="$2" mode="$3" owner="$4"
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c '%a %U:%G' "$dst")" = "$mode $owner" ]; then return 1; fi
  run install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dst"
  changed=1
}

[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }

step 'packages'
missing=()
for p in wireguard-tools iptables ufw; do
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
install_file files/etc/wireguard/relay6-hook.sh /etc/wireguard/relay6-hook.sh 700 root:root && wg_changed=1 || true
install_file files/etc/sysctl.d/99-relay6.conf /etc/sysctl.d/99-relay6.conf 644 root:root || true

step 'sysctl'
# Applied every run: cheap, and it repairs a value someone changed by hand.
run sysctl -q -p /etc/sysctl.d/99-relay6.conf

step 'firewall'
run bash "$here/firewall.sh"

step 'wg0'
if ip link show wg0 >/dev/null 2>&1; then
  if [ "$wg_changed" = 1 ]; then
    # Live: peers and AllowedIPs change without dropping the tunnel. syncconf would clear
    # a private key the config does not hold, so the key is fed in from its file (never
    # on a command line).
    printf '[#] %s\n' 'wg syncconf wg0 <(wg-quick strip wg0 + private key)' >&2
    wg syncconf wg0 <(awk 'NR == FNR { key = $0; next } { print } /^\[Interface\]/ { print "PrivateKey = " key }' /etc/wireguard/wg0.key <(wg-quick strip wg0))
    # wg-quick adds routes for AllowedIPs only on `up`: add new ones, drop old ones.
    want=(2401:4520:110b::2/128 2401:4520:110b:1::/64 2401:4520:110b:10::/64 2401:4520:110b:11::/64)
    for net in "${want[@]}"; do run ip -6 route replace "$net" dev wg0; done
    while read -r net _; do
      [[ "$net" == */* ]] || net="$net/128" # ip prints host routes without /128
      keep=0; for w in "${want[@]}"; do [ "$w" = "$net" ] && keep=1; done
      [ "$keep" = 1 ] || run ip -6 route del "$net" dev wg0
    done < <(ip -6 route show dev wg0 proto boot)
  fi
else
  run systemctl enable --now wg-quick@wg0
  changed=1
fi
systemctl is-enabled --quiet wg-quick@wg0 || { run systemctl enable wg-quick@wg0; changed=1; }

if [ "$changed" = 0 ]; then step "no changes: the VPS already matches the plan"; else step "done"; fi
echo "VPS WireGuard public key: $(wg pubkey < /etc/wireguard/wg0.key)"
