// RelayInput → RelayPlan: the relay-wide part (the VPS's wg0, its routes, its BGP side)
// and one per-site Plan per site. The VPS target renders from this; router targets,
// verify and the lab take one site's Plan. A standalone site is the relay of one site, so
// its RelayPlan's relay-wide values are exactly the ones its Plan carries. Pure.
import { formatPrefix6 } from "../net/ipv6.js";
import type { RouterPlatform } from "../site/platform.js";
import type { RelayInput } from "../site/relay.js";
import { buildSitePlan, parsedPrefix, underlayFamily, type Plan, type PlanAddress, type PlanRoute } from "./plan.js";
import { failoverBytesPerMonth, quotaFigures, type QuotaFigures } from "./quota.js";

export interface RelayPlan {
  /** The relay's name; a standalone site's is its site name. */
  relay: string;
  /** "site": a standalone site file (one site, today's layout); "relay": a relay file. */
  kind: "site" | "relay";
  /** The prefix routed to the VPS. */
  prefix: string;
  prefixLength: number;
  /** Index 0 of the routed prefix: the VPS's wg0 and every router's tunnel (a standalone
   *  /64 site's: link-local or a ULA /64, Plan.transit.kind). */
  transit: {
    kind?: "link-local" | "ula";
    prefix: string;
    vps: PlanAddress;
    /** bird's `next hop self` needs one on wg0 (any bgp-bfd site). */
    vpsLinkLocal?: PlanAddress;
  };
  wireguard: { port: number; mtu: number; mss: number; keys: "relay6" | "device" };
  vps: Omit<Plan["vps"], "allowedIps" | "allowedIpsOverridden" | "keys"> & {
    /** The VPS clamps TCP MSS on wg0 when any site asks for it (firewall.clampMss). */
    clampMss: boolean;
  };
  /** The VPS's side of the BGP sessions: present when any site is bgp-bfd. bird applies one
   *  set of BFD timers to wg0: the fastest interval and idle interval of the sites, the
   *  largest multiplier (negotiation gives each session its router's slower interval). */
  bgp?: { as: number; routerId: string; bfd: { intervalMs: number; multiplier: number; idleTxMs: number } };
  sites: Plan[];
  /** Sums over the sites (each site's own figure is in its plan). */
  totals: {
    /** Underlay bytes a month of every site's BFD session, both directions. */
    bfdBytesPerMonth: number;
    /** Every site's failover probing a month (BFD, the static mode's probe), both directions. */
    failoverBytesPerMonth: number;
  };
  /** vps.transfer: the quota, the failover traffic it pays first, the LAN traffic it carries. */
  quota?: QuotaFigures;
}

/** `platformOf`: the defaults of a router platform, by its id (the registry's). */
export function buildRelayPlan(input: RelayInput, platformOf: (id: string) => Pick<RouterPlatform, "tunnelInterface" | "management">): RelayPlan {
  const sites = input.sites.map((entry) => buildSitePlan(input, entry, platformOf(entry.site.router.platform)));
  return relayPlanOf(input.kind, input.relay, input.prefix, sites);
}

/** The relay-wide part, from the sites' plans (each carries the relay's values). */
export function relayPlanOf(kind: RelayPlan["kind"], name: string, prefixText: string, sites: Plan[]): RelayPlan {
  const first = sites[0];
  if (!first) throw new Error("internal: a relay plan needs a site");
  const prefix = parsedPrefix(prefixText);
  const bgpSites = sites.flatMap((p) => (p.failover.mode === "bgp-bfd" ? [p.failover] : []));
  const { allowedIps: _a, allowedIpsOverridden: _o, keys: _k, routes: _r, ndp: _n, ownAddress: _w, ...vps } = first.vps;
  // ndppd on the VPS answers for every site's /64s (and routers' transit /128s).
  const ndp = vps.onLink ? { rules: sites.flatMap((p) => p.vps.ndp?.rules ?? []) } : undefined;
  const own = sites.find((p) => p.vps.ownAddress)?.vps.ownAddress;
  const ll = sites.find((p) => p.transit.vpsLinkLocal)?.transit.vpsLinkLocal;
  const failover = sites.reduce((sum, p) => sum + failoverBytesPerMonth(p), 0);
  return {
    relay: name,
    kind,
    prefix: formatPrefix6(prefix),
    prefixLength: prefix.length,
    transit: { ...(first.transit.kind ? { kind: first.transit.kind } : {}), prefix: first.transit.prefix, vps: first.transit.vps, ...(ll ? { vpsLinkLocal: ll } : {}) },
    wireguard: { port: first.wireguard.port, mtu: first.wireguard.mtu, mss: first.wireguard.mss, keys: first.vps.keys ?? first.wireguard.keys },
    vps: { ...vps, ...(ndp ? { ndp } : {}), ...(own ? { ownAddress: own } : {}), routes: relayRoutes(sites), clampMss: sites.some((p) => p.clampMss) },
    ...(bgpSites.length > 0
      ? {
          bgp: {
            as: bgpSites[0]!.vpsAs,
            routerId: bgpSites[0]!.vpsRouterId,
            bfd: {
              intervalMs: Math.min(...bgpSites.map((f) => f.bfd.intervalMs)),
              multiplier: Math.max(...bgpSites.map((f) => f.bfd.multiplier)),
              idleTxMs: Math.min(...bgpSites.map((f) => f.bfd.idleTxMs)),
            },
          },
        }
      : {}),
    sites,
    totals: { bfdBytesPerMonth: bgpSites.reduce((sum, f) => sum + f.bfd.bytesPerMonth, 0), failoverBytesPerMonth: failover },
    ...(first.vps.transfer ? { quota: quotaFigures(first.vps.transfer, failover, underlayFamily(first)) } : {}),
  };
}

/** The VPS's routing table: every site's, each route once, most specific first. */
function relayRoutes(sites: Plan[]): PlanRoute[] {
  const seen = new Set<string>();
  const out: PlanRoute[] = [];
  for (const p of sites)
    for (const r of p.vps.routes) {
      const k = `${r.dst} ${r.dev}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
  // A stable sort: the sites' order among routes of one length.
  return out.sort((a, b) => Number(b.dst.split("/")[1]) - Number(a.dst.split("/")[1]));
}
