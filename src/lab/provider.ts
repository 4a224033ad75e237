// The provider, emulated in the lab's inet namespace, per kind of provider the site says it
// has (its prefix length and vps.onLink), and where the VPS's own address goes:
//
//   routed      a /40-/63 routed to the VPS's NIC address (the recipe's WebHorizon /48):
//               inet: `<prefix> via <VPS address> dev vps0`. The VPS holds
//               vps.upstream.address, else ::a of the prefix with the prefix's own mask.
//   on-link     a prefix the provider puts on the VPS's link (Vultr's reserved /64): inet
//               holds no gateway for it, `<prefix> dev vps0`, so it solicits every address
//               of it on the link: only an answer for it (ndppd) makes a LAN host
//               reachable. The VPS's own address is in a /64 of its own (upstream.address,
//               else ::a of the /64 beside the prefix), which inet holds on vps0 too.
//   routed-64   a /64 routed to the VPS's link-local (Hetzner dedicated: via fe80::1 the
//               other way): inet: `<prefix> via fe80::ff:fe00:a dev vps0` (the VPS's NIC
//               has a fixed MAC, so its link-local is known), and inet's radvd advertises
//               the /64 on the link, as such a provider may: accept_ra_pinfo = 0 on the VPS
//               is what keeps it off the NIC. The VPS's own address lies in the /64
//               (upstream.address, else ::2/64).
//
// Everything is computed from the plan (hostAddress), never pasted onto a string.
import { formatAddress6, formatPrefix6, hostAddress, parsePrefix6, type Prefix6 } from "../net/ipv6.js";

export type ProviderKind = "routed" | "on-link" | "routed-64";

/** The VPS's NIC MAC in the lab: its link-local is then fe80::ff:fe00:a (EUI-64). */
export const VPS_NIC_MAC = "02:00:00:00:00:0a";
export const VPS_NIC_LINK_LOCAL = "fe80::ff:fe00:a";

export interface Provider {
  kind: ProviderKind;
  /** The VPS's own address on its NIC, with its mask. */
  vpsCidr: string;
  vpsAddress: string;
  /** inet's addresses on vps0 besides the gateway (the VPS's own /64 when it is another one). */
  inetAddrs: string[];
  /** inet's routes toward the VPS: each an `ip -6 route add` argument list. */
  inetRoutes: string[][];
  /** inet's radvd on vps0 (routed-64): the configuration, advertising the /64. */
  radvd?: string;
}

const parsed = (text: string): Prefix6 => {
  const p = parsePrefix6(text);
  if (!p.ok) throw new Error(`internal: ${text} is not a prefix`);
  return p.prefix;
};

/** What the provider kind depends on: a standalone site's plan, or a relay's. */
export interface Provided {
  prefix: string;
  prefixLength: number;
  vps: { nic: string; onLink?: boolean; upstream?: { address?: string } };
}

export function providerKindOf(plan: Pick<Provided, "prefixLength" | "vps">): ProviderKind {
  if (plan.vps.onLink) return "on-link";
  return plan.prefixLength === 64 ? "routed-64" : "routed";
}

/** What the provider gives, for the VPS's prefix (a standalone site's; a relay's). */
export function providerOf(plan: Provided): Provider {
  const kind = providerKindOf(plan);
  const prefix = parsed(plan.prefix);
  const given = plan.vps.upstream?.address;
  const mk = (p: Prefix6, host: bigint) => ({ address: formatAddress6(hostAddress(p, host)), cidr: `${formatAddress6(hostAddress(p, host))}/${p.length}` });
  if (kind === "routed") {
    const own = given ? { address: given.split("/")[0]!, cidr: given } : mk(prefix, 0xan);
    return { kind, vpsCidr: own.cidr, vpsAddress: own.address, inetAddrs: [], inetRoutes: [[`${own.address}/128`, "dev", "vps0"], [plan.prefix, "via", own.address, "dev", "vps0"]] };
  }
  if (kind === "on-link") {
    // The VPS's own /64: the one given, else the /64 beside the relayed one.
    const own = given ? { address: given.split("/")[0]!, cidr: given } : mk({ network: prefix.network ^ (1n << BigInt(128 - prefix.length)), length: 64 }, 0xan);
    const ownNet = parsed(own.cidr);
    return {
      kind,
      vpsCidr: own.cidr,
      vpsAddress: own.address,
      inetAddrs: [`${formatAddress6(hostAddress({ network: ownNet.network, length: ownNet.length }, 1n))}/${ownNet.length}`],
      inetRoutes: [[plan.prefix, "dev", "vps0"]],
    };
  }
  const own = given ? { address: given.split("/")[0]!, cidr: given } : mk(prefix, 2n);
  return {
    kind,
    vpsCidr: own.cidr,
    vpsAddress: own.address,
    inetAddrs: [],
    inetRoutes: [[plan.prefix, "via", VPS_NIC_LINK_LOCAL, "dev", "vps0"]],
    radvd: [
      "# The lab's provider (inet) advertises the routed /64 on the VPS's link, as a provider may.",
      "interface vps0 {",
      "  AdvSendAdvert on;",
      "  MinRtrAdvInterval 3;",
      "  MaxRtrAdvInterval 4;",
      "  AdvDefaultLifetime 1800;",
      `  prefix ${formatPrefix6(prefix)} {`,
      "    AdvOnLink on;",
      "    AdvAutonomous on;",
      "  };",
      "};",
      "",
    ].join("\n"),
  };
}
