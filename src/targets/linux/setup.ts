// setup.sh (the installer, run on the router from the rendered router/ directory) and
// relay6-router-net (segment addresses + firewall, run at boot and by setup.sh).
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

export function renderNetScript(plan: Plan, firewall: string[]): string {
  const addrs: string[] = [];
  for (const s of plan.segments) {
    addrs.push(`ip -6 addr replace ${s.router.cidr} dev ${s.interface}`);
    if (s.ula) addrs.push(`ip -6 addr replace ${s.ula.router.cidr} dev ${s.interface}`);
  }
  return `#!/bin/bash
${header(plan, "#", "Segment addresses and the IPv6 firewall of the router.").join("\n")}
# Idempotent: the chains relay6 owns are flushed and refilled; other rules stay as they are.
set -euo pipefail

# The router's address in each segment's /64 (radvd advertises the prefixes).
${addrs.join("\n")}

# own_chain TABLE CHAIN PARENT: create or flush CHAIN, hook it first into PARENT once.
own_chain() {
  ip6tables -t "$1" -N "$2" 2>/dev/null || ip6tables -t "$1" -F "$2"
  ip6tables -t "$1" -C "$3" -j "$2" 2>/dev/null || ip6tables -t "$1" -I "$3" -j "$2"
}
own_chain filter RELAY6-IN INPUT
own_chain filter RELAY6-FWD FORWARD
own_chain mangle RELAY6-MSS FORWARD

${firewall.join("\n")}
`;
}

export function renderNetUnit(plan: Plan): string {
  return `${header(plan, "#", "systemd unit of relay6-router-net.").join("\n")}
[Unit]
Description=relay6: segment addresses and IPv6 firewall (site ${commentText(plan.site)})
After=network-pre.target
Before=radvd.service wg-quick@${plan.router.tunnelInterface}.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/relay6-router-net

[Install]
WantedBy=multi-user.target
`;
}

export function renderSetup(plan: Plan, step1: boolean): string {
  const wg = plan.router.tunnelInterface;
  const bgp = plan.failover.mode === "bgp-bfd";
  const pkgs = ["wireguard-tools", "radvd", "iptables", "iputils-ping", ...(bgp ? ["frr"] : [])];
  return `#!/bin/bash
${header(plan, "#", "Router setup for the relay (Debian/Ubuntu). Run as root from this folder: sudo bash setup.sh").join("\n")}
# Installs ${pkgs.join(", ")}, then the rendered files, then restarts what changed.
# Idempotent: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

echo "[#] packages: ${pkgs.join(" ")}"
missing=()
for p in ${pkgs.join(" ")}; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "\${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "\${missing[@]}"
fi

${
  step1
    ? `umask 077
mkdir -p /etc/wireguard
[ -s /etc/wireguard/${wg}.key ] || wg genkey >/etc/wireguard/${wg}.key
echo "router public key: $(wg pubkey </etc/wireguard/${wg}.key)"
echo "[#] step 1 done: put this key into router.publicKey (and the VPS's into vps.publicKey) in the site file, render again, run the new setup.sh"
exit 0
`
    : ""
}# put SRC DEST: install one file with the mode it was rendered with; note what changed.
changed=" "
put() {
  if ! cmp -s "$1" "$2"; then
    install -D -m "$(stat -c %a "$1")" "$1" "$2"
    changed+="$2 "
    echo "[#] wrote $2"
  fi
}
while IFS= read -r -d '' f; do put "files/$f" "/$f"; done < <(cd files && find . -type f -printf '%P\\0')

umask 077
mkdir -p /etc/wireguard
if [ -f secrets/${wg}.key ]; then
  put secrets/${wg}.key /etc/wireguard/${wg}.key
elif [ ! -s /etc/wireguard/${wg}.key ]; then
  echo "[#] making this router's WireGuard key"
  wg genkey >/etc/wireguard/${wg}.key
fi
echo "router public key: $(wg pubkey </etc/wireguard/${wg}.key)"
umask 022

is_changed() { for p in "$@"; do case "$changed" in *" $p "*) return 0 ;; esac; done; return 1; }

sysctl -q -p /etc/sysctl.d/99-relay6.conf
systemctl daemon-reload
systemctl enable -q relay6-router-net.service
if is_changed /usr/local/sbin/relay6-router-net /etc/systemd/system/relay6-router-net.service; then
  systemctl restart relay6-router-net.service
fi
systemctl enable -q wg-quick@${wg}.service
if is_changed /etc/wireguard/${wg}.conf /etc/wireguard/${wg}.key || ! systemctl -q is-active wg-quick@${wg}.service; then
  systemctl restart wg-quick@${wg}.service
fi
systemctl enable -q radvd.service
if is_changed /etc/radvd.conf || ! systemctl -q is-active radvd.service; then systemctl restart radvd.service; fi
${
  bgp
    ? `for d in $(grep -E '^[a-z]+=yes' /etc/relay6/frr-daemons | cut -d= -f1); do
  sed -i "s/^$d=.*/$d=yes/" /etc/frr/daemons
done
chown frr:frr /etc/frr/frr.conf
systemctl enable -q frr.service
if is_changed /etc/frr/frr.conf /etc/relay6/frr-daemons || ! systemctl -q is-active frr.service; then
  systemctl restart frr.service
fi`
    : `systemctl enable -q relay6-gw-check.service
if is_changed /usr/local/sbin/relay6-gw-check /etc/systemd/system/relay6-gw-check.service || ! systemctl -q is-active relay6-gw-check.service; then
  systemctl restart relay6-gw-check.service
fi`
}
echo "[#] done: wg show ${wg}; ip -6 route show default"
`;
}
