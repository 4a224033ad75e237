// vps.alerts: the relay checked from the VPS itself, every `every` seconds, by a systemd
// timer: relay6-status judges each site's tunnel (a handshake within 180 s), BGP session
// and BFD session, and the transfer quota, as `relay6 status --check` does (the same check
// names); logs each failure to the journal (priority err); runs vps.alerts.onFailure when
// the set of failures changes; keeps the event log `relay6 status` shows (a line per state
// change, at bird's own time of the change when bird has one); and writes a node-exporter
// textfile (Prometheus) when the textfile directory exists. Rendered, pure.
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";
import { shQuote } from "../../render/quote.js";
import { BIRD_PROTOCOL } from "./bird.js";

export const STATUS_DIR = "/var/lib/relay6";
export const EVENTS_FILE = `${STATUS_DIR}/events.log`;
export const PROM_FILE = "/var/lib/prometheus/node-exporter/relay6.prom";
export const STATUS_SCRIPT = "/usr/local/sbin/relay6-status";
export const STATUS_UNIT = "relay6-status";
/** The event log keeps this many lines. */
export const EVENTS_KEPT = 1000;

/** The check script. Environment (for tests, and to move its files): RELAY6_STATUS_DIR,
 *  RELAY6_PROM_FILE. */
export function renderStatusScript(relay: RelayPlan): string {
  const alerts = relay.vps.alerts;
  const q = relay.quota;
  const L: string[] = [
    "#!/usr/bin/env bash",
    ...header(relay, "#", "relay6-status: the relay checked from the VPS (tunnels, BGP, BFD, transfer quota)."),
    "# relay6-status          every check, one line each; exit 1 when one fails",
    "# relay6-status --check  only the failures (the systemd timer runs this; cron would too)",
    "# relay6-status --period-start YYYY-MM-DD   the first day of the quota period holding that day",
    "set -uo pipefail",
    `state_dir=\${RELAY6_STATUS_DIR:-${STATUS_DIR}}`,
    `prom=\${RELAY6_PROM_FILE:-${PROM_FILE}}`,
    `relay=${shQuote(relay.relay)}`,
    `on_failure=${shQuote(alerts?.onFailure ?? "")}`,
    "out_mode=all",
    "",
    "# period_start TODAY RESET_DAY: the latest reset day not after TODAY (a reset day past a",
    "# month's end is its last day).",
    "last_day() { date -d \"$(printf '%04d-%02d-01' \"$1\" \"$2\") +1 month -1 day\" +%-d; }",
    "period_start() {",
    "  local y m d day",
    "  IFS=- read -r y m d <<< \"$1\"; y=$((10#$y)) m=$((10#$m)) d=$((10#$d))",
    "  day=$(last_day \"$y\" \"$m\"); [ \"$2\" -lt \"$day\" ] && day=$2",
    "  if [ \"$d\" -lt \"$day\" ]; then",
    "    if [ \"$m\" -eq 1 ]; then m=12 y=$((y - 1)); else m=$((m - 1)); fi",
    "    day=$(last_day \"$y\" \"$m\"); [ \"$2\" -lt \"$day\" ] && day=$2",
    "  fi",
    "  printf '%04d-%02d-%02d\\n' \"$y\" \"$m\" \"$day\"",
    "}",
    "",
    'case "${1:-}" in',
    "  --check) out_mode=check ;;",
    `  --period-start) period_start "\${2:?a date}" ${q?.resetDay ?? 1}; exit 0 ;;`,
    '  "") ;;',
    '  *) echo "usage: relay6-status [--check | --period-start YYYY-MM-DD]" >&2; exit 2 ;;',
    "esac",
    "",
    "now=$(date +%s)",
    "failures=() failed=() lines=() metrics=() states=()",
    "# Under systemd each failure reaches the journal with priority err.",
    'err_prefix=""; [ -n "${INVOCATION_ID:-}" ] && err_prefix="<3>"',
    'result() { # STATUS CHECK DETAIL',
    '  if [ "$1" = fail ]; then failures+=("$2: $3"); failed+=("$2"); lines+=("${err_prefix}FAIL $2: $3"); else lines+=("ok   $2: $3"); fi',
    "}",
    "metric() { metrics+=(\"$*\"); }",
    '# state SITE WHAT STATE SINCE: for the event log (SINCE: epoch of the change, or "").',
    'state() { states+=("$1 $2 $3 ${4:-}"); }',
    "bird_epoch() { date -d \"$1\" +%s 2>/dev/null || true; }",
    "",
    "dump=$(wg show wg0 dump 2>/dev/null); wg_up=$?",
    'if [ "$wg_up" -eq 0 ]; then result ok vps.wg0 "wg0 up"; else result fail vps.wg0 "wg0 is not up on the VPS"; fi',
  ];
  if (relay.bgp)
    L.push(
      "protocols=$(birdc show protocols 2>/dev/null); bird_up=$?",
      "bfd=$(birdc show bfd sessions 2>/dev/null)",
      'if [ "$bird_up" -eq 0 ]; then result ok vps.bird "bird is running"; else result fail vps.bird "bird does not answer on its control socket"; fi',
    );
  L.push(
    "",
    "# site NAME MODE TRANSIT PROTOCOL: the site's peer is the one whose AllowedIPs hold its",
    "# router's transit /128.",
    "site() {",
    '  local name=$1 mode=$2 transit=$3 proto=$4 peer hs rx tx age up line st since',
    '  if [ "$wg_up" -eq 0 ]; then',
    `    peer=$(awk -F '\\t' -v t="$transit/128" 'NR > 1 { n = split($4, a, ","); for (i = 1; i <= n; i++) if (a[i] == t) { print; exit } }' <<< "$dump")`,
    '    if [ -z "$peer" ]; then',
    '      result fail "$name.tunnel" "wg0 has no peer for $transit"; up=0; hs=0 rx=0 tx=0',
    "    else",
    `      IFS=$'\\t' read -r _ _ _ _ hs rx tx _ <<< "$peer"`,
    "      age=$((now - hs)); up=0",
    '      if [ "$hs" -gt 0 ] && [ "$age" -le 180 ]; then up=1; result ok "$name.tunnel" "handshake $age s ago"',
    '      elif [ "$hs" -gt 0 ]; then result fail "$name.tunnel" "no handshake for $age s (more than 180 s)"',
    '      else result fail "$name.tunnel" "no handshake yet"; fi',
    "    fi",
    '    state "$name" tunnel "$([ "$up" = 1 ] && echo up || echo down)" ""',
    '    metric "relay6_site_tunnel_up{relay=\\"$relay\\",site=\\"$name\\"} $up"',
    '    metric "relay6_site_last_handshake_timestamp_seconds{relay=\\"$relay\\",site=\\"$name\\"} $hs"',
    '    metric "relay6_site_receive_bytes_total{relay=\\"$relay\\",site=\\"$name\\"} $rx"',
    '    metric "relay6_site_transmit_bytes_total{relay=\\"$relay\\",site=\\"$name\\"} $tx"',
    "  else",
    '    state "$name" tunnel down ""',
    '    metric "relay6_site_tunnel_up{relay=\\"$relay\\",site=\\"$name\\"} 0"',
    "  fi",
  );
  if (relay.bgp)
    L.push(
      '  [ "$mode" = bgp-bfd ] && [ "$bird_up" -eq 0 ] || return 0',
      "  # bird's columns: Name Proto Table State Since(date time) Info",
      "  line=$(awk -v p=\"$proto\" '$1 == p' <<< \"$protocols\")",
      '  if [ -z "$line" ]; then result fail "$name.bgp" "bird has no BGP session for this site"; st=absent since=""',
      "  else",
      "    read -r _ _ _ st d t info _ <<< \"$line\"; [ -n \"${info:-}\" ] && st=$info; since=$(bird_epoch \"$d $t\")",
      '    if [ "$st" = Established ]; then result ok "$name.bgp" "BGP Established"; else result fail "$name.bgp" "BGP $st"; fi',
      "  fi",
      '  state "$name" bgp "$st" "$since"',
      '  metric "relay6_site_bgp_up{relay=\\"$relay\\",site=\\"$name\\"} $([ "$st" = Established ] && echo 1 || echo 0)"',
      "  line=$(awk -v a=\"$transit\" '$1 == a' <<< \"$bfd\")",
      '  if [ -z "$line" ]; then result fail "$name.bfd" "no BFD session to the router"; st=absent since=""',
      "  else",
      "    read -r _ _ st d t _ <<< \"$line\"; since=$(bird_epoch \"$d $t\")",
      '    if [ "$st" = Up ]; then result ok "$name.bfd" "BFD Up"; else result fail "$name.bfd" "BFD $st"; fi',
      "  fi",
      '  state "$name" bfd "$st" "$since"',
      '  metric "relay6_site_bfd_up{relay=\\"$relay\\",site=\\"$name\\"} $([ "$st" = Up ] && echo 1 || echo 0)"',
    );
  L.push("}", "");
  for (const p of relay.sites) L.push(`site ${shQuote(p.site)} ${p.failover.mode} ${p.transit.router.address} ${p.failover.mode === "bgp-bfd" ? BIRD_PROTOCOL(p) : "-"}`);
  if (q) {
    const field = q.counts === "out" ? ".tx" : ".rx + .tx";
    L.push(
      "",
      `# The transfer quota: ${q.monthlyGB} GB from day ${q.resetDay}, counted ${q.counts}, failing from ${q.alertPercent} %. vnstat's`,
      "# database outlives the kernel's counters (they start again at every boot); its days",
      "# are the VPS's local dates, each with the epoch of its local midnight.",
      "today=$(date +%F); start=$(period_start \"$today\" " + q.resetDay + "); from=$(date -d \"$start\" +%s)",
      `quota=${Math.round(q.quotaBytes)}`,
      `if ! json=$(vnstat --json d -i ${shQuote(relay.vps.nic)} 2>&1); then result fail vps.transfer "vnstat: $(head -n 1 <<< "$json")"`,
      `elif ! jq -e --arg n ${shQuote(relay.vps.nic)} '.jsonversion == "2" and any(.interfaces[]; .name == $n)' >/dev/null 2>&1 <<< "$json"; then result fail vps.transfer ${shQuote(`vnstat does not count ${relay.vps.nic} (JSON version 2 expected)`)}`,
      "else",
      `  used=$(jq -r --arg n ${shQuote(relay.vps.nic)} --argjson from "$from" '[.interfaces[] | select(.name == $n) | .traffic.day[] | select(.timestamp >= $from) | ${field}] | add // 0' <<< "$json")`,
      `  detail="$used bytes of ${q.monthlyGB} GB counted ${q.counts} since $start"`,
      `  if [ $((used * 100)) -ge $((quota * ${q.alertPercent})) ]; then result fail vps.transfer "$detail"; else result ok vps.transfer "$detail"; fi`,
      '  metric "relay6_transfer_counted_bytes{relay=\\"$relay\\"} $used"',
      '  metric "relay6_transfer_quota_bytes{relay=\\"$relay\\"} $quota"',
      "fi",
    );
  }
  L.push(
    "",
    "# The event log: a line for each state that changed since the last run.",
    'mkdir -p "$state_dir"',
    'declare -A was=()',
    'if [ -f "$state_dir/state" ]; then while read -r s w st _; do was["$s $w"]=$st; done < "$state_dir/state"; fi',
    'for x in "${states[@]}"; do',
    '  read -r s w st since <<< "$x"',
    '  prev=${was["$s $w"]:-}',
    '  if [ -n "$prev" ] && [ "$prev" != "$st" ]; then echo "${since:-$now} $s $w $prev $st" >> "$state_dir/events.log"; fi',
    "done",
    'printf \'%s\\n\' "${states[@]}" > "$state_dir/state.tmp" && mv -f "$state_dir/state.tmp" "$state_dir/state"',
    `if [ -f "$state_dir/events.log" ] && [ "$(wc -l < "$state_dir/events.log")" -gt ${EVENTS_KEPT} ]; then`,
    `  tail -n ${EVENTS_KEPT} "$state_dir/events.log" > "$state_dir/events.tmp" && mv -f "$state_dir/events.tmp" "$state_dir/events.log"`,
    "fi",
    "",
    "# node-exporter's textfile collector (the prometheus-node-exporter package reads",
    "# /var/lib/prometheus/node-exporter): written whole, then renamed.",
    'if [ -d "$(dirname "$prom")" ]; then',
    "  {",
    '    family() { printf \'# HELP %s %s\\n# TYPE %s %s\\n\' "$1" "$3" "$1" "$2"; grep "^$1{" <<< "$(printf \'%s\\n\' "${metrics[@]}")" || true; }',
    '    family relay6_check_timestamp_seconds gauge "When relay6-status last ran."',
    '    echo "relay6_check_timestamp_seconds{relay=\\"$relay\\"} $now"',
    '    family relay6_check_failures gauge "Checks that failed on the last run."',
    '    echo "relay6_check_failures{relay=\\"$relay\\"} ${#failures[@]}"',
    '    family relay6_site_tunnel_up gauge "1 when the site\'s WireGuard peer had a handshake within 180 s."',
    '    family relay6_site_last_handshake_timestamp_seconds gauge "The site\'s latest WireGuard handshake (0: none)."',
    '    family relay6_site_receive_bytes_total counter "Bytes received from the site\'s router since wg0 came up."',
    '    family relay6_site_transmit_bytes_total counter "Bytes sent to the site\'s router since wg0 came up."',
  );
  if (relay.bgp)
    L.push(
      '    family relay6_site_bgp_up gauge "1 when the site\'s BGP session is Established."',
      '    family relay6_site_bfd_up gauge "1 when the site\'s BFD session is Up."',
    );
  if (q)
    L.push(
      '    family relay6_transfer_counted_bytes gauge "Bytes the provider counts this period, from vnstat."',
      '    family relay6_transfer_quota_bytes gauge "The provider\'s transfer quota (vps.transfer.monthlyGB)."',
    );
  L.push(
    '  } > "$prom.tmp.$$" && mv -f "$prom.tmp.$$" "$prom"',
    "fi",
    "",
    'if [ "$out_mode" = all ]; then printf \'%s\\n\' "${lines[@]}"; else for l in "${lines[@]}"; do [[ "$l" == ok* ]] || printf \'%s\\n\' "$l"; done; fi',
    "",
    "# vps.alerts.onFailure: when the set of failing checks changes (not every run while it",
    "# stays, nor when only a detail such as a byte count moves).",
    'new=$(printf \'%s\\n\' "${failed[@]}")',
    'old=$(cat "$state_dir/failures" 2>/dev/null || true)',
    'printf \'%s\\n\' "$new" > "$state_dir/failures"',
    'if [ "${#failures[@]}" -gt 0 ] && [ -n "$on_failure" ] && [ "$new" != "$old" ]; then',
    '  printf \'%s\\n\' "${failures[@]}" | timeout 60 bash -c "$on_failure" || echo "${err_prefix}relay6-status: vps.alerts.onFailure exited $?" >&2',
    "fi",
    '[ "${#failures[@]}" -eq 0 ]',
  );
  return L.join("\n") + "\n";
}

/** The oneshot service the timer starts; its output goes to the journal. */
export function renderStatusService(relay: RelayPlan): string {
  return [
    ...header(relay, "#", "relay6-status.service: the relay checked from the VPS (relay6-status.timer starts it)."),
    "[Unit]",
    "Description=relay6: check the relay's tunnels, BGP, BFD and transfer quota",
    "After=network-online.target wg-quick@wg0.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${STATUS_SCRIPT} --check`,
    "",
  ].join("\n");
}

export function renderStatusTimer(relay: RelayPlan): string {
  const every = relay.vps.alerts?.every ?? 60;
  return [
    ...header(relay, "#", `relay6-status.timer: runs relay6-status every ${every} s.`),
    "[Unit]",
    `Description=relay6: check the relay every ${every} s`,
    "",
    "[Timer]",
    "OnBootSec=60s",
    `OnUnitActiveSec=${every}s`,
    "AccuracySec=1s",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
