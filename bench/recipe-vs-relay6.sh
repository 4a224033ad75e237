#!/usr/bin/env bash
# The recipe's VPS side next to relay6's, in the lab (issue 11, item 5). One lab per variant,
# the same Linux router (relay6's linux target; its RA drain off for the recipe's variants),
# the same clients and the same `relay6 lab failover` runs:
#   recipe             the recipe's VPS side as printed: its wg0.conf (AllowedIPs per /64, the
#                      link-local of section 4a), its bird.conf, its ufw lines, ufw inactive
#                      (the recipe never enables it: its `ufw reload` skips an inactive ufw)
#   recipe_ufw_active  the same on a VPS whose ufw is active (SSH allowed, then the recipe's
#                      lines): its ufw drops the router's BGP and BFD
#   relay6             relay6's rendered VPS side (and the router's RA drain)
# <LAN_PREFIX> is a three-group prefix (2001:db8:4600 for the lab's 2001:db8:4600::/48), so the
# timing is compared, not the recipe's string-pasting trap (docs/lab.md).
# Writes {"recipe":{...},"recipe_ufw_active":{...},"relay6":{...},"machine":{...},"date":...}:
# detect_ms, restore_ms, vps_restart_ms, ra_drain_ms as min/median/max, null where a figure
# never came (within 15 s). Root, Debian 12.
#   bash bench/recipe-vs-relay6.sh [--runs N] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 out=bench/results/recipe-vs-relay6.json
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
site=lab/sites/lab.yaml
name="rvr$$"
work=$(mktemp -d)
trap 'relay6 lab down --name "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The recipe's placeholders for the lab's site (lab/sites/lab.yaml): the VPS's NIC, AS numbers
# and router id as relay6's defaults have them; the keys are filled in by `lab up --vps-etc`.
LAN_PREFIX=2001:db8:4600 VPS_NIC=eth0 VPS_AS=65002 MT_AS=65001 VPS_ROUTER_ID=10.0.0.1
fill() { sed -e "s/<LAN_PREFIX>/$LAN_PREFIX/g" -e "s/<VPS_NIC>/$VPS_NIC/g" -e "s/<VPS_AS>/$VPS_AS/g" -e "s/<MT_AS>/$MT_AS/g" -e "s/<VPS_ROUTER_ID>/$VPS_ROUTER_ID/g"; }

etc="$work/recipe-etc"
mkdir -p "$etc/wireguard" "$etc/bird" "$etc/sysctl.d"
# Section 1: /etc/sysctl.d/99-wg-relay.conf
fill >"$etc/sysctl.d/99-wg-relay.conf" <<'EOF'
net.ipv6.conf.all.forwarding = 1
net.ipv6.conf.default.forwarding = 1
net.ipv6.conf.<VPS_NIC>.accept_ra = 2
EOF
# Section 1: /etc/wireguard/wg0.conf (PrivateKey = ${VPS_PRIVKEY} in the recipe's heredoc),
# then section 4a's appended [Interface] with the link-local bird's `next hop self` needs.
fill >"$etc/wireguard/wg0.conf" <<'EOF'
[Interface]
PrivateKey = <VPS_PRIVKEY>
Address    = <LAN_PREFIX>:0::1/64
ListenPort = 51820
MTU        = 1420

[Peer]
# MikroTik
PublicKey  = <MT_PUBKEY>
# One entry per LAN /64 so wg-quick installs more-specific routes that beat
# the provider's /48 connected route on the public NIC. Section above explains.
AllowedIPs = <LAN_PREFIX>:0::2/128, <LAN_PREFIX>:1::/64, <LAN_PREFIX>:10::/64, <LAN_PREFIX>:20::/64
PersistentKeepalive = 25

[Interface]
# ...existing Address line stays...
Address = fe80::1/64
EOF
chmod 600 "$etc/wireguard/wg0.conf"
# Section 4a: /etc/bird/bird.conf, verbatim.
fill >"$etc/bird/bird.conf" <<'EOF'
log syslog all;
router id <VPS_ROUTER_ID>;

protocol device { }

protocol kernel kernel6 {
  ipv6 { export none; import all; };
  learn yes;
}

protocol bfd {
  interface "wg0" {
    min rx interval 200 ms;
    min tx interval 200 ms;
    idle tx interval 1 s;
    multiplier 3;
  };
  # Explicit neighbor so bird actively probes the MikroTik instead of just
  # responding. See "Why bird needs an explicit BFD neighbor" below.
  neighbor <LAN_PREFIX>:0::2 dev "wg0";
}

protocol bgp mikrotik {
  local <LAN_PREFIX>:0::1 as <VPS_AS>;
  neighbor <LAN_PREFIX>:0::2 as <MT_AS>;
  ipv6 {
    import none;
    export where net = ::/0;
    next hop self;
  };
}
EOF
# Section 1: the recipe's ufw lines.
cat >"$work/recipe-ufw.sh" <<'EOF'
set -e
ufw allow 51820/udp comment "WireGuard"
ufw route allow in on wg0
ufw route allow out on wg0
ufw reload || true
EOF
# The same on a VPS whose ufw is active (as many images ship it: SSH allowed, enabled).
{ printf 'set -e\nufw allow 22/tcp\nufw --force enable\n'; tail -n +2 "$work/recipe-ufw.sh"; } >"$work/recipe-ufw-active.sh"

# variant NAME LAB-UP-ARGS...: a lab, the failover runs, the lab down; prints the figures.
variant() {
  local v="$1"
  shift
  relay6 lab down --name "$name" >/dev/null
  echo "[bench] $v: relay6 lab up $* $site" >&2
  relay6 lab up --name "$name" "$@" "$site" >&2
  echo "[bench] $v: relay6 lab failover --runs $runs --json --allow-missing" >&2
  relay6 lab failover --name "$name" --runs "$runs" --json --allow-missing >"$work/$v.json"
  relay6 lab down --name "$name" >/dev/null
}
variant recipe --no-drain --vps-etc "$etc" --vps-firewall "$work/recipe-ufw.sh"
variant recipe_ufw_active --no-drain --vps-etc "$etc" --vps-firewall "$work/recipe-ufw-active.sh"
variant relay6

mkdir -p "$(dirname "$out")"
WORK="$work" RUNS="$runs" node -e '
  const fs = require("node:fs");
  const os = require("node:os");
  const pick = (v) => {
    const f = JSON.parse(fs.readFileSync(`${process.env.WORK}/${v}.json`, "utf8"));
    return { detect_ms: f.detect_ms, restore_ms: f.restore_ms, vps_restart_ms: f.vps_restart_ms ?? null, ra_drain_ms: f.ra_drain_ms, runs: f.runs, drain: f.drain };
  };
  const out = {
    command: `bash bench/recipe-vs-relay6.sh --runs ${process.env.RUNS}`,
    recipe: pick("recipe"),
    recipe_ufw_active: pick("recipe_ufw_active"),
    relay6: pick("relay6"),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), wireguard: "wireguard-go (userspace)" },
    date: new Date().toISOString(),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
' >"$out"
echo "[bench] wrote $out" >&2
cat "$out"
