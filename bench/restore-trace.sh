#!/usr/bin/env bash
# Timestamped trace of the restore after a tunnel outage, in a running lab (issue 11, item 3).
#
#   bash bench/restore-trace.sh --name LAB [--runs N] [--wait S] [--wait-max S] [--jitter S]
#                               [--out DIR] [--no-capture] [--debug]
#   python3 bench/restore-timeline.py DIR [--md|--json]    # the per-restore timelines
#
# Each run: wait until the router's ::/0 is there and BFD is Up on both ends for 1 s; block
# WireGuard's UDP port on the VPS (iptables INPUT and OUTPUT, as `relay6 lab failover`
# does, but both rules in one transaction so that both directions open at once); when
# the router's ::/0 is withdrawn, wait S seconds (default 1; with --wait-max, a random
# time between the two), unblock, and wait for ::/0 to come back. --jitter S pauses a
# random 0..S s before each block. Times come from `ip -ts monitor route` in the router's
# namespace (no polling), block/unblock times from bash's $EPOCHREALTIME right after
# iptables.
#
# With capture on (the default) it also records, for the whole series:
#   DIR/vps-wg0.pcap, DIR/rtr-wg0.pcap    BFD (UDP 3784) and BGP (TCP 179) inside the tunnel
#   DIR/vps-eth0.pcap, DIR/rtr-wan0.pcap  the WireGuard underlay (UDP 51820)
#   DIR/route.log                          the router's IPv6 route events, timestamped
#   DIR/runs.tsv                           run, block, withdrawn, unblock, back (epoch s)
# and the part of FRR's logs (the lab's) written meanwhile: DIR/rtr-{bgpd,bfdd,zebra}.log.
# --debug turns on FRR's BFD/BGP/zebra debugging with microsecond timestamps, and runs
# bird on a copy of its bird.conf that logs everything (`debug protocols all`) to
# DIR/vps-bird.log; both are put back at the end.
#
# Needs root, a lab made by `relay6 lab up --name LAB` in bgp-bfd mode, tcpdump.
set -euo pipefail

name="" runs=10 wait=1 wait_max="" out="" capture=1 debug=0 jitter=0
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --wait) wait="$2"; shift 2 ;;
    --wait-max) wait_max="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-capture) capture=0; shift ;;
    --debug) debug=1; shift ;;
    --jitter) jitter="$2"; shift 2 ;;
    *) echo "usage: $0 --name LAB [--runs N] [--wait S] [--wait-max S] [--jitter S] [--out DIR] [--no-capture] [--debug]" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] || { echo "$0: --name LAB is required (a lab you made with relay6 lab up --name LAB)" >&2; exit 2; }
labdir="/run/relay6-lab/$name"
vps="r6-$name-vps" rtr="r6-$name-rtr"
[ -f "$labdir/state.json" ] || { echo "$0: no lab \"$name\" ($labdir/state.json missing)" >&2; exit 1; }
out="${out:-$labdir/restore-trace-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
port=51820
birdc=(ip netns exec "$vps" birdc -s "$labdir/bird-run/bird.ctl")
vtysh=(ip netns exec "$rtr" vtysh --vty_socket "$labdir/frr")

pids=()
block() { # $1 = -I | -D: both directions in one iptables transaction (nft backend)
  if [ "$1" = -D ] && ! ip netns exec "$vps" iptables -C INPUT -p udp --dport "$port" -j DROP 2>/dev/null; then return 0; fi
  printf '*filter\n%s INPUT -p udp --dport %s -j DROP\n%s OUTPUT -p udp --sport %s -j DROP\nCOMMIT\n' "$1" "$port" "$1" "$port" |
    ip netns exec "$vps" iptables-restore --noflush
}
frr_debug=(bfd\ peer bfd\ network bgp\ neighbor-events bgp\ updates bgp\ bfd bgp\ nht zebra\ rib zebra\ kernel)
debug_set() { # on | off
  local args=() d
  if [ "$1" = on ]; then
    args=(-c 'conf t' -c 'log timestamp precision 6' -c 'log stdout debugging' -c end)
    for d in "${frr_debug[@]}"; do args+=(-c "debug $d"); done
    "${vtysh[@]}" "${args[@]}" >/dev/null 2>&1
    { printf 'log "%s" all;\ntimeformat log iso long us;\ndebug protocols all;\n' "$out/vps-bird.log"
      grep -v '^log ' "/etc/netns/$vps/bird/bird.conf"; } > "$out/bird-debug.conf"
    "${birdc[@]}" configure "\"$out/bird-debug.conf\"" >/dev/null
  else
    for d in "${frr_debug[@]}"; do args+=(-c "no debug $d"); done
    "${vtysh[@]}" "${args[@]}" -c 'conf t' -c 'log stdout informational' -c end >/dev/null 2>&1
    "${birdc[@]}" configure '"/etc/bird/bird.conf"' >/dev/null
  fi
}
cleanup() {
  block -D || true
  sleep 0.5 # the last packets reach the captures and the logs
  [ "$debug" = 0 ] || debug_set off || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$capture" = 1 ]; then
  tdump() { # ns iface file filter
    ip netns exec "$1" tcpdump -Z root -i "$2" -n -U --immediate-mode -s 200 -w "$out/$3" "$4" 2>>"$out/tcpdump.log" &
    pids+=($!)
  }
  tunnel='udp port 3784 or udp port 3785 or udp port 4784 or tcp port 179'
  tdump "$vps" wg0 vps-wg0.pcap "$tunnel"
  tdump "$rtr" wg0 rtr-wg0.pcap "$tunnel"
  tdump "$vps" eth0 vps-eth0.pcap "udp port $port"
  tdump "$rtr" wan0 rtr-wan0.pcap "udp port $port"
fi
# The daemons' logs are the lab's: note where each series starts in them.
for f in "$labdir"/logs/rtr-bgpd.log "$labdir"/logs/rtr-bfdd.log "$labdir"/logs/rtr-zebra.log; do
  [ -f "$f" ] && printf '%s\t%s\n' "$f" "$(stat -c %s "$f")" >> "$out/log-offsets.tsv"
done

[ "$debug" = 0 ] || debug_set on

# Route events, read as they come (no polling).
coproc MON { exec ip -n "$rtr" -ts -6 monitor route; }
pids+=("$MON_PID")
exec 3<&"${MON[0]}"
: > "$out/route.log"
sleep 0.5 # let tcpdump and the monitor attach

present() { [ -n "$(ip -n "$rtr" -6 route show default proto bgp)" ]; }
bfd_up() {
  "${vtysh[@]}" -c 'show bfd peers brief' 2>/dev/null | grep -qw up &&
    "${birdc[@]}" show bfd sessions 2>/dev/null | grep -qw Up
}
settle() { # ::/0 and BFD Up on both ends, for 1 s in a row
  local since="" now
  for _ in $(seq 1 300); do
    now=$EPOCHREALTIME
    if present && bfd_up; then
      [ -n "$since" ] || since=$now
      awk -v a="$since" -v b="$now" 'BEGIN{exit !(b-a>=1)}' && return 0
    else since=""; fi
    sleep 0.2
  done
  echo "$0: the lab did not settle (no ::/0 or BFD not Up) within 60 s" >&2; return 1
}
# Waits for a route event on the default route: $1 = add | del. Prints its timestamp.
await_route() {
  local line ts deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    IFS= read -r -t 1 line <&3 || continue
    printf '%s\n' "$line" >> "$out/route.log"
    case "$line" in
      *"] default "*"proto bgp"*) [ "$1" = add ] || continue ;;
      *"] Deleted default "*"proto bgp"*) [ "$1" = del ] || continue ;;
      *) continue ;;
    esac
    ts="${line#[}"; ts="${ts%%]*}"
    date -d "$ts" +%s.%N | cut -c1-17
    return 0
  done
  echo "$0: no route $1 within 30 s" >&2; return 1
}
drain() { while IFS= read -r -t 0.05 line <&3; do printf '%s\n' "$line" >> "$out/route.log"; done; }

printf 'run\tblock\twithdrawn\tunblock\tback\tdetect_ms\trestore_ms\tload1\tunblock_start\twait_s\n' > "$out/runs.tsv"
for i in $(seq 1 "$runs"); do
  settle
  # A random 0..S s pause before the block: the daemons' free-running timers (bird's 1 s
  # interface scan) then meet the unblock at a random phase, as a real outage would.
  [ "$jitter" = 0 ] || sleep "$(awk -v j="$jitter" -v r="$RANDOM" 'BEGIN{printf "%.3f", j*r/32768}')"
  drain
  block -I; t_block=$EPOCHREALTIME
  t_gone=$(await_route del)
  w=$wait
  [ -z "$wait_max" ] || w=$(awk -v a="$wait" -v b="$wait_max" -v r="$RANDOM" 'BEGIN{printf "%.3f", a+(b-a)*r/32768}')
  sleep "$w"
  t_u0=$EPOCHREALTIME; block -D; t_unblock=$EPOCHREALTIME
  t_back=$(await_route add)
  load=$(cut -d' ' -f1 /proc/loadavg)
  awk -v i="$i" -v b="$t_block" -v g="$t_gone" -v u="$t_unblock" -v k="$t_back" -v l="$load" -v u0="$t_u0" -v w="$w" \
    'BEGIN{printf "%d\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\t%s\t%.6f\t%s\n", i, b, g, u, k, (g-b)*1000, (k-u)*1000, l, u0, w}' >> "$out/runs.tsv"
  tail -n 1 "$out/runs.tsv" | awk -F'\t' '{printf "run %s: detect %s ms, restore %s ms (load %s)\n", $1, $6, $7, $8}'
done
awk -F'\t' 'NR>1{print $7}' "$out/runs.tsv" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "restore_ms min %d median %d max %d (n=%d)\n", a[1], m, a[NR], NR}'
for f in bgpd bfdd zebra; do
  src="$labdir/logs/rtr-$f.log"; off=$(awk -F'\t' -v f="$src" '$1==f{print $2}' "$out/log-offsets.tsv" 2>/dev/null)
  [ -f "$src" ] && tail -c +"$(( ${off:-0} + 1 ))" "$src" > "$out/rtr-$f.log"
done
echo "trace in $out"
