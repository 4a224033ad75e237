// What each RouterOS release can do, as data. The renderer asks this table; it never
// compares version numbers itself. Every row says where the fact was read, so the next
// person can check it against ../shared/routeros/schema (captured /console/inspect trees
// of 7.15, 7.18.2, 7.19, 7.20.8, 7.21.4, 7.22.3 and 7.24).

/** A RouterOS release as numbers: 7.22 → [7, 22, 0]. */
export type Release = readonly [number, number, number];

/** The releases relay6 renders for: every 7.x from 7.15 up to (not including) 7.25. */
export const SUPPORTED = { from: [7, 15, 0] as Release, before: [7, 25, 0] as Release, text: "7.15 to 7.24" };

export type FeatureId =
  | "bgp-instance"
  | "bgp-afi-arg"
  | "wg-peer-name"
  | "wg-responder-arg"
  | "nd-advertise-dns-self"
  | "nd-unset"
  | "logging-script-action"
  | "route-pref-src"
  | "nd-proxy";

export interface Feature {
  id: FeatureId;
  /** First release that has it. */
  since: Release;
  /** What it is, in RouterOS's words. */
  what: string;
  /** Where the fact comes from. */
  evidence: string;
  /** What relay6 renders on releases before `since`. */
  before: string;
  /** How good that is: the same configuration in older syntax (no diagnostic), an
   *  approximation (a warning), or nothing at all (a lint error when the plan needs it). */
  fallback: "same" | "approximate" | "none";
}

export const FEATURES: readonly Feature[] = [
  {
    id: "bgp-instance",
    since: [7, 20, 0],
    what: "/routing/bgp/instance (AS and router-id on the instance; connections name their instance)",
    evidence: "routing.bgp.instance absent in inspect-7.19, present from inspect-7.20.8; template/connection router-id gone from 7.20.8",
    before: "no instance: router-id and as on the BGP connection",
    fallback: "same",
  },
  {
    id: "bgp-afi-arg",
    since: [7, 19, 0],
    what: "afi= on BGP template/connection",
    evidence: "routing.bgp.connection.add.afi from inspect-7.19; address-families in 7.15 and 7.18.2",
    before: "address-families=ipv6",
    fallback: "same",
  },
  {
    id: "wg-peer-name",
    since: [7, 15, 0],
    what: "name= on /interface/wireguard/peers",
    evidence: "interface.wireguard.peers.add.name in every captured tree from 7.15",
    before: "nothing: peers without names cannot be found again by name",
    fallback: "none",
  },
  {
    id: "wg-responder-arg",
    since: [7, 17, 0],
    what: "responder= on WireGuard peers (was is-responder=)",
    evidence: "is-responder in inspect-7.15, responder from inspect-7.18.2; changelog 7.17",
    before: "is-responder= (relay6 sets neither: the router always dials the VPS)",
    fallback: "same",
  },
  {
    id: "nd-advertise-dns-self",
    since: [7, 21, 4],
    what: "advertise-dns=self on /ipv6/nd (RDNSS = the router's own address)",
    evidence:
      "the first tree with value completions that lists self: tikoci/restraml docs/7.21.4/deep-inspect.json (.ipv6.nd.add[\"advertise-dns\"]._completion = no|self|yes; 7.21.5 and 7.22.2 too), and ../shared deep-inspect-7.22.3.json; 7.21.0-7.21.3 have no deep tree (7.21.1's holds no completions), so they are unknown, not known to lack it",
    before: "advertise-dns=yes dns=<the router's own address on that segment> (ULA when the segment has one)",
    fallback: "approximate",
  },
  {
    id: "nd-unset",
    since: [7, 23, 0],
    what: "/ipv6/nd/unset (takes a value such as dns= off an RA entry)",
    evidence: "ipv6.nd.unset (numbers, value-name) in tikoci/restraml docs/7.23/inspect.json (from 7.23beta2) and ../shared inspect-7.24; absent in inspect-7.22.3 and every tree before",
    before: 'set dns="" (an empty list; that RouterOS takes it is not shown by any tree)',
    fallback: "same",
  },
  {
    id: "logging-script-action",
    since: [7, 22, 0],
    what: "target=script on /system/logging/action (and comment= on /system/logging rules): the RA drain runs on BFD and BGP log lines",
    evidence:
      "system.logging.action.add.script and system.logging.add.comment in inspect-7.22.3 and 7.24, absent in 7.21.4; target completes with script in deep-inspect-7.22.3 (restraml: from 7.22rc4)",
    before: "the RA drain's netwatch tick alone (every second)",
    fallback: "approximate",
  },
  {
    id: "route-pref-src",
    since: [7, 20, 0],
    what: "pref-src= on /ipv6/route (the source of the router's own traffic on a static route)",
    evidence:
      "ipv6.route.add.pref-src absent in inspect-7.15, 7.18.2 and 7.19, present from inspect-7.20.8; tikoci/restraml docs/7.20/inspect.json has it, every 7.19.x lacks it: from 7.20.0",
    before: "the static ::/0 without pref-src: the router's own traffic (DNS upstreams, NTP) may leave from its tunnel address (link-local or ULA) and fail",
    fallback: "approximate",
  },
  {
    id: "nd-proxy",
    since: [7, 20, 0],
    what: "/ipv6/nd/proxy (the router answers neighbour solicitations for an address on a LAN interface)",
    evidence: "ipv6.nd.proxy absent in inspect-7.15, 7.18.2 and 7.19, present (add address, interface, comment) from inspect-7.20.8; restraml: from 7.20.0",
    before: "nothing answers LAN hosts' solicitations for the VPS's own address in the routed /64: they cannot reach it",
    fallback: "approximate",
  },
];

/** One row per release range: what relay6 renders there. Derived from FEATURES. */
export interface Capabilities {
  release: Release;
  bgpInstance: boolean;
  bgpAfiArg: "afi" | "address-families";
  wgPeerName: boolean;
  ndAdvertiseDnsSelf: boolean;
  ndUnset: boolean;
  loggingScriptAction: boolean;
  routePrefSrc: boolean;
  ndProxy: boolean;
}

export function parseRelease(text: string): Release | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareRelease(a: Release, b: Release): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function formatRelease(r: Release): string {
  return r[2] === 0 ? `${r[0]}.${r[1]}` : `${r[0]}.${r[1]}.${r[2]}`;
}

/** Whether the router runs the release the site file names: 7.22 matches any 7.22.x,
 *  7.22.3 only itself. apply refuses a mismatch, verify reports it. */
export function releaseMatches(site: string, router: string): boolean {
  const s = parseRelease(site);
  const r = parseRelease(router);
  if (!s || !r) return false;
  const exact = /^\d+\.\d+\.\d+$/.test(site.trim());
  return s[0] === r[0] && s[1] === r[1] && (!exact || s[2] === r[2]);
}

/** A POSIX extended regex (RouterOS `~`) matching the router's version string
 *  ("7.22.3 (stable)", "7.22 (stable)") exactly when releaseMatches(site, router) holds:
 *  "7.22" any 7.22.x (7.22.0 prints as "7.22"), "7.22.3" only 7.22.3, "7.22.0" only 7.22. */
export function releasePattern(site: string): string {
  const r = parseRelease(site);
  if (!r) throw new Error(`internal: not a release: ${JSON.stringify(site)}`);
  const head = `^${r[0]}[.]${r[1]}`;
  if (!/^\d+\.\d+\.\d+$/.test(site.trim())) return `${head}([. ]|$)`;
  return r[2] === 0 ? `${head}([.]0)?( |$)` : `${head}[.]${r[2]}( |$)`;
}

export function isSupported(r: Release): boolean {
  return compareRelease(r, SUPPORTED.from) >= 0 && compareRelease(r, SUPPORTED.before) < 0;
}

export function has(r: Release, id: FeatureId): boolean {
  const f = FEATURES.find((x) => x.id === id);
  if (!f) throw new Error(`internal: unknown RouterOS feature ${id}`);
  return compareRelease(r, f.since) >= 0;
}

export function capabilitiesOf(r: Release): Capabilities {
  return {
    release: r,
    bgpInstance: has(r, "bgp-instance"),
    bgpAfiArg: has(r, "bgp-afi-arg") ? "afi" : "address-families",
    wgPeerName: has(r, "wg-peer-name"),
    ndAdvertiseDnsSelf: has(r, "nd-advertise-dns-self"),
    ndUnset: has(r, "nd-unset"),
    loggingScriptAction: has(r, "logging-script-action"),
    routePrefSrc: has(r, "route-pref-src"),
    ndProxy: has(r, "nd-proxy"),
  };
}
