// Checks of the VPS's wg0.conf: AllowedIPs against the connected prefix and the router's
// addresses, and the link-local bird needs.
import type { Diagnostic } from "../../errors.js";
import { contains, containsAddress, formatAddress6, formatPrefix6, LINK_LOCAL, overlaps, parseAddress6 } from "../../net/ipv6.js";
import { diag } from "../codes.js";
import { allowedIpEntries, connectedPrefixes, routedConnected, routerSegments, routerTransit, type Parsed } from "../setup.js";
import { ROUTER, type Check } from "./check.js";

const allowedIpsCoverPrefix: Check = {
  codes: ["allowed-ips-covers-prefix"],
  needs: ["wgConf", ["ipRoute", "ipAddr"]],
  run(p) {
    const out: Diagnostic[] = [];
    const connected = connectedPrefixes(p);
    for (const e of allowedIpEntries(p)) {
      if (!e.prefix) continue;
      // A route to wg0 no longer than a connected route on the NIC ties on length (or
      // loses) and the NIC's lower metric wins: return traffic is solicited on the NIC.
      const c = connected.find((x) => overlaps(e.prefix!, x.prefix) && e.prefix!.length <= x.prefix.length);
      if (!c) continue;
      out.push(
        diag(
          "allowed-ips-covers-prefix",
          `AllowedIPs ${e.text} is as wide as the connected ${formatPrefix6(c.prefix)} on ${c.dev}${c.metric !== undefined ? ` (metric ${c.metric})` : ""}: that route wins and return traffic to the LAN is solicited on ${c.dev} and lost`,
          `replace ${e.text} with the router's transit /128 and one /64 per LAN segment, then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
          p.wg!.origin,
          e.line,
        ),
      );
    }
    return out;
  },
};

/** Is `inner` sent into the tunnel by an AllowedIPs entry that beats the connected route? */
function tunnelled(p: Parsed, inner: { network: bigint; length: number }): boolean {
  const connected = connectedPrefixes(p);
  return allowedIpEntries(p).some(
    (e) => e.prefix !== undefined && contains(e.prefix, inner) && !connected.some((c) => overlaps(c.prefix, e.prefix!) && e.prefix!.length <= c.prefix.length),
  );
}

const allowedIpsMissingSegment: Check = {
  codes: ["allowed-ips-missing-segment"],
  needs: ["wgConf", ROUTER],
  run(p) {
    // With the routed prefix known, only its /64s belong in the tunnel (an ISP's /64 on
    // another uplink does not).
    const routed = routedConnected(p);
    return routerSegments(p)
      .filter((s) => !routed || contains(routed.prefix, s.prefix))
      .filter((s) => !tunnelled(p, s.prefix))
      .map((s) =>
        diag(
          "allowed-ips-missing-segment",
          `the router advertises ${formatPrefix6(s.prefix)} on ${s.iface} (SLAAC), but no AllowedIPs entry in ${p.wg!.origin} sends it into the tunnel: return traffic to its hosts leaves by the VPS's NIC`,
          `add ${formatPrefix6(s.prefix)} to AllowedIPs, then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
          p.router!.facts.origin,
          s.line,
        ),
      );
  },
};

const allowedIpsMissingTransit: Check = {
  codes: ["allowed-ips-missing-transit"],
  needs: ["wgConf", [ROUTER, "birdConf"]],
  run(p) {
    const t = routerTransit(p);
    if (!t || tunnelled(p, { network: t.address, length: 128 })) return [];
    const peerLine = p.wg!.conf.peers[0]?.line;
    return [
      diag(
        "allowed-ips-missing-transit",
        `the router's transit address ${formatAddress6(t.address)} is not in AllowedIPs: BGP and pings to the router fail`,
        `add ${formatAddress6(t.address)}/128 to AllowedIPs`,
        p.wg!.origin,
        peerLine,
      ),
    ];
  },
};

const linkLocal: Check = {
  codes: ["wg-link-local-missing"],
  needs: ["wgConf", "birdConf"],
  run(p) {
    const nhs = p.bird!.conf.bgp.find((b) => b.nextHopSelf);
    if (!nhs) return [];
    const hasLl = p.wg!.conf.interfaceAddresses.some((a) => {
      const addr = parseAddress6(a.value.split("/")[0]!);
      return addr !== undefined && containsAddress(LINK_LOCAL, addr);
    });
    if (hasLl) return [];
    const line = p.wg!.conf.sections.find((s) => s.name.toLowerCase() === "interface")?.line;
    return [
      diag(
        "wg-link-local-missing",
        `${p.wg!.iface} has no link-local Address, and bird's BGP protocol ${nhs.name} uses \`next hop self\` (${p.bird!.origin}:${nhs.nextHopSelf!.line}): bird needs a link-local next hop on ${p.wg!.iface}, and wg-quick adds none`,
        `add \`Address = fe80::1/64\` to [Interface], then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
        p.wg!.origin,
        line,
      ),
    ];
  },
};

export const WIREGUARD_CHECKS: readonly Check[] = [allowedIpsCoverPrefix, allowedIpsMissingSegment, allowedIpsMissingTransit, linkLocal];
