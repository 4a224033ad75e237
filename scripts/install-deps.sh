#!/usr/bin/env bash
# Installs what relay6's tests need on a fresh Debian 12 machine (run as root):
# the daemons the namespace lab runs for real, and the npm packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
  wireguard-tools wireguard-go   # wg, wg-quick; userspace WireGuard (no kernel module here)
  bird2 frr radvd                # VPS BGP/BFD, router BGP/BFD, router advertisements
  ndppd                          # VPS NDP proxy for on-link /64s (vps.onLink); the lab runs it by hand
  systemd                        # systemd-analyze verify for the rendered units (works without systemd as PID 1)
  iproute2 iptables ufw          # namespaces, firewall (nft backend)
  iputils-ping iperf3 tcpdump    # lab probes
  curl python3                   # lab failover --fallback: a Happy Eyeballs client and one without
  openssh-server openssh-client  # the lab VPS's sshd (relay6 apply)
  vnstat jq                      # the VPS's transfer count (vps.transfer), read by relay6-status
  prometheus systemd             # promtool checks relay6-status's textfile; systemd-analyze its units
  procps psmisc kmod openssl ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[install-deps] apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[install-deps] npm ci" >&2
  npm ci --no-audit --no-fund
fi
