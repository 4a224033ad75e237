// Static failover: the recipe's `check-gateway=ping` for a Linux router, made as fast as a
// ping-based check can be without flapping. One ping of the VPS's transit address every
// second (a single long-running `ping -O`, which reports each probe left unanswered before
// it sends the next); after 3 unanswered in a row ::/0 is withdrawn (clients get "no route"
// at once, and the RA drain tells them the router is no default router), and it is put back
// at the first answer. One lost probe never fails over: 1 % loss on the path costs a probe
// ~2 % of the time, 3 in a row about once in 36 hours.
import { PROBE } from "../../plan/bfd.js";
import { transitPing } from "../../net/ipv6.js";
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

export const GW_CHECK_INTERVAL_S = PROBE.intervalMs / 1000;
export const GW_CHECK_MISSES = PROBE.misses;

export function renderGatewayCheck(plan: Plan): string {
  const wg = plan.router.tunnelInterface;
  const gw = plan.transit.vps.address;
  // A /64 site's VPS (link-local or ULA transit): pinged from the router's own transit
  // address (scoped when link-local), or the kernel picks a source the VPS drops.
  const ping = transitPing(plan.transit.router.address, gw, wg);
  const own = ping !== gw;
  return `#!/bin/bash
${header(plan, "#", "Health-checked IPv6 default route (static failover).").join("\n")}
# One ping of the VPS's transit address every INTERVAL s; MISSES unanswered in a row
# withdraw ::/0 via the tunnel, the first answer puts it back. The VPS's firewall lets
# ICMPv6 echo in (ufw's before6 rules). RELAY6_CHECK_INTERVAL / RELAY6_CHECK_MISSES override.
set -u
GW=${gw}
DEV=${wg}${own ? `\n# From the router's own transit address: the kernel would pick another source (wg0 may\n# hold another link-local; a transit ULA is deprecated), which the VPS's WireGuard drops.\nPING="${ping}"` : ""}
INTERVAL=\${RELAY6_CHECK_INTERVAL:-${GW_CHECK_INTERVAL_S}}
MISSES=\${RELAY6_CHECK_MISSES:-${GW_CHECK_MISSES}}

log() { echo "relay6-gw-check: $*"; }
has_default() { [ -n "$(ip -6 route show default via "$GW" dev "$DEV" 2>/dev/null)" ]; }
answered() {
  misses=0
  if ! has_default; then
    ip -6 route replace default via "$GW" dev "$DEV" metric 1024 && log "gateway answers: ::/0 restored"
  fi
}
missed() {
  misses=$((misses + 1))
  if [ "$misses" -ge "$MISSES" ] && has_default; then
    ip -6 route del default via "$GW" dev "$DEV" && log "$misses probes unanswered in a row: ::/0 withdrawn"
  fi
}

misses=0
log "probing $GW on $DEV every \${INTERVAL}s; $MISSES unanswered in a row withdraw ::/0"
while :; do
  # A line per probe: "bytes from" (answered) or "no answer yet for icmp_seq=N" (-O: the
  # probe before this one got no reply). Errors ("Destination unreachable") are followed
  # by their "no answer yet" and not counted twice.
  while read -r line; do
    case "$line" in
      *"bytes from"*) answered ;;
      *"no answer yet"*) missed ;;
    esac
  done < <(ping -6 -n -O -i "$INTERVAL" -W "$INTERVAL" ${own ? "$PING" : '-I "$DEV" "$GW"'} 2>&1)
  # ping ended (the tunnel interface is gone, say): a miss too; start it again.
  missed
  sleep "$INTERVAL"
done
`;
}

export function renderGatewayCheckUnit(plan: Plan): string {
  const wg = plan.router.tunnelInterface;
  return `${header(plan, "#", "systemd unit of relay6-gw-check.").join("\n")}
[Unit]
Description=relay6: health-checked IPv6 default route via the VPS (site ${commentText(plan.site)})
After=wg-quick@${wg}.service
BindsTo=wg-quick@${wg}.service

[Service]
ExecStart=/usr/local/sbin/relay6-gw-check
Restart=always
RestartSec=2s

[Install]
WantedBy=wg-quick@${wg}.service
`;
}
