#!/usr/bin/env bash
# ndppd loss benchmark (issue 10, not CI): brings up the relay6 lab of an on-link /64 site
# (default lab/sites/onlink.yaml: the lab's provider, inet, holds the /64 on its link to the
# VPS with no gateway and solicits every address; ndppd runs the rendered static rule),
# pings a LAN client from the internet host every INTERVAL seconds for DURATION seconds,
# and records the loss in bench/results/ndppd-loss.json, with the provider router's
# neighbour entry for the client (sampled every 100 ms) and the NS/NA on the VPS's NIC.
#   bash bench/ndppd-loss.sh [--duration S] [--interval S] [--site FILE] [--out FILE]
# Root, Debian 12 packages of scripts/install-deps.sh (ndppd 0.2.5), python3.
#
# The figure is for a Linux upstream: a real provider's router may behave differently.
# ndppd 0.2.5 never answers unicast NS (NUD probes), so inet's entry goes
# STALE -> DELAY -> PROBE -> FAILED and re-resolves by multicast every cycle; a Linux
# router queues the packets meanwhile. Two things would hide NUD, and this bench avoids both:
#  - the internet host is a namespace behind inet (the lab's "host"), not an address of inet;
#  - the pinger is a raw-socket one without MSG_CONFIRM, not iputils ping, which kept
#    inet's entry confirmed in this veth lab (measured: /work/notes/ndp-findings.md, fact 2).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=300 interval=0.1 site=lab/sites/onlink.yaml outfile=bench/results/ndppd-loss.json
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --interval) interval="$2"; shift 2 ;;
    --site) site="$2"; shift 2 ;;
    --out) outfile="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--interval S] [--site FILE] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
name="ndp$$"
W=$(mktemp -d /tmp/relay6-ndppd-loss.XXXXXX)
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  relay6 lab down --name "$name" >/dev/null 2>&1
  if [ "${KEEP:-0}" = 1 ]; then echo "[bench] raw logs: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
relay6 lab up --name "$name" --json "$site" >"$W/up.json"
# The lab's namespaces, the NIC, the first client with a global address and its /64.
read -r NS_HOST NS_INET NS_VPS NIC NS_C1 LAN < <(node -e '
  const u = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const s = JSON.parse(require("fs").readFileSync(require("path").join(u.dir, "state.json"), "utf8"));
  const c = u.nodes.clients.find((x) => x.global !== false);
  if (!u.nodes.host) throw new Error("this lab has no internet host namespace");
  if (!s.plan.vps.onLink) throw new Error(`${u.site}: not an on-link site (vps.onLink)`);
  console.log(u.nodes.host.ns, u.nodes.inet.ns, u.nodes.vps.ns, s.plan.vps.nic, c.ns, c.prefix);
' "$W/up.json")
HOST=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).addresses.internetHost)' "$W/up.json")
LAN_NET=${LAN%%::/64}
C1=$(ip -n "$NS_C1" -6 -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1 | grep "^$LAN_NET:" | head -1)
[ -n "$C1" ] || { echo "[bench] the client has no address in $LAN" >&2; exit 1; }
ok=0
for _ in $(seq 50); do ip netns exec "$NS_HOST" ping -6 -n -c1 -W1 "$C1" >/dev/null 2>&1 && { ok=1; break; }; sleep 0.2; done
[ "$ok" = 1 ] || { echo "[bench] the internet host cannot reach $C1" >&2; exit 1; }
NDPPD_CONF=$(node -e 'console.log(require("path").join(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).dir, "artifacts/vps/files/etc/relay6/ndppd.conf"))' "$W/up.json")
echo "[bench] client $C1 reachable from $HOST; ndppd.conf: $(grep -v '^#' "$NDPPD_CONF" | tr -s ' \n' ' ')" >&2

# --- measure ---------------------------------------------------------------------------------
ip netns exec "$NS_VPS" tcpdump -Z root -i "$NIC" -n -l -tt -vv "icmp6 and (ip6[40] == 135 or ip6[40] == 136)" >"$W/tcpdump.log" 2>&1 &
PIDS+=($!)
( while :; do printf '%s %s\n' "$(date +%s.%N)" "$(ip -n "$NS_INET" -6 neigh show "$C1" dev vps0)"; sleep 0.1; done ) >"$W/neigh.log" 2>&1 &
PIDS+=($!)
sleep 1
count=$(python3 -c "print(int(round($duration / $interval)))")
# Raw ICMPv6 echo every INTERVAL, no MSG_CONFIRM: one line per echo sent ("S seq time") and
# per reply ("R seq time").
cat >"$W/pinger.py" <<'PYEOF'
import os, select, socket, struct, sys, time
dst, interval, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
ident = os.getpid() & 0xFFFF
out = sys.stdout
def drain(until):
    while True:
        left = until - time.time()
        if left <= 0: return
        r, _, _ = select.select([s], [], [], left)
        if not r: return
        d = s.recv(2048)
        if len(d) >= 8 and d[0] == 129:
            i, q = struct.unpack("!HH", d[4:8])
            if i == ident: out.write("R %d %.6f\n" % (q, time.time()))
t0 = time.time()
for seq in range(1, count + 1):
    drain(t0 + (seq - 1) * interval)
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq & 0xFFFF) + b"relay6-ndppd-loss", (dst, 0))
    out.write("S %d %.6f\n" % (seq, time.time()))
drain(time.time() + 1.0)
PYEOF
echo "[bench] pinging $C1 from $HOST every $interval s for $duration s" >&2
T0=$(date +%s.%N)
ip netns exec "$NS_HOST" python3 "$W/pinger.py" "$C1" "$interval" "$count" >"$W/ping.log"
T1=$(date +%s.%N)
sleep 1.5
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
command="bash bench/ndppd-loss.sh --duration $duration --interval $interval --site $site"

mkdir -p "$(dirname "$outfile")"
python3 - "$W" "$T0" "$T1" "$count" "$interval" "$C1" >"$outfile" <<PYEOF
import json, os, platform, re, subprocess, sys, datetime
W, t0, t1, count, interval, C1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
got, sent = {}, {}
for l in open(f"{W}/ping.log"):
    f = l.split()
    if len(f) == 3 and f[0] in "SR": (sent if f[0] == "S" else got)[int(f[1])] = float(f[2])
lost = [q for q in range(1, count + 1) if q not in got]
trans = []
for l in open(f"{W}/neigh.log"):
    parts = l.split(None, 1)
    try: ts = float(parts[0])
    except ValueError: continue
    st = parts[1].split()[-1] if len(parts) > 1 and parts[1].strip() else "(none)"
    if ts >= t0 and (not trans or trans[-1][1] != st): trans.append((ts, st))
nd = []
for l in open(f"{W}/tcpdump.log"):
    m = re.match(r"(\d+\.\d+) IP6 .*\) (\S+) > (\S+): \[icmp6 sum ok\] ICMP6, neighbor (solicitation|advertisement), length \d+, (?:who has|tgt is) (\S+?),?(?:\s|$)", l)
    if m and m.group(5).rstrip(",") == C1: nd.append((m.group(4), m.group(3)))
rtt = sorted((got[q] - sent[q]) * 1000 for q in got if q in sent)
runs = []
for q in lost:
    if runs and q == runs[-1][-1] + 1: runs[-1].append(q)
    else: runs.append([q])
ver = subprocess.run(["dpkg-query", "-W", "-f", "\${Version}", "ndppd"], capture_output=True, text=True).stdout or "unknown"
out = {
    "command": "$command",
    "site": "$site",
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "upstream": "Linux (the lab's inet namespace): a real provider's router may behave differently",
    "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "ndppd": ver, "wireguard": "wireguard-go (userspace)",
                "load_start": "$load_start", "load_end": "$load_end", "note": "shared machine: other work ran meanwhile"},
    "duration_s": round(t1 - t0, 1),
    "interval_s": interval,
    "sent": count,
    "received": len(got),
    "lost": len(lost),
    "loss_percent": round(100.0 * len(lost) / count, 3),
    "lost_runs": [{"from_seq": r[0], "to_seq": r[-1], "at_s": round(sent.get(r[0], t0) - t0, 2)} for r in runs],
    "rtt_ms": {"median": round(rtt[len(rtt) // 2], 2), "p99": round(rtt[int(len(rtt) * 0.99)], 2), "max": round(rtt[-1], 2)} if rtt else None,
    "provider_neighbour_entry": {
        "failed": sum(1 for _, st in trans if st == "FAILED"),
        "probe": sum(1 for _, st in trans if st == "PROBE"),
        "changes": [f"{t - t0:.1f} {st}" for t, st in trans],
    },
    "ndp_on_vps_nic": {
        "multicast_ns": sum(1 for k, d in nd if k == "solicitation" and d.startswith("ff02")),
        "unicast_ns": sum(1 for k, d in nd if k == "solicitation" and not d.startswith("ff02")),
        "na": sum(1 for k, _ in nd if k == "advertisement"),
    },
}
print(json.dumps(out, indent=2))
PYEOF
echo "[bench] wrote $outfile" >&2
cat "$outfile"
