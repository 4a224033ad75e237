// A routed /64 (Hetzner dedicated style) usually holds the VPS's own address: the
// provider configures X/64 on the NIC, and the kernel's connected /64 for it (metric 256)
// beats the /64 wg-quick routes into wg0 (metric 1024), so the VPS solicits LAN hosts on
// the NIC and every packet to the LAN is lost: the recipe's connected-/48 trap at /64.
// relay6 keeps the provider's address and takes only its connected route away
// (`ip -6 addr change X/64 dev NIC noprefixroute`: no gap, no DAD; to the routing table X
// is then a /128), deletes a /64 route an RA may have left on the NIC, and stops RAs from
// adding it back (accept_ra_pinfo = 0 in 99-relay6.conf). Whatever re-applies the
// provider's network configuration at boot undoes the change, so wg0 re-applies it each
// time it comes up (wg-quick PostUp; wg-quick@wg0 starts after network-online), and
// setup.sh on every run. `relay6-vps-net.sh down` (wg0's PostDown) puts the route back.
// It lives beside the wg-quick hook in /etc/wireguard: it is what wg0 needs to win the /64.
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";

export const VPS_NET_SCRIPT = "/etc/wireguard/relay6-vps-net.sh";

type Own = NonNullable<RelayPlan["vps"]["ownAddress"]>;

/** The VPS's own address, when relay6 must take its connected route away. */
export function movedAddress(relay: RelayPlan): Own | undefined {
  const own = relay.vps.ownAddress;
  return own?.dropPrefixRoute ? own : undefined;
}

export function renderVpsNetScript(relay: RelayPlan): string {
  const own = movedAddress(relay);
  if (!own) throw new Error("internal: relay6-vps-net rendered without an address to move");
  const nic = relay.vps.nic;
  return [
    "#!/bin/bash",
    ...header(relay, "#", "The VPS's own address in the routed /64: keep it, drop its connected route."),
    "# Usage: relay6-vps-net.sh up|down|status (status: exit 0 when nothing is left to do).",
    "# Idempotent; every command is printed before it runs.",
    "set -euo pipefail",
    `nic=${nic} cidr=${own.cidr} lan=${own.prefix}`,
    `run() { printf '[#] %s\\n' "$*" >&2; "$@"; }`,
    '# The address as `ip -6 -o addr` shows it on the NIC ("" when the provider has not put it there).',
    `line() { ip -6 -o addr show dev "$nic" | grep -F " inet6 $cidr " || true; }`,
    'case "${1:-up}" in',
    "up)",
    '  l=$(line)',
    '  if [ -z "$l" ]; then echo "relay6-vps-net.sh: $cidr is not on $nic: nothing to move (the VPS uses another address)" >&2',
    '  elif [[ "$l" != *noprefixroute* ]]; then run ip -6 addr change "$cidr" dev "$nic" noprefixroute',
    "  fi",
    "  # A connected or RA-learned route for the LAN /64 on the NIC would still beat wg0's.",
    '  while ip -6 route show "$lan" dev "$nic" | grep -q .; do run ip -6 route del "$lan" dev "$nic"; done',
    "  ;;",
    "status)",
    '  l=$(line)',
    '  [ -z "$l" ] || [[ "$l" == *noprefixroute* ]] || exit 1',
    '  ! ip -6 route show "$lan" dev "$nic" | grep -q .',
    "  ;;",
    "down)",
    '  l=$(line)',
    '  if [[ "$l" == *noprefixroute* ]]; then run ip -6 addr change "$cidr" dev "$nic"; fi',
    "  ;;",
    '*) echo "usage: $0 up|down|status" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}
