#!/usr/bin/env bash
# Failover benchmark: brings up a lab of the bundled site (bgp-bfd, BFD 200 ms x 3), runs
# `relay6 lab failover --runs N --json` and records the figures (min / median / max over
# the runs: the router's ::/0, the first client's default route) in bench/results/failover.json.
#   --static     also the health-checked static route (a probe every second, 3 misses) in
#                bench/results/failover-static.json
#   --restore    the restore after 1 s and 3 s outages, --restore-runs each (20), in
#                bench/results/restore.json
#   --fallback   new connections from the clients after the block (curl and a client without
#                Happy Eyeballs; with and without the RA drain and the router's ICMPv6 errors)
#                in bench/results/fallback.json
# Root, Debian 12.
#   bash bench/failover.sh [--runs N] [--static [--static-runs M]] [--restore [--restore-runs N]] [--fallback]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10 static=0 static_runs=3 restore=0 restore_runs=20 fallback=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --static) static=1; shift ;;
    --static-runs) static_runs="$2"; shift 2 ;;
    --restore) restore=1; shift ;;
    --restore-runs) restore_runs="$2"; shift 2 ;;
    --fallback) fallback=1; shift ;;
    *) echo "usage: $0 [--runs N] [--static [--static-runs M]] [--restore [--restore-runs N]] [--fallback]" >&2; exit 2 ;;
  esac
done
# The CLI as users run it: bin/relay6.js on a fresh build.
[ "${RELAY6_SKIP_BUILD:-0}" = 1 ] || npm run build --silent
relay6() { node bin/relay6.js "$@"; }
name="bench$$"
tmp=$(mktemp -d)
trap 'relay6 lab down --name "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# record SITE MODE OUTFILE FAILOVER-ARGS...: a fresh lab, `lab failover FAILOVER-ARGS --json`.
record() {
  local site="$1" mode="$2" outfile="$3" t0 t1 figures
  shift 3
  relay6 lab down --name "$name" >/dev/null
  t0=$(date +%s%3N)
  relay6 lab up --name "$name" "$site" >&2
  t1=$(date +%s%3N)
  echo "[bench] relay6 lab failover $* --json ($site)" >&2
  figures=$(relay6 lab failover --name "$name" "$@" --json)
  relay6 lab down --name "$name" >/dev/null
  FIGURES="$figures" SITE="$site" MODE="$mode" UP_MS=$((t1 - t0)) ARGS="$*" node -e '
    const f = JSON.parse(process.env.FIGURES);
    const os = require("node:os");
    const out = {
      command: `relay6 lab failover ${process.env.ARGS} --json`,
      mode: process.env.MODE,
      site: process.env.SITE,
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, kernel: os.release(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), wireguard: "wireguard-go (userspace)" },
      lab_up_ms: Number(process.env.UP_MS),
      ...f,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  ' >"$outfile"
  echo "[bench] wrote $outfile" >&2
  cat "$outfile"
}

record lab/sites/lab.yaml bgp-bfd bench/results/failover.json --runs "$runs"
if [ "$static" = 1 ]; then
  record test/lab/sites/static.yaml static bench/results/failover-static.json --runs "$static_runs"
fi
if [ "$restore" = 1 ]; then
  record lab/sites/lab.yaml bgp-bfd "$tmp/restore-1.json" --runs "$restore_runs" --outage-ms 1000 --no-vps-restart >/dev/null
  record lab/sites/lab.yaml bgp-bfd "$tmp/restore-3.json" --runs "$restore_runs" --outage-ms 3000 --no-vps-restart >/dev/null
  node -e '
    const fs = require("node:fs");
    const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
    const a = read(process.argv[1]), b = read(process.argv[2]);
    const pick = (x) => ({ command: x.command, detect_ms: x.detect_ms, restore_ms: x.restore_ms, ra_restore_ms: x.ra_restore_ms, runs: x.runs, loadavg: x.machine.loadavg });
    process.stdout.write(JSON.stringify({ outage_1s: pick(a), outage_3s: pick(b), date: b.date, machine: b.machine }, null, 2) + "\n");
  ' "$tmp/restore-1.json" "$tmp/restore-3.json" >bench/results/restore.json
  echo "[bench] wrote bench/results/restore.json" >&2
  cat bench/results/restore.json
fi
if [ "$fallback" = 1 ]; then
  record lab/sites/lab.yaml bgp-bfd bench/results/fallback.json --runs 1 --no-vps-restart --fallback
fi
