// The VPS's wg0.conf (one [Peer] per site) and the hook that keeps the routers' endpoints
// across restarts.
import { scoped } from "../../net/ipv6.js";
import type { RelayPlan } from "../../plan/relay.js";
import { commentText } from "../../render/quote.js";
import { movedAddress, VPS_NET_SCRIPT } from "./ownaddr.js";
import { header } from "../../render/header.js";
import { forwardSources } from "./firewall.js";

export const WG_DIR = "/etc/wireguard";
export const KEY_FILE = `${WG_DIR}/wg0.key`;
export const HOOK_FILE = `${WG_DIR}/relay6-hook.sh`;
export const ENDPOINTS_FILE = `${WG_DIR}/wg0.endpoints`;

/** MSS clamp rules, in both directions through the tunnel. Many paths drop ICMPv6
 *  packet-too-big; without the clamp bulk TCP through a 1420-byte tunnel stalls at 0
 *  bytes. `--clamp-mss-to-pmtu` does nothing on the inbound path (the NIC is 1500), so
 *  the value is set explicitly: tunnel MTU − 40 (IPv6) − 20 (TCP). */
export function mssRules(plan: { wireguard: { mss: number } }, dev: string): string[] {
  const m = `-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss ${plan.wireguard.mss}`;
  return [`FORWARD -o ${dev} ${m}`, `FORWARD -i ${dev} ${m}`];
}

/** `routerKeys`: each site's router public key (undefined while it is not known: that
 *  site gets no [Peer] yet). Each peer's AllowedIPs hold only its own /64s and transit
 *  /128: WireGuard then drops any packet from that peer with another source. */
export function renderWgConf(relay: RelayPlan, routerKeys: ReadonlyMap<string, string | undefined>): string {
  const t = relay.transit;
  const lines = [
    ...header(relay, "#", "WireGuard interface wg0 on the VPS (wg-quick)."),
    "[Interface]",
    ...(t.kind === "link-local" ? ["# A /64 site: its whole prefix is the LAN, so the tunnel runs on link-locals."] : []),
    ...(t.kind === "ula" ? ["# A /64 site: its whole prefix is the LAN, so the tunnel runs on a ULA /64 (transit)."] : []),
    `Address = ${t.vps.cidr}`,
  ];
  if (t.vpsLinkLocal)
    lines.push("# bird's `next hop self` needs a link-local on wg0, and wg-quick adds none.", `Address = ${t.vpsLinkLocal.cidr}`);
  lines.push(
    `ListenPort = ${relay.wireguard.port}`,
    `MTU = ${relay.wireguard.mtu}`,
    "# The private key lives in its own 0600 file; this config holds no secret.",
    `PostUp = wg set %i private-key ${KEY_FILE}`,
    `PostUp = ${HOOK_FILE} up %i`,
    `PreDown = ${HOOK_FILE} down %i`,
  );
  const own = movedAddress(relay);
  if (own)
    lines.push(
      `# The VPS's own ${own.cidr} lies in the routed /64: its connected route would beat wg0's, so`,
      "# it goes at each start (the provider's network configuration puts it back at boot).",
      `PostUp = ${VPS_NET_SCRIPT} up`,
      `PostDown = ${VPS_NET_SCRIPT} down`,
    );
  if (t.kind === "ula")
    lines.push(
      "# The ULA deprecated at once: the VPS's own global traffic must never pick it as its source",
      "# (its global on the NIC may be deprecated, missing or tentative for a moment). BGP and",
      "# BFD still run over it. wg-quick's Address = cannot set lifetimes.",
      `PostUp = ip -6 addr change ${t.vps.cidr} dev %i preferred_lft 0`,
    );
  for (const plan of relay.sites) {
    const key = routerKeys.get(plan.site);
    lines.push("");
    if (!key) {
      lines.push(`# router of site ${commentText(plan.site)}: no [Peer] until its public key is known (router.publicKey, wireguard.keys: device)`);
      continue;
    }
    lines.push(
      "[Peer]",
      `# router of site ${commentText(plan.site)} (${plan.router.platform})`,
      `PublicKey = ${key}`,
      ...(plan.transit.kind === "link-local"
        ? [
            "# The router's link-local (WireGuard routes and source-checks link-locals by AllowedIPs",
            "# like any other address: without it BGP and BFD from fe80::2 are dropped) and the LAN /64.",
          ]
        : [
            "# One entry per LAN /64 plus the router's transit /128, never the routed prefix: the",
            "# provider's connected route for the prefix on the public NIC would beat a tunnel",
            "# route of the same length, and return traffic would be lost. Longer routes win.",
          ]),
      `AllowedIPs = ${plan.vps.allowedIps.join(", ")}`,
    );
    if (plan.router.endpoint) lines.push(`Endpoint = ${endpointFor(plan.router.endpoint, plan.wireguard.port)}`);
    if (plan.wireguard.keepalive > 0) lines.push(`PersistentKeepalive = ${plan.wireguard.keepalive}`);
  }
  return lines.join("\n") + "\n";
}

export function endpointFor(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The mangle chain that drops ICMPv6 from the tunnel to the internet whose source is not
 *  the site's (see renderHook). */
export const SOURCE_GUARD_CHAIN = "RELAY6-SRC";

/** wg-quick's PostUp/PreDown hook: MSS clamp, the ICMPv6 source guard and the router's endpoint.
 *  The VPS normally learns the router's endpoint from the router's first handshake, so
 *  after a VPS restart it waits for the router's keepalive and rekey timers (~12 s).
 *  Saving the endpoint on the way down and setting it (plus one packet) on the way up
 *  starts the handshake from the VPS side within a second.
 *  The source guard: ufw forwards out of the NIC only from the sites' prefixes, but its
 *  own before6.rules accept forwarded ICMPv6 (echo, errors) from any source before any
 *  user rule, so ICMPv6 from wg0 to the NIC whose source is not a site's is dropped
 *  here, in the mangle table, ahead of ufw. `guard IFACE` refills the chain alone:
 *  setup.sh runs it after a live wg syncconf (a site or segment added, no wg-quick up). */
export function renderHook(relay: RelayPlan): string {
  const clamp = relay.vps.clampMss;
  const guard = relay.vps.firewall === "ufw";
  const c = SOURCE_GUARD_CHAIN;
  const hookRule = `FORWARD -i "$dev" -o ${relay.vps.nic} -p ipv6-icmp -j ${c}`;
  const lines = [
    "#!/usr/bin/env bash",
    ...header(relay, "#", "wg-quick hook for wg0: run as `relay6-hook.sh up|down|guard IFACE`."),
    "set -u",
    'action="$1" dev="$2"',
    `saved=${ENDPOINTS_FILE}`,
    "",
    "clamp() { # $1 = -A or -D; -A only adds what is missing",
    ...(clamp
      ? mssRules(relay, '"$dev"').map(
          (r) =>
            `  if [ "$1" = -A ]; then ip6tables -t mangle -C ${r} 2>/dev/null || ip6tables -t mangle -A ${r}; else ip6tables -t mangle -D ${r} 2>/dev/null || true; fi`,
        )
      : ["  : # firewall.clampMss is false"]),
    "}",
    "",
    "guard() { # $1 = -A or -D",
    ...(guard
      ? [
          '  if [ "$1" = -A ]; then',
          `    ip6tables -t mangle -N ${c} 2>/dev/null || ip6tables -t mangle -F ${c}`,
          ...relay.sites.flatMap(forwardSources).map((p) => `    ip6tables -t mangle -A ${c} -s ${p} -j RETURN`),
          `    ip6tables -t mangle -A ${c} -j DROP`,
          `    ip6tables -t mangle -C ${hookRule} 2>/dev/null || ip6tables -t mangle -A ${hookRule}`,
          "  else",
          `    ip6tables -t mangle -D ${hookRule} 2>/dev/null || true`,
          `    ip6tables -t mangle -F ${c} 2>/dev/null && ip6tables -t mangle -X ${c} 2>/dev/null || true`,
          "  fi",
        ]
      : ["  : # firewall.vps is none"]),
    "}",
    "",
    'case "$action" in',
    "up)",
    "  clamp -A",
    "  guard -A",
    '  if [ -s "$saved" ]; then',
    '    while read -r key endpoint; do',
    '      case "$endpoint" in ""|"(none)") continue ;; esac',
    '      wg set "$dev" peer "$key" endpoint "$endpoint" 2>/dev/null || true',
    '    done < "$saved"',
    "    # One packet makes the VPS start the handshake instead of waiting for the router's.",
    ...relay.sites.map((p) => `    (ping -6 -c 1 -W 1 ${scoped(p.transit.router.address, relay.vps.tunnelInterface)} >/dev/null 2>&1 &)`),
    "  fi",
    "  ;;",
    "down)",
    '  if (umask 077; wg show "$dev" endpoints > "$saved.tmp") 2>/dev/null; then mv -f "$saved.tmp" "$saved"; else rm -f "$saved.tmp"; fi',
    "  clamp -D",
    "  guard -D",
    "  ;;",
    "guard)",
    "  # After a live wg syncconf: the chain refilled with the sources the plan has now.",
    '  ip link show "$dev" >/dev/null 2>&1 && guard -A',
    "  ;;",
    '*) echo "usage: $0 up|down|guard IFACE" >&2; exit 2 ;;',
    "esac",
    "exit 0",
  ];
  return lines.join("\n") + "\n";
}
