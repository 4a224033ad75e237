// SiteFile → Plan: every address, route, key reference and timer both ends use. Pure and
// synchronous. Call it only on a site that `checkSite` found free of errors. What depends
// on the router's platform (its tunnel's default name) comes in as an argument.
import {
  containsAddress,
  formatAddress6,
  formatPrefix6,
  hostAddress,
  overlaps,
  parseAddress6,
  parsePrefix6,
  subnet,
  subnetCount,
  isIPv6,
  LINK_LOCAL,
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
  /** The segment's /64 of the routed prefix; a ULA-only segment's (global: false): its /64
   *  of the site's ULA. */
  prefix: string;
  /** The router's address in it (::1/64); SLAAC clients take the rest. */
  router: PlanAddress;
  ula?: { prefix: string; router: PlanAddress };
  inbound: { name: string; proto: "tcp" | "udp"; port: number; host?: string }[];
  /** Present (false) for a ULA-only segment: not routed to the VPS, not in AllowedIPs. */
  global?: false;
  /** The segment's old /64 while the site moves (previousPrefix, segments[].previous): the
   *  router advertises it with preferred lifetime 0 and valid lifetime 2 h. */
  previous?: string;
}

/** Whether a segment's /64 is of the routed prefix (routed to the VPS, in AllowedIPs). */
export const isGlobal = (s: Pick<PlanSegment, "global">): boolean => s.global !== false;

/** How a previous /64 is advertised while a site moves: preferred 0 (no new connections
 *  from it), valid 2 h: RFC 4862 5.5.3 (e) lets a host cut an address's remaining valid
 *  lifetime down to 2 h and no lower, so 2 h is the shortest that takes effect. */
export const PREVIOUS_LIFETIMES = { preferredS: 0, validS: 7200 } as const;

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
   *  site of a relay). A /64 site's LAN is its whole prefix: its transit is link-local
   *  (fe80::1 and fe80::2 on the tunnel) or a ULA /64 (`transit: ula`). */
  transit: {
    /** Absent: index 0 of the routed prefix. */
    kind?: "link-local" | "ula";
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
    /** Present (true) when the provider solicits the prefix's addresses on the VPS's link:
     *  ndppd answers for `ndp.rules`. */
    onLink?: true;
    /** What ndppd answers neighbour solicitations for on the NIC (vps.onLink): this site's
     *  global /64s, and its router's transit /128 when it lies in the on-link prefix. Only
     *  `static` rules: WireGuard has no neighbour discovery to ask. */
    ndp?: { rules: string[] };
    /** The VPS's own address (vps.upstream.address) when it lies in one of this site's
     *  routed /64s (a routed /64, Hetzner style): its connected route is dropped
     *  (`noprefixroute`) when it would tie with or beat the /64 into wg0, and the router
     *  sends LAN hosts' packets for it into the tunnel (they take it for on-link). */
    ownAddress?: { address: string; cidr: string; segment: string; prefix: string; interface: string; dropPrefixRoute: boolean };
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
  const relayPrefix = parsedPrefix(relay.prefix);
  const ula = site.ula ? parsePrefix6(site.ula) : undefined;
  const ulaPrefix = ula?.ok ? ula.prefix : undefined;
  const chosen = transitChoice(relayPrefix, relay.transit, ulaPrefix);
  if (!chosen.ok) throw new Error(`internal: plan built from an unchecked transit (${chosen.reason})`);
  const { prefix: transit, kind: transitKind } = chosen;
  const iid = routerInterfaceId(entry, transit);
  const bgp = site.failover.mode === "bgp-bfd";

  const previousOf = previousPrefixes(site, prefix);
  const segments: PlanSegment[] = site.segments.map((s, i) => {
    const index = segmentIndex(s.index);
    const global = s.global !== false;
    const p = global ? segmentPrefix(prefix, index) : ulaPrefix ? subnet(ulaPrefix, 64, index) : undefined;
    if (!p) throw new Error(`internal: segment ${s.name} index does not fit (unchecked site)`);
    const u = global && ulaPrefix && s.ula ? subnet(ulaPrefix, 64, index) : undefined;
    const previous = previousOf[i];
    return {
      name: s.name,
      index: Number(index),
      interface: s.interface,
      ...(s.description !== undefined ? { description: s.description } : {}),
      prefix: formatPrefix6(p),
      router: addr(p, 1n),
      ...(u ? { ula: { prefix: formatPrefix6(u), router: addr(u, 1n) } } : {}),
      inbound: s.inbound.map((i) => ({ ...i })),
      ...(global ? {} : { global: false as const }),
      ...(previous ? { previous: formatPrefix6(previous) } : {}),
    };
  });
  const routed = segments.filter(isGlobal);

  const transitVps = addr(transit, 1n);
  const transitRouter = addr(transit, iid);
  const overridden = entry.allowedIps !== undefined;
  const allowedIps = overridden
    ? entry.allowedIps!.map((a) => normalisePrefix(a))
    : allowedIpsFor(
        transitRouter.address,
        routed.map((s) => s.prefix),
      );

  const vps = relay.vps;
  const wg = "wg0" as const;
  const routes: PlanRoute[] = [
    ...allowedIps.map((a) => ({ dst: a, dev: wg, why: "AllowedIPs: wg-quick routes it into the tunnel" })),
    { dst: formatPrefix6(transit), dev: wg, why: transitKind === "link-local" ? "link-local transit (wg0's fe80::/64)" : "transit /64 (wg0 address)" },
  ];
  const own = ownAddressOf(vps, routed);
  const upstreamAddress = vps.upstream?.address;
  if (own?.dropPrefixRoute)
    routes.push({
      dst: `${own.address}/128`,
      dev: vps.nic,
      why: `the VPS's own address, in segment ${own.segment}'s /64: its connected /64 is dropped (noprefixroute), the /64 goes into wg0`,
    });
  else if (upstreamAddress) {
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
      ...(transitKind !== "prefix" ? { kind: transitKind } : {}),
      prefix: formatPrefix6(transit),
      vps: transitVps,
      router: transitRouter,
      // A link-local transit is its own link-local (bird's next hop is fe80::1 itself).
      ...(bgp && transitKind !== "link-local"
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
      ...(vps.onLink ? { onLink: true as const, ndp: { rules: ndpRules(relayPrefix, routed, transitRouter.address) } } : {}),
      ...(own ? { ownAddress: own } : {}),
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

export type TransitChoice = { ok: true; kind: "prefix" | "link-local" | "ula"; prefix: Prefix6 } | { ok: false; reason: string };

/** The fe80::/64 every link-local transit uses: the VPS fe80::1, the router fe80::2. */
export const LINK_LOCAL_64: Prefix6 = { network: LINK_LOCAL.network, length: 64 };

/** The tunnel's /64. A /40-/63 prefix: its index 0 (`transit` is not for it). A /64 site:
 *  link-local (default), `ula` (the last /64 of the site's ULA), or a ULA /64 given. */
export function transitChoice(routed: Prefix6, transit: string | undefined, ula: Prefix6 | undefined): TransitChoice {
  if (routed.length < 64) {
    if (transit !== undefined) return { ok: false, reason: `transit: is for /64 sites; a /${routed.length} site's transit is index 0 of its prefix` };
    return { ok: true, kind: "prefix", prefix: segmentPrefix(routed, 0n)! };
  }
  if (transit === undefined || transit === "link-local") return { ok: true, kind: "link-local", prefix: LINK_LOCAL_64 };
  if (transit === "ula") {
    if (!ula) return { ok: false, reason: "transit: ula takes a /64 of the site's ula, and the site has none" };
    if (ula.length > 63) return { ok: false, reason: `transit: ula takes the last /64 of the ula, and a /${ula.length} has no /64 to spare beside the LAN's` };
    return { ok: true, kind: "ula", prefix: subnet(ula, 64, subnetCount(ula, 64) - 1n)! };
  }
  const p = parsePrefix6(transit);
  if (!p.ok) return { ok: false, reason: p.reason };
  if (p.prefix.length !== 64) return { ok: false, reason: `${transit} is a /${p.prefix.length}; a transit is one /64` };
  if ((p.prefix.network >> 120n) !== 0xfdn) return { ok: false, reason: `${transit} is not a ULA (fd00::/8): a /64 site's global prefix is all LAN` };
  return { ok: true, kind: "ula", prefix: p.prefix };
}

/** Each segment's old /64 (by the site's segments' order): segments[].previous, else the
 *  same index of a previousPrefix of the same length as `prefix`, else a /64
 *  previousPrefix for the site's only global segment. Unset where none applies (lint says
 *  why). */
export function previousPrefixes(site: Pick<SiteFile, "segments" | "previousPrefix">, prefix: Prefix6): (Prefix6 | undefined)[] {
  const prev = site.previousPrefix ? parsePrefix6(site.previousPrefix) : undefined;
  const globals = site.segments.filter((s) => s.global !== false).length;
  return site.segments.map((s) => {
    if (s.global === false) return undefined;
    if (s.previous !== undefined) {
      const p = parsePrefix6(s.previous);
      return p.ok ? p.prefix : undefined;
    }
    if (!prev?.ok) return undefined;
    if (prev.prefix.length === prefix.length) return segmentPrefix(prev.prefix, segmentIndex(s.index));
    if (prev.prefix.length === 64 && globals === 1) return prev.prefix;
    return undefined;
  });
}

/** The VPS's own address when it lies in one of the site's routed /64s. Its connected
 *  route (the address's own mask) ties with or beats the /64 into wg0 when it is a /64 or
 *  longer: that one must go. */
export function ownAddressOf(vps: { upstream?: { address?: string } }, routed: Pick<PlanSegment, "name" | "interface" | "prefix">[]): Plan["vps"]["ownAddress"] {
  const text = vps.upstream?.address;
  const up = text ? parsePrefix6(text) : undefined;
  const address = text ? parseAddress6(text.split("/")[0]!) : undefined;
  if (!up?.ok || address === undefined) return undefined;
  for (const s of routed) {
    const sp = parsedPrefix(s.prefix);
    if (!containsAddress(sp, address)) continue;
    return { address: formatAddress6(address), cidr: `${formatAddress6(address)}/${up.prefix.length}`, segment: s.name, prefix: s.prefix, interface: s.interface, dropPrefixRoute: up.prefix.length >= 64 && overlaps(up.prefix, sp) };
  }
  return undefined;
}

/** ndppd's static rules: each routed /64, and the router's transit /128 when it lies in
 *  the on-link prefix (it is the router's own source with a global transit). */
export function ndpRules(onLink: Prefix6, routed: Pick<PlanSegment, "prefix">[], routerTransit: string): string[] {
  const t = parseAddress6(routerTransit);
  return [...routed.map((s) => s.prefix), ...(t !== undefined && containsAddress(onLink, t) ? [`${routerTransit}/128`] : [])];
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
