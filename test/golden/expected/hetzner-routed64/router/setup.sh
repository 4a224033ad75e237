#!/bin/bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# Router setup for the relay (Debian/Ubuntu). Run as root from this folder: sudo bash setup.sh
# Installs wireguard-tools, radvd, iptables, iputils-ping, frr, then the rendered files, then restarts what changed.
# Idempotent: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

echo "[#] packages: wireguard-tools radvd iptables iputils-ping frr"
missing=()
for p in wireguard-tools radvd iptables iputils-ping frr; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# put SRC DEST: install one file with the mode it was rendered with; note what changed.
changed=" "
put() {
  if ! cmp -s "$1" "$2"; then
    install -D -m "$(stat -c %a "$1")" "$1" "$2"
    changed+="$2 "
    echo "[#] wrote $2"
  fi
}
while IFS= read -r -d '' f; do put "files/$f" "/$f"; done < <(cd files && find . -type f -printf '%P\0')

umask 077
mkdir -p /etc/wireguard
if [ -f secrets/wg0.key ]; then
  put secrets/wg0.key /etc/wireguard/wg0.key
elif [ ! -s /etc/wireguard/wg0.key ]; then
  echo "[#] making this router's WireGuard key"
  wg genkey >/etc/wireguard/wg0.key
fi
echo "router public key: $(wg pubkey </etc/wireguard/wg0.key)"
umask 022

is_changed() { for p in "$@"; do case "$changed" in *" $p "*) return 0 ;; esac; done; return 1; }

sysctl -q -p /etc/sysctl.d/99-relay6.conf
systemctl daemon-reload
systemctl enable -q relay6-router-net.service
if is_changed /usr/local/sbin/relay6-router-net /etc/systemd/system/relay6-router-net.service; then
  systemctl restart relay6-router-net.service
fi
systemctl enable -q wg-quick@wg0.service
if is_changed /etc/wireguard/wg0.conf /etc/wireguard/wg0.key || ! systemctl -q is-active wg-quick@wg0.service; then
  systemctl restart wg-quick@wg0.service
fi
systemctl enable -q radvd.service
if is_changed /etc/radvd.conf || ! systemctl -q is-active radvd.service; then systemctl restart radvd.service; fi
for d in $(grep -E '^[a-z]+=yes' /etc/relay6/frr-daemons | cut -d= -f1); do
  sed -i "s/^$d=.*/$d=yes/" /etc/frr/daemons
done
chown frr:frr /etc/frr/frr.conf
systemctl enable -q frr.service
if is_changed /etc/frr/frr.conf /etc/relay6/frr-daemons || ! systemctl -q is-active frr.service; then
  systemctl restart frr.service
fi
echo "[#] done: wg show wg0; ip -6 route show default"
