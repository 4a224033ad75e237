// The router's wg-quick config. The router dials the VPS and sends everything that the
// routing table gives the tunnel: AllowedIPs ::/0, but `Table = off` so that wg-quick
// installs no default route and no fwmark rules of its own. In bgp-bfd mode FRR installs
// ::/0 from BGP; in static mode PostUp adds it and relay6-gw-check withdraws it while the
// VPS does not answer.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";

export function renderWgConf(plan: Plan, vpsPublicKey: string): string {
  const wg = plan.router.tunnelInterface;
  const endpointHost = plan.vps.endpointFamily === 6 ? `[${plan.vps.endpoint}]` : plan.vps.endpoint;
  const lines = [
    ...header(plan, "#", `WireGuard ${plan.router.tunnelInterface} on the router (wg-quick): its end of transit ${plan.transit.prefix}.`),
    "[Interface]",
    `Address = ${plan.transit.router.cidr}`,
  ];
  if (plan.transit.routerLinkLocal) lines.push(`Address = ${plan.transit.routerLinkLocal.cidr}`);
  lines.push(
    `MTU = ${plan.wireguard.mtu}`,
    "Table = off",
    // The key stays in its own 0600 file (written by relay6, or made on the device by setup.sh).
    `PostUp = wg set %i private-key /etc/wireguard/%i.key`,
  );
  if (plan.transit.kind === "ula")
    lines.push(
      "# The ULA transit deprecated at once: the router's own traffic to the internet (DNS, NTP)",
      "# must leave from its LAN global, and an address on the outgoing interface wins source",
      "# selection unless it is deprecated. BGP and BFD still run over it.",
      `PostUp = ip -6 addr change ${plan.transit.router.cidr} dev %i preferred_lft 0`,
    );
  if (plan.failover.mode === "static") {
    lines.push(`PostUp = ip -6 route replace default via ${plan.transit.vps.address} dev %i metric 1024`);
  }
  const own = plan.vps.ownAddress;
  if (own)
    lines.push(
      `# The VPS's own address ${own.address} lies in segment ${own.segment}'s /64, which LAN hosts take for`,
      "# on-link: relay6-router-net answers for it on the LAN, and this sends it into the tunnel.",
      `PostUp = ip -6 route replace ${own.address}/128 dev %i`,
    );
  lines.push(
    "",
    "[Peer]",
    `# The VPS (${plan.vps.endpoint})`,
    `PublicKey = ${vpsPublicKey}`,
    `Endpoint = ${endpointHost}:${plan.wireguard.port}`,
    `AllowedIPs = ${plan.router.peerAllowedIps.join(", ")}`,
  );
  if (plan.wireguard.keepalive > 0) lines.push(`PersistentKeepalive = ${plan.wireguard.keepalive}`);
  return lines.join("\n") + "\n";
}
