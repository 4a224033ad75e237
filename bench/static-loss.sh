#!/usr/bin/env bash
# Static failover's false-failover budget (issue 11, item 4): a static lab (the Linux router's
# relay6-gw-check: a ping of the VPS every second, 3 unanswered in a row withdraw ::/0), random
# loss on the tunnel for a while, and how often the router's ::/0 was withdrawn anyway. The loss
# is iptables' `statistic --mode random` on the VPS's WireGuard port, both directions (this
# kernel has no netem, sch_netem is not built); 1 % each way costs a probe ~2 % of the time.
# Writes bench/results/static-loss.json (or --out). Root, Debian 12.
#   bash bench/static-loss.sh [--minutes 10] [--loss 1] [--misses N] [--out FILE]
# --misses N runs the check with RELAY6_CHECK_MISSES=N (1: the control without miss counting).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10 loss=1 misses="" out=bench/results/static-loss.json
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --loss) loss="$2"; shift 2 ;;
    --misses) misses="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes M] [--loss PERCENT] [--misses N] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
name="loss$$"
dir=/run/relay6-lab/$name
vps=r6-$name-vps rtr=r6-$name-rtr
prob=$(node -e "console.log(Number(process.argv[1]) / 100)" "$loss")
rules=("INPUT -p udp --dport 51820" "OUTPUT -p udp --sport 51820")
unloss() { for r in "${rules[@]}"; do ip netns exec "$vps" iptables -D $r -m statistic --mode random --probability "$prob" -j DROP 2>/dev/null || true; done; }
trap 'unloss; relay6 lab down --name "$name" >/dev/null 2>&1 || true' EXIT

relay6 lab up --name "$name" test/lab/sites/static.yaml >&2
if [ -n "$misses" ]; then
  # The gateway check started again with RELAY6_CHECK_MISSES (its pid is in the lab's state).
  pid=$(node -e 'const s = require(process.argv[1]); console.log(s.daemons.find((d) => d.name === "gw-check").pid)' "$dir/state.json")
  kill -- "-$pid"
  RELAY6_CHECK_MISSES="$misses" setsid ip netns exec "$rtr" bash "$dir/artifacts/router/files/usr/local/sbin/relay6-gw-check" >>"$dir/logs/rtr-gw-check.log" 2>&1 &
fi
for r in "${rules[@]}"; do ip netns exec "$vps" iptables -I $r -m statistic --mode random --probability "$prob" -j DROP; done
echo "[bench] ${loss} % random loss each way for $minutes min; counting withdrawals of the router's ::/0" >&2
seconds=$((minutes * 60))
withdrawn=$(timeout "$seconds" ip netns exec "$rtr" ip -6 monitor route | grep -c '^Deleted default' || true)
dropped=$(ip netns exec "$vps" iptables -nvxL | awk '/statistic mode random/ { n += $1 } END { print n + 0 }')
unloss
mkdir -p "$(dirname "$out")"
MIN="$minutes" LOSS="$loss" MISSES="${misses:-3}" W="$withdrawn" D="$dropped" node -e '
  const os = require("node:os");
  const e = process.env;
  process.stdout.write(JSON.stringify({
    command: `bash bench/static-loss.sh --minutes ${e.MIN} --loss ${e.LOSS}${e.MISSES !== "3" ? ` --misses ${e.MISSES}` : ""}`,
    minutes: Number(e.MIN),
    loss_percent_each_way: Number(e.LOSS),
    misses: Number(e.MISSES),
    probes: Number(e.MIN) * 60,
    tunnel_packets_dropped: Number(e.D),
    withdrawals: Number(e.W),
    loss: "iptables statistic --mode random on the VPS (no netem in this kernel)",
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, kernel: os.release(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  }, null, 2) + "\n");
' >"$out"
echo "[bench] wrote $out (withdrawn $withdrawn times; $dropped tunnel packets dropped)" >&2
cat "$out"
