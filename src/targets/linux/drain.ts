// The RA drain on a Linux router: radvd stops offering the router as the LAN's default
// router (an RA with router lifetime 0, sent at once) while relay6's own ::/0 through the
// tunnel is gone, and offers it again when it is back. radvd knows nothing of routes, and
// FRR's zebra RA tracks none either, so a watcher does it:
//   - /etc/radvd.conf stays exactly as rendered (no drift for apply or setup.sh to see);
//     radvd runs from a copy in /run (radvd.service drop-in), which the watcher writes:
//     the rendered file while relay6's ::/0 is there, the same with every
//     `AdvDefaultLifetime` set to 0 while it is not.
//   - the watcher reads `ip -6 monitor route` (and looks again every few seconds), checks
//     the new copy with `radvd -c` (radvd exits when a reloaded file does not parse), and
//     sends radvd SIGHUP: radvd re-reads it and sends an RA on every interface at once.
//   - "relay6's own ::/0" is the BGP route through the tunnel (bgp-bfd) or the health-checked
//     route via the VPS's transit address (static), never any ::/0: a native or backup
//     default must not hide the outage.
//   - stopped, it puts the rendered file back: without the drain radvd behaves as it would
//     alone (the recipe's way).
// The router's RDNSS and the ULA /48's route information option (radvd.ts) stay in every
// RA: on-link ULA and the RDNSS (the router's own address on the segment) keep working, and
// clients that take the RIO still reach the other segments' ULAs.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

/** Where radvd's running configuration lives (written by the watcher, read by radvd). */
export const RADVD_RUNTIME = "/run/relay6/radvd.conf";
/** radvd's pid file, as Debian's radvd.service has it. */
export const RADVD_PIDFILE = "/run/radvd.pid";
export const RA_DRAIN_BIN = "/usr/local/sbin/relay6-ra-drain";

/** The shell test that holds while relay6's own ::/0 is installed. */
export function ownDefaultTest(plan: Plan): string {
  const wg = plan.router.tunnelInterface;
  return plan.failover.mode === "bgp-bfd"
    ? `[ -n "$(ip -6 route show default proto bgp dev ${wg} 2>/dev/null)" ]`
    : `[ -n "$(ip -6 route show default via ${plan.transit.vps.address} dev ${wg} 2>/dev/null)" ]`;
}

export function renderRaDrain(plan: Plan): string {
  const own =
    plan.failover.mode === "bgp-bfd"
      ? `# relay6's own ::/0: learned by BGP from the VPS, through ${plan.router.tunnelInterface}.`
      : `# relay6's own ::/0: the health-checked route via the VPS's transit address (relay6-gw-check).`;
  return `#!/bin/bash
${header(plan, "#", "RA drain: router lifetime 0 in radvd's RAs while relay6's ::/0 is gone.").join("\n")}
#   relay6-ra-drain render   write radvd's running config for the route's current state
#   relay6-ra-drain watch    keep it so: follow route changes, reload radvd on each change
# RELAY6_RADVD_CONF / RELAY6_RADVD_RUNTIME / RELAY6_RADVD_PIDFILE override the paths.
set -u
CONF=\${RELAY6_RADVD_CONF:-/etc/radvd.conf}
RUNTIME=\${RELAY6_RADVD_RUNTIME:-${RADVD_RUNTIME}}
PIDFILE=\${RELAY6_RADVD_PIDFILE:-${RADVD_PIDFILE}}

log() { echo "relay6-ra-drain: $*"; }
${own}
# Not any ::/0: a native or backup default must not hide the outage.
own_default() { ${ownDefaultTest(plan)}; }
state() { if own_default; then echo up; else echo down; fi; }

# render up|down: the rendered file, or the same with router lifetime 0 on every
# interface; checked by radvd before it replaces the running one.
render() {
  local tmp
  mkdir -p "$(dirname "$RUNTIME")" || return 1
  tmp=$(mktemp "$RUNTIME.XXXXXX") || return 1
  if [ "$1" = up ]; then cat "$CONF" >"$tmp"
  else sed -E 's/^([[:space:]]*AdvDefaultLifetime)[[:space:]]+[0-9]+;/\\1 0;/' "$CONF" >"$tmp"; fi
  if ! radvd -c -C "$tmp" >/dev/null 2>&1; then
    log "radvd -c refuses the $1 config: radvd keeps the one it runs"
    rm -f "$tmp"
    return 1
  fi
  chmod 644 "$tmp" && mv -f "$tmp" "$RUNTIME"
}

# radvd re-reads its file on SIGHUP and sends an RA on every interface at once.
reload() { local pid; pid=$(cat "$PIDFILE" 2>/dev/null) && kill -HUP "$pid" 2>/dev/null; }

watch() {
  local last="" now line rc
  sync() {
    now=$(state)
    [ "$now" = "$last" ] && return 0
    render "$now" || return 0
    reload
    if [ "$now" = up ]; then log "relay6's ::/0 is back: router lifetime as rendered"; else log "relay6's ::/0 is gone: router lifetime 0"; fi
    last=$now
  }
  exec 3< <(ip -6 monitor route)
  mon=$!
  # On the way out radvd gets the rendered file back: without the drain it offers
  # itself as default router, as it does alone. The monitor goes too (it is not in the
  # watcher's process group when a plain kill stops it).
  trap 'kill "$mon" 2>/dev/null; render up && reload; exit 0' TERM INT
  sync
  while :; do
    # A route event, or every 5 s in case one was missed.
    read -r -t 5 line <&3
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -le 128 ]; then log "ip -6 monitor route ended"; render up && reload; exit 1; fi
    sync
  done
}

case "\${1:-}" in
  render) render "$(state)" ;;
  watch) watch ;;
  *) echo "usage: $0 render|watch" >&2; exit 2 ;;
esac
`;
}

export function renderRaDrainUnit(plan: Plan): string {
  return `${header(plan, "#", "systemd unit of relay6-ra-drain (the RA drain).").join("\n")}
[Unit]
Description=relay6: router lifetime 0 in radvd's RAs while the tunnel's ::/0 is gone (site ${commentText(plan.site)})
After=radvd.service
Wants=radvd.service

[Service]
ExecStart=${RA_DRAIN_BIN} watch
Restart=always
RestartSec=1s

[Install]
WantedBy=multi-user.target
`;
}

/** radvd.service runs from the drain's copy of /etc/radvd.conf, made before it starts. */
export function renderRadvdDropIn(plan: Plan): string {
  return `${header(plan, "#", "radvd.service: run from the RA drain's copy of /etc/radvd.conf.").join("\n")}
[Service]
ExecStartPre=
ExecStartPre=${RA_DRAIN_BIN} render
ExecStart=
ExecStart=/usr/sbin/radvd --logmethod stderr_clean -C ${RADVD_RUNTIME}
ExecReload=
ExecReload=${RA_DRAIN_BIN} render
ExecReload=/bin/kill -HUP $MAINPID
`;
}
