// SiteFile → Plan: every address, route, key reference and timer both ends use. Pure and
// synchronous. Call it only on a site that `checkSite` found free of errors. What depends
// on the router's platform (its tunnel's default name) comes in as an argument.
import {
  formatAddress6,
  formatPrefix6,
  hostAddress,
  parseAddress6,
  parsePrefix6,
  subnet,
  isIPv6,
  type Prefix6,
} from "../net/ipv6.js";
import type { RouterPlatform } from "../site/platform.js";
import { relayOfSite, type RelayInput, type RelaySiteEntry } from "../site/relay.js";
import type { SiteFile } from "../site/schema.js";
import { bfdFigures, probeFigures, type BfdFigures, type ProbeFigures } from "./bfd.js";
import type { TransferQuota } from "./quota.js";
import { parseTransitPin, transitInterfaceId } from "./transit.js";

export interface PlanAddress {
  /** Address without length, e.g. 2001:db8::1 */
  address: string;
  /** Address with its prefix length, e.g. 2001:db8::1/64 */
  cidr: string;
}

export interface PlanSegment {
  name: string;
  index: number;
  interface: string;
  description?: string;
  /** The segment's /64 of the routed prefix. */
  prefix: string;
  /** The router's address in it (::1/64); SLAAC clients take the rest. */
  router: PlanAddress;
  ula?: { prefix: string; router: PlanAddress };
  inbound: { name: string; proto: "tcp" | "udp"; port: number; host?: string }[];
}

export interface PlanRoute {
  dst: string;
  dev: string;
  via?: string;
  /** Why this route exists, in a few words. */
  why: string;
}

/** One site's view of the relay: what its router, its verify and the lab need. A site of
 *  a relay carries copies of the relay's values its router uses (the VPS's endpoint, the
 *  transit, the WireGuard port and MTU, the VPS's ASN); the relay-wide parts are the
 *  RelayPlan's (src/plan/relay.ts). */
export interface Plan {
  site: string;
  /** The site's own prefix: the routed prefix for a standalone site, a /56, /60 or /64 of
   *  the relay's prefix for a site of a relay. */
  prefix: string;
  prefixLength: number;
  /** Transit /64 = index 0 of the routed prefix: the tunnel's own link (the relay's, for a
   *  site of a relay). */
  transit: {
    prefix: string;
    vps: PlanAddress;
    router: PlanAddress;
    /** Link-locals on the tunnel: bird's `next hop self` needs one (wg-quick adds none). */
    vpsLinkLocal?: PlanAddress;
    routerLinkLocal?: PlanAddress;
  };
  segments: PlanSegment[];
  ula?: string;
  wireguard: {
    port: number;
    mtu: number;
    keepalive: number;
    /** TCP MSS that fits the tunnel: MTU − 40 (IPv6) − 20 (TCP). */
    mss: number;
    keys: "relay6" | "device";
  };
  vps: {
    endpoint: string;
    /** Family of the underlay the router dials over. */
    endpointFamily: 4 | 6 | "name";
    nic: string;
    os: SiteFile["vps"]["os"];
    tunnelInterface: "wg0";
    publicKey?: string;
    /** AllowedIPs of the router peer in the VPS's wg0.conf (see allowedIpsFor). */
    allowedIps: string[];
    /** Whether the user replaced the computed AllowedIPs (vps.allowedIps). */
    allowedIpsOverridden: boolean;
    upstream?: { address?: string; gateway?: string };
    /** The routing table the VPS ends up with, most specific first. */
    routes: PlanRoute[];
    firewall: "ufw" | "none";
    ssh: { host: string; port: number; user: string };
    /** A site of a relay: the VPS's key mode (wireguard.keys is the router's). */
    keys?: "relay6" | "device";
    /** The provider's transfer quota (vps.transfer), the relay's. */
    transfer?: TransferQuota;
    /** vps.alerts: the check the VPS runs on a timer. */
    alerts?: { every: number; onFailure?: string };
  };
  router: {
    /** router.platform: the target that renders the router's end. */
    platform: string;
    version?: string;
    bridge: string;
    wan?: string;
    endpoint?: string;
    tunnelInterface: string;
    publicKey?: string;
    /** The router's peer (the VPS): allowed ::/0, the default route decides what goes in. */
    peerAllowedIps: string[];
    acceptAllFromTunnel: boolean;
    /** router.management.fromVps: the management service opened, through the tunnel, to
     *  the VPS's transit address only. */
    management?: { port: number; service: string; from: string };
  };
  failover:
    | {
        mode: "static";
        /** The router's health probe of the VPS's transit address (ping every second). */
        probe: ProbeFigures;
      }
    | {
        mode: "bgp-bfd";
        vpsAs: number;
        routerAs: number;
        vpsRouterId: string;
        routerRouterId: string;
        bfd: { intervalMs: number; multiplier: number; idleTxMs: number } & BfdFigures;
      };
  clampMss: boolean;
  dns: { advertise: "self" | "none" | string[] };
  /** A site of a relay: the relay it belongs to. Absent for a standalone site. */
  relay?: { name: string; prefix: string };
}

const addr = (p: Prefix6, host: bigint): PlanAddress => {
  const a = formatAddress6(hostAddress(p, host));
  return { address: a, cidr: `${a}/${p.length}` };
};

export function segmentIndex(index: number | string): bigint {
  return typeof index === "number" ? BigInt(index) : BigInt(index);
}

/** The /64 a segment index names: index N is the Nth /64 of the routed prefix. */
export function segmentPrefix(prefix: Prefix6, index: bigint): Prefix6 | undefined {
  return subnet(prefix, 64, index);
}

/**
 * The VPS's AllowedIPs for the router peer: the router's transit /128 plus one /64 per
 * segment, never the routed prefix itself. The provider puts an address of the prefix on
 * the VPS's public NIC with the prefix's own mask (2001:db8::a/48), so the kernel holds a
 * connected /48 on that NIC; a /48 route to wg0 ties with it on length and loses on
 * metric, and return traffic is solicited on the NIC and lost. /64s win by length.
 */
export function allowedIpsFor(routerTransit: string, segmentPrefixes: string[]): string[] {
  return [`${routerTransit}/128`, ...segmentPrefixes];
}

/** `platform`: the site's router platform (its defaults). A standalone site is planned as
 *  the one site of its relay (src/site/relay.ts: relayOfSite). */
export function buildPlan(site: SiteFile, platform: Pick<RouterPlatform, "tunnelInterface" | "management">): Plan {
  const relay = relayOfSite(site);
  return buildSitePlan(relay, relay.sites[0]!, platform);
}

/** The router's interface id in the relay's transit /64: the entry's pin, else the hash
 *  of the site's name (src/plan/transit.ts). Call only on a checked relay. */
export function routerInterfaceId(entry: RelaySiteEntry, transit: Prefix6): bigint {
  if (entry.transit === undefined) return transitInterfaceId(entry.site.site);
  const pin = parseTransitPin(entry.transit, transit);
  if (!pin.ok) throw new Error(`internal: plan built from an unchecked transit pin ${entry.transit}`);
  return pin.iid;
}

export function parsedPrefix(text: string): Prefix6 {
  const parsed = parsePrefix6(text);
  if (!parsed.ok) throw new Error(`internal: plan built from an unchecked prefix ${text}`);
  return parsed.prefix;
}

/** One site of a relay → its Plan. Pure; call only on a relay that lint found free of errors. */
export function buildSitePlan(relay: RelayInput, entry: RelaySiteEntry, platform: Pick<RouterPlatform, "tunnelInterface" | "management">): Plan {
  const site = entry.site;
  const member = relay.kind === "relay";
  const prefix = parsedPrefix(site.prefix);
  const transit = segmentPrefix(parsedPrefix(relay.prefix), 0n)!;
  const iid = routerInterfaceId(entry, transit);
  const ula = site.ula ? parsePrefix6(site.ula) : undefined;
  const ulaPrefix = ula?.ok ? ula.prefix : undefined;
  const bgp = site.failover.mode === "bgp-bfd";

  const segments: PlanSegment[] = site.segments.map((s) => {
    const index = segmentIndex(s.index);
    const p = segmentPrefix(prefix, index);
    if (!p) throw new Error(`internal: segment ${s.name} index does not fit (unchecked site)`);
    const u = ulaPrefix && s.ula ? subnet(ulaPrefix, 64, index) : undefined;
    return {
      name: s.name,
      index: Number(index),
      interface: s.interface,
      ...(s.description !== undefined ? { description: s.description } : {}),
      prefix: formatPrefix6(p),
      router: addr(p, 1n),
      ...(u ? { ula: { prefix: formatPrefix6(u), router: addr(u, 1n) } } : {}),
      inbound: s.inbound.map((i) => ({ ...i })),
    };
  });

  const transitVps = addr(transit, 1n);
  const transitRouter = addr(transit, iid);
  const overridden = entry.allowedIps !== undefined;
  const allowedIps = overridden
    ? entry.allowedIps!.map((a) => normalisePrefix(a))
    : allowedIpsFor(
        transitRouter.address,
        segments.map((s) => s.prefix),
      );

  const vps = relay.vps;
  const wg = "wg0" as const;
  const routes: PlanRoute[] = [
    ...allowedIps.map((a) => ({ dst: a, dev: wg, why: "AllowedIPs: wg-quick routes it into the tunnel" })),
    { dst: formatPrefix6(transit), dev: wg, why: "transit /64 (wg0 address)" },
  ];
  const upstreamAddress = vps.upstream?.address;
  if (upstreamAddress) {
    const up = parsePrefix6(upstreamAddress);
    if (up.ok)
      routes.push({
        dst: formatPrefix6(up.prefix),
        dev: vps.nic,
        why: "connected route of the provider's address; harmless, the tunnel routes are longer",
      });
  }
  routes.push({
    dst: "::/0",
    dev: vps.nic,
    ...(vps.upstream?.gateway ? { via: vps.upstream.gateway } : {}),
    why: vps.upstream?.gateway ? "default via the provider's gateway" : "default, learned from the provider's RA",
  });

  // Most specific first: the order in which the kernel prefers them.
  routes.sort((a, b) => Number(b.dst.split("/")[1]) - Number(a.dst.split("/")[1]));
  const wgMtu = relay.wireguard.mtu;
  const routerWg = site.router.tunnelInterface ?? platform.tunnelInterface;
  const mgmtPort = site.router.management?.port ?? platform.management?.port;
  const management = site.router.management?.fromVps && mgmtPort !== undefined ? { port: mgmtPort, service: platform.management?.service ?? `TCP ${mgmtPort}`, from: transitVps.address } : undefined;
  const linkLocal = (id: bigint): PlanAddress => {
    const a = formatAddress6((0xfe80n << 112n) | id);
    return { address: a, cidr: `${a}/64` };
  };

  return {
    site: site.site,
    prefix: formatPrefix6(prefix),
    prefixLength: prefix.length,
    transit: {
      prefix: formatPrefix6(transit),
      vps: transitVps,
      router: transitRouter,
      ...(bgp
        ? {
            vpsLinkLocal: linkLocal(1n),
            routerLinkLocal: linkLocal(iid),
          }
        : {}),
    },
    segments,
    ...(ulaPrefix ? { ula: formatPrefix6(ulaPrefix) } : {}),
    wireguard: {
      port: relay.wireguard.port,
      mtu: wgMtu,
      keepalive: site.wireguard.keepalive,
      mss: wgMtu - 60,
      keys: site.wireguard.keys,
    },
    vps: {
      endpoint: vps.endpoint,
      endpointFamily: isIPv6(vps.endpoint) ? 6 : /^\d+\.\d+\.\d+\.\d+$/.test(vps.endpoint) ? 4 : "name",
      nic: vps.nic,
      os: vps.os,
      tunnelInterface: wg,
      ...(vps.publicKey ? { publicKey: vps.publicKey } : {}),
      allowedIps,
      allowedIpsOverridden: overridden,
      ...(vps.upstream ? { upstream: { ...vps.upstream } } : {}),
      routes,
      firewall: relay.firewall.vps,
      ssh: { host: vps.ssh.host ?? vps.endpoint, port: vps.ssh.port, user: vps.ssh.user },
      ...(member ? { keys: relay.wireguard.keys } : {}),
      ...(vps.transfer ? { transfer: { ...vps.transfer } } : {}),
      ...(vps.alerts ? { alerts: { ...vps.alerts } } : {}),
    },
    router: {
      platform: site.router.platform,
      ...(site.router.version ? { version: site.router.version } : {}),
      bridge: site.router.bridge,
      ...(site.router.wan ? { wan: site.router.wan } : {}),
      ...(site.router.endpoint ? { endpoint: site.router.endpoint } : {}),
      tunnelInterface: routerWg,
      ...(site.router.publicKey ? { publicKey: site.router.publicKey } : {}),
      peerAllowedIps: ["::/0"],
      acceptAllFromTunnel: site.router.acceptAllFromTunnel,
      ...(management ? { management } : {}),
    },
    failover: bgp
      ? {
          mode: "bgp-bfd",
          vpsAs: relay.bgp.as,
          routerAs: site.failover.routerAs,
          vpsRouterId: relay.bgp.routerId,
          routerRouterId: site.failover.routerRouterId,
          bfd: {
            ...site.failover.bfd,
            ...bfdFigures(site.failover.bfd.intervalMs, site.failover.bfd.multiplier, underlayFamily(relay)),
          },
        }
      : { mode: "static", probe: probeFigures(underlayFamily(relay)) },
    clampMss: site.firewall.clampMss,
    dns: { advertise: site.dns.advertise },
    ...(member ? { relay: { name: relay.relay, prefix: formatPrefix6(parsedPrefix(relay.prefix)) } } : {}),
  };
}

export function underlayFamily(site: { vps: { endpoint: string } }): 4 | 6 {
  return isIPv6(site.vps.endpoint) ? 6 : 4;
}

function normalisePrefix(text: string): string {
  const p = parsePrefix6(text);
  if (p.ok) return formatPrefix6(p.prefix);
  const a = parseAddress6(text);
  return a === undefined ? text : `${formatAddress6(a)}/128`;
}
