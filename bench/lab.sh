#!/usr/bin/env bash
# A user's run of the lab, timed: `relay6 lab up`, `relay6 lab test --json` and `relay6 lab down`
# of the bundled site, --rounds times (default 3), and the bulk TCP throughput that `lab test`
# measured (client <-> internet host through the relay; userspace WireGuard: wireguard-go).
# Writes bench/results/lab.json (or --out). Root, Debian 12.
#   bash bench/lab.sh [--rounds N] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 out=bench/results/lab.json
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
name="lab$$"
work=$(mktemp -d)
trap 'relay6 lab down --name "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
ms() { date +%s%3N; }

for i in $(seq 1 "$rounds"); do
  relay6 lab down --name "$name" >/dev/null
  t0=$(ms); relay6 lab up --name "$name" >&2; t1=$(ms)
  relay6 lab test --name "$name" --json >"$work/test-$i.json" || true
  t2=$(ms); relay6 lab down --name "$name" >/dev/null; t3=$(ms)
  echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2))" >"$work/times-$i"
  echo "[bench] round $i: up $((t1 - t0)) ms, test $((t2 - t1)) ms, down $((t3 - t2)) ms" >&2
done

mkdir -p "$(dirname "$out")"
WORK="$work" ROUNDS="$rounds" node -e '
  const fs = require("node:fs");
  const os = require("node:os");
  const n = Number(process.env.ROUNDS);
  const mmm = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    if (s.length === 0) return null;
    const m = Math.floor(s.length / 2);
    return { min: s[0], median: s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2), max: s[s.length - 1] };
  };
  const up = [], test = [], down = [], mbit = [];
  let checks = null, passed = [];
  for (let i = 1; i <= n; i++) {
    const [a, b, c] = fs.readFileSync(`${process.env.WORK}/times-${i}`, "utf8").trim().split(" ").map(Number);
    up.push(a); test.push(b); down.push(c);
    const t = JSON.parse(fs.readFileSync(`${process.env.WORK}/test-${i}.json`, "utf8"));
    checks = t.results.length;
    passed.push(t.results.filter((r) => r.ok).length);
    for (const r of t.results)
      if (/bulk TCP to the internet host/.test(r.name)) for (const m of r.detail.matchAll(/at (\d+) Mbit\/s/g)) mbit.push(Number(m[1]));
  }
  process.stdout.write(JSON.stringify({
    command: `bash bench/lab.sh --rounds ${n}`,
    site: "lab/sites/lab.yaml",
    rounds: n,
    lab_up_ms: mmm(up),
    lab_test_ms: mmm(test),
    lab_down_ms: mmm(down),
    checks,
    checks_passed: passed,
    bulk_tcp_mbit_s: mmm(mbit),
    bulk_tcp_note: "8 MiB each way per client (iperf3), client <-> internet host through the relay; userspace WireGuard (wireguard-go)",
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, kernel: os.release(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), wireguard: "wireguard-go (userspace)" },
  }, null, 2) + "\n");
' >"$out"
echo "[bench] wrote $out" >&2
cat "$out"
