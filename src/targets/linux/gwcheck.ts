// Static failover: the recipe's `check-gateway=ping` for a Linux router. Pings the VPS's
// transit address every 10 s; after 3 misses in a row ::/0 is withdrawn (clients get "no
// route" at once and fall back to IPv4), and it is put back at the first answer.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

export const GW_CHECK_INTERVAL_S = 10;
export const GW_CHECK_MISSES = 3;

export function renderGatewayCheck(plan: Plan): string {
  const wg = plan.router.tunnelInterface;
  const gw = plan.transit.vps.address;
  return `#!/bin/bash
${header(plan, "#", "Health-checked IPv6 default route (static failover).").join("\n")}
# Ping the VPS's
# transit address every INTERVAL s; MISSES misses in a row withdraw ::/0 via the tunnel,
# the first answer puts it back. RELAY6_CHECK_INTERVAL / RELAY6_CHECK_MISSES override.
set -u
GW=${gw}
DEV=${wg}
INTERVAL=\${RELAY6_CHECK_INTERVAL:-${GW_CHECK_INTERVAL_S}}
MISSES=\${RELAY6_CHECK_MISSES:-${GW_CHECK_MISSES}}

log() { echo "relay6-gw-check: $*"; }
has_default() { [ -n "$(ip -6 route show default via "$GW" dev "$DEV" 2>/dev/null)" ]; }

misses=0
log "watching $GW on $DEV every \${INTERVAL}s, $MISSES misses withdraw ::/0"
while :; do
  if ping -6 -n -q -c 1 -W 1 -I "$DEV" "$GW" >/dev/null 2>&1; then
    misses=0
    if ! has_default; then
      ip -6 route replace default via "$GW" dev "$DEV" metric 1024 && log "gateway answers: ::/0 restored"
    fi
  else
    misses=$((misses + 1))
    if [ "$misses" -ge "$MISSES" ] && has_default; then
      ip -6 route del default via "$GW" dev "$DEV" && log "$misses pings lost: ::/0 withdrawn"
    fi
  fi
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
