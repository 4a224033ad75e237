#!/usr/bin/env bash
# Failover benchmark: brings up a lab of the bundled site (bgp-bfd, BFD 200 ms x 3), runs
# `relay6 lab failover --runs N --json` and records the figures (min / median / max over
# the runs) in bench/results/failover.json; with --static also the health-checked static
# route (ping every 10 s, 3 misses) in bench/results/failover-static.json. Root, Debian 12.
#   bash bench/failover.sh [--runs N] [--static [--static-runs M]]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10 static=0 static_runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --static) static=1; shift ;;
    --static-runs) static_runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--static [--static-runs M]]" >&2; exit 2 ;;
  esac
done
# The CLI as users run it: bin/relay6.js on a fresh build.
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
name="bench$$"
trap 'relay6 lab down --name "$name" >/dev/null 2>&1 || true' EXIT

# record SITE MODE RUNS OUTFILE
record() {
  local site="$1" mode="$2" n="$3" outfile="$4" t0 t1 figures
  relay6 lab down --name "$name" >/dev/null
  t0=$(date +%s%3N)
  relay6 lab up --name "$name" "$site" >&2
  t1=$(date +%s%3N)
  echo "[bench] relay6 lab failover --runs $n --json ($site)" >&2
  figures=$(relay6 lab failover --name "$name" --runs "$n" --json)
  relay6 lab down --name "$name" >/dev/null
  FIGURES="$figures" SITE="$site" MODE="$mode" UP_MS=$((t1 - t0)) node -e '
    const f = JSON.parse(process.env.FIGURES);
    const os = require("node:os");
    const out = {
      command: `relay6 lab failover --runs ${f.runs} --json`,
      mode: process.env.MODE,
      site: process.env.SITE,
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, kernel: os.release(), wireguard: "wireguard-go (userspace)" },
      lab_up_ms: Number(process.env.UP_MS),
      ...f,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  ' >"$outfile"
  echo "[bench] wrote $outfile" >&2
  cat "$outfile"
}

record lab/sites/lab.yaml bgp-bfd "$runs" bench/results/failover.json
if [ "$static" = 1 ]; then
  record test/lab/sites/static.yaml static "$static_runs" bench/results/failover-static.json
fi
