// Lint: the recipe's traps, caught from the site file. Two passes: `checkSite` needs only
// a schema-valid site and finds what would stop a plan being built; `lintPlan` looks at
// the built plan. Every finding has a stable code listed in LINT_CODES (and the README).
import { formatPath, type Diagnostic, type Severity } from "../errors.js";
import {
  contains,
  containsAddress,
  formatPrefix6,
  ipv4ToNumber,
  isIPv6,
  overlaps,
  parseAddress6,
  parsePrefix6,
  prefixScope,
  subnet,
  subnetCount,
  ULA_RANGE,
  type Prefix6,
} from "../net/ipv6.js";
import { formatBytes } from "../plan/bfd.js";
import { PREVIOUS_LIFETIMES, segmentIndex, segmentPrefix, transitChoice, underlayFamily, type Plan, type TransitChoice } from "../plan/plan.js";
import { isWireGuardKey } from "../keys/wireguard.js";
import type { RouterPlatform } from "../site/platform.js";
import type { SiteFile } from "../site/schema.js";
import type { YamlPath } from "../site/load.js";

export interface LintCode {
  code: string;
  severity: Severity;
  summary: string;
}

/** Every lint code relay6 emits. Codes are stable: tools and docs refer to them. */
export const LINT_CODES: readonly LintCode[] = [
  { code: "vps-onlink-required", severity: "error", summary: "The prefix is a /64 and vps.onLink does not say whether the provider puts it on the VPS's link (NDP proxy) or routes it there." },
  { code: "prefix-length-unsupported", severity: "error", summary: "The prefix is shorter than /40 or longer than /64 (a relay's: longer than /63)." },
  { code: "prefix-not-global", severity: "error", summary: "The routed prefix is not global unicast (2000::/3): link-local, multicast, a ULA, IPv4-mapped or another special-purpose prefix is never routed to a VPS." },
  { code: "prefix-documentation", severity: "warning", summary: "The routed prefix is documentation space (2001:db8::/32, 3fff::/20): right for examples and the lab, never routed on the internet." },
  { code: "prefix-host-bits", severity: "warning", summary: "The prefix has host bits set (an address was pasted, not the network)." },
  { code: "segment-index-out-of-range", severity: "error", summary: "A segment's index names a /64 outside the routed prefix." },
  { code: "segment-index-transit", severity: "error", summary: "A segment of a /40-/63 site uses index 0, the tunnel's transit /64." },
  { code: "segment-ula-only-needs-ula", severity: "error", summary: "A segment with global: false has no ULA /64 (no `ula`, or ula: false on the segment)." },
  { code: "segment-ula-only-inbound", severity: "error", summary: "A ULA-only segment (global: false) lists inbound services: internet hosts cannot reach it." },
  { code: "transit-invalid", severity: "error", summary: "`transit` cannot be used: it is set on a /40-/63 site, `ula` has no /64 for it, or the /64 given is not a ULA /64." },
  { code: "transit-overlaps-segment", severity: "error", summary: "The ULA transit /64 is a segment's ULA /64." },
  { code: "vps-address-proxied", severity: "error", summary: "vps.onLink: the VPS's own address lies in a /64 ndppd answers for (static answers for every address of its rule, the VPS's own included)." },
  { code: "vps-address-moved", severity: "info", summary: "A routed /64 holds the VPS's own address: relay6 drops its connected /64 on the NIC and its RA prefix route; LAN hosts reach the address through the router." },
  { code: "vps-address-unknown", severity: "warning", summary: "A /64 site without vps.upstream.address: relay6 cannot tell whether the VPS's own address lies in the /64." },
  { code: "previous-prefix-overlap", severity: "error", summary: "previousPrefix (or a segment's previous /64) overlaps the current prefix." },
  { code: "previous-prefix-ambiguous", severity: "error", summary: "A /64 previousPrefix and more than one global segment: which one it belonged to is not known (segments[].previous says it)." },
  { code: "previous-prefix-length", severity: "error", summary: "previousPrefix is neither as long as the prefix nor a /64: each global segment needs segments[].previous." },
  { code: "previous-invalid", severity: "error", summary: "A segment's previous is not a /64, is on a ULA-only segment, or is another segment's too." },
  { code: "previous-prefix-deprecating", severity: "info", summary: "Old /64s are advertised with preferred lifetime 0 and valid lifetime 2 h while the site moves." },
  { code: "segment-duplicate", severity: "error", summary: "Two segments share an index (the same /64) or a name." },
  { code: "segment-interface-shared", severity: "warning", summary: "Two segments are on one router interface." },
  { code: "allowed-ips-covers-prefix", severity: "error", summary: "An AllowedIPs entry is as wide as the provider's connected prefix: the NIC route wins and return traffic is lost." },
  { code: "allowed-ips-missing-segment", severity: "error", summary: "A segment's /64 is not in the VPS's AllowedIPs: its return traffic never enters the tunnel." },
  { code: "allowed-ips-missing-transit", severity: "error", summary: "The router's transit address is not in the VPS's AllowedIPs." },
  { code: "allowed-ips-outside-prefix", severity: "error", summary: "An AllowedIPs entry lies outside the routed prefix: the VPS would accept sources from the router that are not the site's." },
  { code: "allowed-ips-invalid", severity: "error", summary: "An AllowedIPs entry is not an IPv6 prefix." },
  { code: "ula-outside-fd00", severity: "error", summary: "The ULA is not inside fd00::/8 (RFC 4193, locally assigned)." },
  { code: "ula-index-out-of-range", severity: "error", summary: "A segment's index does not fit the ULA prefix." },
  { code: "asn-not-private", severity: "warning", summary: "An ASN is outside the private ranges of RFC 6996." },
  { code: "asn-equal", severity: "error", summary: "Both ends have the same ASN; the session is eBGP and needs two." },
  { code: "router-id-collision", severity: "error", summary: "Both ends have the same BGP router ID." },
  { code: "vps-endpoint-ipv6-loop-clash", severity: "error", summary: "vps.endpoint is an IPv6 address: the router's ::/0 through the tunnel would carry the tunnel's own packets (a loop), and a native IPv6 default route (distance 1) beats the relay's (BGP, distance 20)." },
  { code: "mtu-above-underlay", severity: "error", summary: "The tunnel MTU is above what the underlay carries (1440 over IPv4, 1420 over IPv6, for a 1500 path)." },
  { code: "bfd-timers", severity: "info", summary: "Detection time and monthly traffic of the BFD timers." },
  { code: "bfd-idle-tx-equal", severity: "warning", summary: "failover.bfd.idleTxMs equals intervalMs: after an outage the VPS's BFD Up waits for its next packet, paced by the router's 1 s slow rate (~0.5 s more restore)." },
  { code: "static-failover-slow", severity: "info", summary: "Static failover detects a dead tunnel in 3-4 s (relay6's probe: a ping every second, 3 misses; the recipe's check-gateway=ping about 30 s); bgp-bfd in under a second." },
  { code: "keys-pending", severity: "warning", summary: "keys: device and a public key is not yet in the site file: render gives step 1 of the key exchange." },
  { code: "public-key-invalid", severity: "error", summary: "A public key in the site file is not a WireGuard key." },
  { code: "public-key-ignored", severity: "warning", summary: "A public key is set but keys: relay6 makes the keys; it is ignored." },
  { code: "router-version-ignored", severity: "warning", summary: "router.version is set for a non-RouterOS router; it is ignored." },
  { code: "inbound-host-outside-segment", severity: "error", summary: "An inbound service's host is not in its segment's /64." },
  { code: "vps-firewall-off", severity: "warning", summary: "firewall.vps is none: relay6 leaves the VPS firewall alone, nothing drops unsolicited inbound to the LAN." },
  { code: "mss-clamp-off", severity: "warning", summary: "TCP MSS clamping is off: bulk TCP stalls on paths that drop ICMPv6 packet-too-big." },
  { code: "site-prefix-length", severity: "error", summary: "A site of a relay has a prefix that is not a /56, /60 or /64 of the relay's prefix." },
  { code: "site-prefix-outside", severity: "error", summary: "A site's prefix lies outside the relay's prefix." },
  { code: "site-prefix-overlap", severity: "error", summary: "Two sites of a relay have overlapping prefixes (names both)." },
  { code: "site-prefix-transit", severity: "error", summary: "A site's prefix overlaps the relay's transit /64 (index 0 of the relay's prefix)." },
  { code: "site-name-duplicate", severity: "error", summary: "Two sites of a relay have the same name." },
  { code: "transit-pin-invalid", severity: "error", summary: "A site entry's transit pin is not an interface id of the transit /64, or a reserved one." },
  { code: "transit-collision", severity: "error", summary: "Two sites' routers get the same transit /128 (names both)." },
  { code: "router-key-duplicate", severity: "error", summary: "Two sites of a relay name the same router public key." },
  { code: "bfd-timers-differ", severity: "warning", summary: "The bgp-bfd sites of a relay ask for different BFD timers; bird on the VPS applies one set to wg0." },
  { code: "router-management-port", severity: "error", summary: "router.management.fromVps on a platform relay6 knows no management port for: router.management.port is needed." },
  { code: "transfer-quota", severity: "info", summary: "What the provider's transfer quota (vps.transfer) carries: the sites' failover traffic first, then the LAN traffic the rest carries." },
  { code: "transfer-quota-failover", severity: "warning", summary: "The sites' BFD and probe traffic alone takes 10 % or more of the provider's transfer quota." },
];

const SEVERITY = new Map(LINT_CODES.map((c) => [c.code, c.severity]));

export type Locate = (path: YamlPath) => { line: number; col: number };

export function finding(code: string, path: YamlPath, message: string, fix: string): Omit<Diagnostic, "file" | "line" | "col"> & { at: YamlPath } {
  const severity = SEVERITY.get(code);
  if (!severity) throw new Error(`internal: lint code ${code} is not in LINT_CODES`);
  return { code, severity, path: formatPath(path), message, fix, at: path };
}

export type Raw = ReturnType<typeof finding>;

export function located(raw: Raw[], file: string | undefined, locate: Locate | undefined): Diagnostic[] {
  return raw.map(({ at, ...d }) => ({ ...d, ...(file ? { file, ...(locate ? locate(at) : {}) } : {}) }));
}

/** Checks that need only a schema-valid site; errors here mean no plan can be built.
 *  `platform`: what the registry says about the site's router platform. */
export function checkSite(site: SiteFile, platform: Pick<RouterPlatform, "id" | "version" | "management">, file?: string, locate?: Locate): Diagnostic[] {
  const out: Raw[] = [];
  const p = checkRoutedPrefix(site.prefix, out, 64);
  if (!p) return located(out, file, locate);

  const ula = checkUla(site.ula, out);
  const slash64 = p.length === 64;
  checkSegments(site.segments, p, ula, site.ula, out, { transitIsIndex0: !slash64 });
  if (slash64 && site.vps.onLink === undefined)
    out.push(
      finding(
        "vps-onlink-required",
        ["vps", "onLink"],
        `${site.prefix} is a single /64: set vps.onLink to say whether the provider solicits its addresses on the VPS's link or routes it to the VPS`,
        "vps.onLink: true when the provider puts the /64 on the VPS's link (Vultr's reserved /64), false when it routes it to the VPS (Hetzner dedicated: routed via fe80::1); to find out, watch `tcpdump -ni <nic> icmp6` on the VPS while an outside host pings an unused address of the /64: neighbour solicitations for it mean true (README: single /64 providers)",
      ),
    );
  const transit = transitChoice(p, site.transit, ula);
  if (!transit.ok) out.push(finding("transit-invalid", ["transit"], transit.reason, slash64 ? 'write transit: link-local (the default), transit: ula (with `ula` set to a /48), or a ULA /64 no segment uses' : "remove transit: (index 0 of the prefix is the transit)"));
  else if (transit.kind === "ula") checkUlaTransit(transit.prefix, site.segments, ula, out);
  checkPrevious(site, p, out);
  checkOwnAddress(site.vps, p, routedSegmentPrefixes(site.segments, p), transit.ok ? [transit.prefix.network | 2n] : [], out);

  if (site.vps.allowedIps) checkAllowedIps(site, p, transit.ok ? transit : undefined, out);

  const fo = site.failover;
  if (fo.mode === "bgp-bfd") {
    checkPrivateAsn(fo.vpsAs, ["failover", "vpsAs"], out);
    checkPrivateAsn(fo.routerAs, ["failover", "routerAs"], out);
    if (fo.vpsAs === fo.routerAs)
      out.push(finding("asn-equal", ["failover", "routerAs"], `both ends use AS${fo.vpsAs}`, "give the router another private ASN (the recipe: VPS 65002, router 65001)"));
    if (ipv4ToNumber(fo.vpsRouterId) === ipv4ToNumber(fo.routerRouterId))
      out.push(finding("router-id-collision", ["failover", "routerRouterId"], `both ends use router ID ${fo.vpsRouterId}`, "give each end its own router ID (e.g. 10.0.0.1 and 10.0.0.2)"));
  }

  checkEndpoint(site.vps.endpoint, out);
  checkMtu(site.wireguard.mtu, site.vps, out);

  for (const end of ["vps", "router"] as const) checkPublicKey(site[end].publicKey, site.wireguard.keys, [end, "publicKey"], out);
  if (site.wireguard.keys === "device") {
    const missing = (["vps", "router"] as const).filter((e) => site[e].publicKey === undefined);
    if (missing.length > 0)
      out.push(finding("keys-pending", ["wireguard", "keys"], `no public key yet for ${missing.join(" and ")}: rendering step 1 (each device makes its key and prints the public half)`, `run the step-1 scripts, then put the printed keys in ${missing.map((e) => `${e}.publicKey`).join(" and ")} and render again`));
  }

  checkRouterVersion(site.router.version, platform, out);
  checkManagement(site.router.management, platform, out);
  checkVpsFirewall(site.firewall.vps, out);
  checkClampMss(site.firewall.clampMss, out);

  return located(out, file, locate);
}

/** The prefix routed to the VPS (a site's or a relay's); undefined when no plan can be
 *  built from it. */
/** The prefix the provider gives the VPS: /40 to /64 for a site, /40 to /63 for a relay
 *  (its sites need room beside the transit /64). */
export function checkRoutedPrefix(text: string, out: Raw[], longest: 63 | 64 = 63): Prefix6 | undefined {
  const parsed = parsePrefix6(text);
  if (!parsed.ok) return undefined; // the schema already refused it
  const p = parsed.prefix;
  if (p.length < 40 || p.length > longest) {
    out.push(
      finding(
        "prefix-length-unsupported",
        ["prefix"],
        `/${p.length} is outside /40../${longest}${longest === 63 && p.length === 64 ? ": a relay's sites are parts of its prefix beside the transit /64" : ""}`,
        longest === 64 ? "give the prefix exactly as the provider gives it, /40 to /64" : "a relay needs a /40../63; a single /64 is a site of its own (a site file with a vps block)",
      ),
    );
    return undefined;
  }
  const scope = prefixScope(p, parseAddress6(text.trim().split("/")[0]!));
  if (scope.scope === "special") {
    out.push(finding("prefix-not-global", ["prefix"], `${formatPrefix6(p)} is ${scope.what}, not a global unicast prefix (2000::/3)`, "give the global prefix the provider routes to the VPS (it starts with 2 or 3)"));
    return undefined;
  }
  if (scope.scope === "documentation")
    out.push(finding("prefix-documentation", ["prefix"], `${formatPrefix6(p)} is documentation space (${scope.range}): no provider routes it`, "fine for examples and the lab; for a real relay give the prefix the provider routes to the VPS"));
  checkHostBits(text, out);
  return p;
}

export function checkHostBits(text: string, out: Raw[]): void {
  const parsed = parsePrefix6(text);
  if (parsed.ok && parsed.hostBitsSet)
    out.push(finding("prefix-host-bits", ["prefix"], `${text} has host bits set; the network is ${formatPrefix6(parsed.prefix)}`, `write prefix: ${formatPrefix6(parsed.prefix)}`));
}

export function checkUla(text: string | undefined, out: Raw[]): Prefix6 | undefined {
  const ula = text ? parsePrefix6(text) : undefined;
  if (!ula?.ok) return undefined;
  if (!contains(ULA_RANGE, ula.prefix)) {
    out.push(finding("ula-outside-fd00", ["ula"], `${text} is not inside fd00::/8`, "use a random fdxx:xxxx:xxxx::/48 (relay6 init makes one)"));
    return undefined;
  }
  return ula.prefix;
}

/** A site's segments inside its prefix `p`. `transitIsIndex0`: a standalone site, whose
 *  index 0 is the tunnel's transit; under a relay every index is a segment. */
export function checkSegments(segments: SiteFile["segments"], p: Prefix6, ula: Prefix6 | undefined, ulaText: string | undefined, out: Raw[], opts: { transitIsIndex0: boolean }): void {
  const byIndex = new Map<bigint, number>();
  const byName = new Map<string, number>();
  const byInterface = new Map<string, number>();
  const first = opts.transitIsIndex0 ? 1n : 0n;
  segments.forEach((s, i) => {
    const at: YamlPath = ["segments", i];
    const idx = segmentIndex(s.index);
    const ulaOnly = s.global === false;
    // A ULA-only segment's index counts in the ULA only.
    const sp = ulaOnly ? (ula && s.ula ? subnet(ula, 64, idx) : undefined) : segmentPrefix(p, idx);
    if (ulaOnly) {
      if (!ula || !s.ula)
        out.push(finding("segment-ula-only-needs-ula", [...at, "global"], `segment "${s.name}" is ULA-only (global: false) but has no ULA /64${ula ? " (ula: false)" : ": the site has no ula"}`, ula ? "remove ula: false from the segment" : "set ula: to an RFC 4193 /48 (relay6 init makes one), or make the segment global"));
      else if (idx >= subnetCount(ula, 64))
        out.push(finding("ula-index-out-of-range", [...at, "index"], `segment "${s.name}": index ${fmtIndex(idx)} does not fit the ULA ${ulaText}`, "use an index that fits the ULA"));
      if (s.inbound.length > 0)
        out.push(finding("segment-ula-only-inbound", [...at, "inbound"], `segment "${s.name}" is ULA-only (global: false): internet hosts cannot reach it, so inbound services cannot be opened`, "remove inbound from this segment, or make it global"));
    } else if (idx === 0n && opts.transitIsIndex0) {
      out.push(finding("segment-index-transit", [...at, "index"], `segment "${s.name}" uses index 0, the tunnel's transit /64`, "give the segment an index from 1 up"));
    } else if (!sp) {
      const max = subnetCount(p, 64) - 1n;
      out.push(finding("segment-index-out-of-range", [...at, "index"], `segment "${s.name}": index ${fmtIndex(idx)} does not fit a /${p.length} (it holds /64s 0..0x${max.toString(16)})`, max === 0n ? "a /64 site has one segment, index 0" : `use an index from ${first} to 0x${max.toString(16)}`));
    }
    const dupIndex = byIndex.get(idx);
    if (dupIndex !== undefined)
      out.push(finding("segment-duplicate", [...at, "index"], `segment "${s.name}" has the same index (${fmtIndex(idx)}, the same /64) as segments[${dupIndex}]`, "give each segment its own index"));
    else byIndex.set(idx, i);
    const dupName = byName.get(s.name);
    if (dupName !== undefined)
      out.push(finding("segment-duplicate", [...at, "name"], `segment name "${s.name}" is also used by segments[${dupName}]`, "give each segment its own name"));
    else byName.set(s.name, i);
    const dupIf = byInterface.get(s.interface);
    if (dupIf !== undefined)
      out.push(finding("segment-interface-shared", [...at, "interface"], `segments[${dupIf}] is on interface ${s.interface} too`, "give each segment its own interface (bridge or VLAN) unless two /64s on one link is what you want"));
    else byInterface.set(s.interface, i);
    if (!ulaOnly && ula && s.ula && (idx !== 0n || !opts.transitIsIndex0) && idx >= subnetCount(ula, 64))
      out.push(finding("ula-index-out-of-range", [...at, "index"], `segment "${s.name}": index ${fmtIndex(idx)} does not fit the ULA ${ulaText}`, "use a /48 ULA, or set ula: false on this segment"));
    s.inbound.forEach((svc, j) => {
      const h = svc.host ? parseAddress6(svc.host) : undefined;
      if (sp && h !== undefined && !containsAddress(sp, h))
        out.push(finding("inbound-host-outside-segment", [...at, "inbound", j, "host"], `${svc.host} is not in segment "${s.name}" (${formatPrefix6(sp)})`, `use an address inside ${formatPrefix6(sp)}`));
    });
  });
}

export function checkPrivateAsn(as: number, path: YamlPath, out: Raw[]): void {
  if (!isPrivateAsn(as))
    out.push(finding("asn-not-private", path, `AS${as} is not a private ASN (RFC 6996: 64512-65534, 4200000000-4294967294)`, "use a private ASN unless this AS is really yours"));
}

/** The router reaches the VPS over the underlay, and the relay gives the router its IPv6
 *  default route. An IPv6 endpoint is both at once: the tunnel's own packets to it would
 *  follow ::/0 into the tunnel, and the router it runs on has native IPv6, whose default
 *  route wins over the relay's. True of every router platform, so it is checked here. */
export function checkEndpoint(endpoint: string, out: Raw[]): void {
  if (!isIPv6(endpoint)) return;
  out.push(
    finding(
      "vps-endpoint-ipv6-loop-clash",
      ["vps", "endpoint"],
      `${endpoint} is an IPv6 address: the relay gives the router ::/0 through the tunnel, so the tunnel's own packets to ${endpoint} would be routed into the tunnel (a loop); and a router with native IPv6 has its own default route (distance 1), which beats the relay's (BGP, distance 20), so the relay would carry nothing`,
      "use the VPS's IPv4 address (or a DNS name with only an A record): relay6 relays IPv6 to a home that has none; running beside native IPv6 (a routing table per site) is not built",
    ),
  );
}

export function checkMtu(mtu: number, vps: Pick<SiteFile["vps"], "endpoint" | "underlayMtu">, out: Raw[]): void {
  const family = underlayFamily({ vps });
  const maxMtu = vps.underlayMtu - (family === 4 ? 60 : 80);
  if (mtu > maxMtu)
    out.push(finding("mtu-above-underlay", ["wireguard", "mtu"], `MTU ${mtu} is above ${maxMtu}, the most an IPv${family} underlay of ${vps.underlayMtu} carries (WireGuard adds ${family === 4 ? 60 : 80} bytes)`, `set wireguard.mtu to ${maxMtu} or less`));
}

export function checkPublicKey(key: string | undefined, keys: "relay6" | "device", path: YamlPath, out: Raw[]): void {
  if (key === undefined) return;
  if (!isWireGuardKey(key))
    out.push(finding("public-key-invalid", path, "not a WireGuard public key (44 characters of base64)", `paste the output of \`wg pubkey\` (or the interface's public-key on RouterOS)`));
  else if (keys === "relay6")
    out.push(finding("public-key-ignored", path, "keys: relay6 makes this end's key; this public key is ignored", "remove it, or set wireguard.keys: device"));
}

export function checkRouterVersion(version: string | undefined, platform: Pick<RouterPlatform, "version">, out: Raw[]): void {
  // A router that needs router.version and has none: its target says so (routeros-version-missing).
  if (!platform.version && version)
    out.push(finding("router-version-ignored", ["router", "version"], "router.version only applies to RouterOS", "remove it"));
}

export function checkManagement(m: { fromVps: boolean; port?: number } | undefined, platform: Pick<RouterPlatform, "id" | "management">, out: Raw[]): void {
  if (m?.fromVps && m.port === undefined && !platform.management)
    out.push(finding("router-management-port", ["router", "management", "port"], `relay6 knows no management port for router.platform ${platform.id}`, "set router.management.port to the TCP port of the router's management service"));
}

export function checkVpsFirewall(firewall: "ufw" | "none", out: Raw[]): void {
  if (firewall === "none")
    out.push(finding("vps-firewall-off", ["firewall", "vps"], "relay6 will not touch the VPS firewall; unsolicited inbound to the LAN is only dropped if your own rules do it", "use firewall.vps: ufw, or make sure your rules forward only related/established traffic into wg0"));
}

export function checkClampMss(clamp: boolean, out: Raw[]): void {
  if (!clamp)
    out.push(finding("mss-clamp-off", ["firewall", "clampMss"], "TCP MSS is not clamped to the tunnel", "leave firewall.clampMss at true unless every path delivers ICMPv6 packet-too-big"));
}

function checkAllowedIps(site: SiteFile, p: Prefix6, transit: Extract<TransitChoice, { ok: true }> | undefined, out: Raw[]): void {
  const list = site.vps.allowedIps!;
  // The provider's connected route: the NIC address's own mask when given, else the
  // routed prefix itself (the recipe's provider: 2401:4520:110b::a/48 on enp3s0). A /64
  // site has none that competes: on-link, the VPS's own /64 is another one; routed, relay6
  // drops the connected /64 of the VPS's address in it.
  const up = site.vps.upstream?.address ? parsePrefix6(site.vps.upstream.address) : undefined;
  const connected: Prefix6 | undefined = p.length === 64 ? (up?.ok && !overlaps(up.prefix, p) ? up.prefix : undefined) : up?.ok ? up.prefix : p;
  const routerTransit = transit ? { network: transit.prefix.network | 2n, length: 128 } : undefined;
  const entries: { net: Prefix6; i: number }[] = [];
  list.forEach((text, i) => {
    const parsed = text.includes("/") ? parsePrefix6(text) : undefined;
    const addr = parsed ? undefined : parseAddress6(text);
    const net = parsed?.ok ? parsed.prefix : addr !== undefined ? { network: addr, length: 128 } : undefined;
    if (!net) {
      out.push(finding("allowed-ips-invalid", ["vps", "allowedIps", i], `"${text}" is not an IPv6 prefix`, "write prefixes such as 2001:db8:0:1::/64"));
      return;
    }
    if (routerTransit && net.length === 128 && net.network === routerTransit.network) entries.push({ net, i });
    else if (connected && overlaps(net, connected) && net.length <= connected.length)
      out.push(finding("allowed-ips-covers-prefix", ["vps", "allowedIps", i], `${text} is as wide as the connected ${formatPrefix6(connected)} on ${site.vps.nic}: that route wins on metric and return traffic to the LAN is solicited on the NIC and lost`, "list the router's transit /128 and one /64 per segment instead (remove vps.allowedIps to let relay6 compute them)"));
    else if (!overlaps(net, p))
      out.push(finding("allowed-ips-outside-prefix", ["vps", "allowedIps", i], `${text} is outside the routed prefix ${formatPrefix6(p)}: the VPS would take packets from the router with sources that are not the site's`, `remove it: the site's sources are inside ${formatPrefix6(p)}`));
    else entries.push({ net, i });
  });
  const covered = (inner: Prefix6) => entries.some((e) => contains(e.net, inner) && (!connected || !overlaps(e.net, connected) || e.net.length > connected.length));
  site.segments.forEach((s, i) => {
    if (s.global === false) return;
    const sp = segmentPrefix(p, segmentIndex(s.index));
    if (sp && !covered(sp))
      out.push(finding("allowed-ips-missing-segment", ["segments", i], `segment "${s.name}" (${formatPrefix6(sp)}) is not in vps.allowedIps: return traffic to its hosts leaves by the NIC`, `add ${formatPrefix6(sp)} to vps.allowedIps (or remove vps.allowedIps)`));
  });
  if (routerTransit && !covered(routerTransit))
    out.push(finding("allowed-ips-missing-transit", ["vps", "allowedIps"], `the router's transit address ${formatPrefix6(routerTransit).replace(/\/128$/, "")} is not in vps.allowedIps: BGP and pings to the router fail`, `add ${formatPrefix6(routerTransit)}`));
}

/** The /64s of a site's global segments that fit its prefix (what AllowedIPs and ndppd
 *  cover). */
export function routedSegmentPrefixes(segments: readonly Pick<SiteFile["segments"][number], "index" | "global">[], p: Prefix6): Prefix6[] {
  return segments.flatMap((s) => {
    if (s.global === false) return [];
    const sp = segmentPrefix(p, segmentIndex(s.index));
    return sp ? [sp] : [];
  });
}

/** A ULA transit /64 must be no segment's ULA /64. */
export function checkUlaTransit(transit: Prefix6, segments: SiteFile["segments"], ula: Prefix6 | undefined, out: Raw[]): void {
  if (!ula) return;
  segments.forEach((s, i) => {
    if (!s.ula) return;
    const u = subnet(ula, 64, segmentIndex(s.index));
    if (u && u.network === transit.network)
      out.push(finding("transit-overlaps-segment", ["segments", i, "index"], `segment "${s.name}"'s ULA /64 ${formatPrefix6(u)} is the transit /64`, "give the segment another index, or the transit another ULA /64"));
  });
}

/** The VPS's own address against what relay6 does with the prefix. `rules`: the /64s
 *  routed into wg0 (every site's), `routerTransits`: the routers' transit addresses. On
 *  an on-link prefix ndppd answers for every address of its rules; on a routed /64 the
 *  address's connected /64 competes with wg0's. */
export function checkOwnAddress(
  vps: { onLink?: boolean | undefined; nic: string; upstream?: { address?: string | undefined } | undefined },
  p: Prefix6,
  routed: readonly Prefix6[],
  routerTransits: readonly bigint[],
  out: Raw[],
): void {
  const at: YamlPath = ["vps", "upstream", "address"];
  const text = vps.upstream?.address;
  if (!text) {
    if (p.length === 64)
      out.push(finding("vps-address-unknown", ["vps", "upstream"], `vps.upstream.address is not given: relay6 cannot tell whether the VPS's own address lies in ${formatPrefix6(p)}${vps.onLink ? " (ndppd would answer for it too)" : " (its connected /64 would beat the /64 into wg0)"}`, "give the provider's address on the NIC with its mask, e.g. vps.upstream.address: \"2001:db8:77::a/64\""));
    return;
  }
  const x = parseAddress6(text.split("/")[0]!);
  if (x === undefined) return;
  const inside = routed.find((r) => containsAddress(r, x));
  if (vps.onLink) {
    const transit = routerTransits.find((t) => t === x && containsAddress(p, t));
    if (inside || transit !== undefined)
      out.push(finding("vps-address-proxied", at, `the VPS's own address ${text} lies in ${inside ? formatPrefix6(inside) : "a router's transit address"}, which ndppd answers for on ${vps.nic}: a static rule answers for every address in it, the VPS's own included, and the VPS's own traffic for the /64 would go into the tunnel`, "an on-link /64 provider gives the VPS its own /64 besides the one it relays (Vultr: the instance's /64 and the reserved /64): give that address here, and the relayed /64 as prefix"));
    return;
  }
  if (inside)
    out.push(finding("vps-address-moved", at, `the VPS's own address ${text} lies in ${formatPrefix6(inside)}, which is routed into wg0: relay6 drops its connected route on ${vps.nic} (noprefixroute), stops router advertisements from adding it back (accept_ra_pinfo = 0), and the router sends LAN hosts' packets for it into the tunnel`, "nothing to do; or ask the provider for a /64 of its own for the VPS"));
}

/** previousPrefix and segments[].previous: which old /64 each global segment had. */
export function checkPrevious(site: Pick<SiteFile, "segments" | "previousPrefix">, p: Prefix6, out: Raw[]): void {
  const prev = site.previousPrefix ? parsePrefix6(site.previousPrefix) : undefined;
  const globals = site.segments.map((s, i) => ({ s, i })).filter(({ s }) => s.global !== false);
  if (prev?.ok) {
    if (overlaps(prev.prefix, p))
      out.push(finding("previous-prefix-overlap", ["previousPrefix"], `previousPrefix ${site.previousPrefix} overlaps the prefix ${formatPrefix6(p)}`, "give the prefix the site is leaving"));
    else if (prev.prefix.length !== p.length) {
      const lacking = globals.filter(({ s }) => s.previous === undefined);
      if (prev.prefix.length === 64 && globals.length > 1 && lacking.length > 0)
        out.push(finding("previous-prefix-ambiguous", ["previousPrefix"], `previousPrefix is a single /64 and the site has ${globals.length} global segments (${globals.map(({ s }) => s.name).join(", ")}): which one had it is not known`, "remove previousPrefix and give segments[].previous on the segment that had the /64"));
      else if (prev.prefix.length !== 64 && lacking.length > 0)
        out.push(finding("previous-prefix-length", ["previousPrefix"], `previousPrefix is a /${prev.prefix.length} and the prefix a /${p.length}: the same index names another /64 in each, so segment${lacking.length > 1 ? "s" : ""} ${lacking.map(({ s }) => s.name).join(", ")} ha${lacking.length > 1 ? "ve" : "s"} no old /64`, "give segments[].previous (the old /64) on each global segment"));
    }
  }
  const seen = new Map<bigint, string>();
  site.segments.forEach((s, i) => {
    if (s.previous === undefined) return;
    const at: YamlPath = ["segments", i, "previous"];
    const sp = parsePrefix6(s.previous);
    if (!sp.ok) return;
    if (s.global === false) out.push(finding("previous-invalid", at, `segment "${s.name}" is ULA-only (global: false): it had no global /64 to leave`, "remove previous from this segment"));
    else if (sp.prefix.length !== 64) out.push(finding("previous-invalid", at, `${s.previous} is a /${sp.prefix.length}; a segment's previous is the one /64 it had`, "give the segment's old /64"));
    else if (overlaps(sp.prefix, p)) out.push(finding("previous-prefix-overlap", at, `${s.previous} lies in the current prefix ${formatPrefix6(p)}`, "give the /64 of the prefix being left"));
    else if (seen.has(sp.prefix.network)) out.push(finding("previous-invalid", at, `${s.previous} is also segment "${seen.get(sp.prefix.network)}"'s previous /64`, "give each segment its own old /64"));
    else seen.set(sp.prefix.network, s.name);
  });
}

/** Findings about a built plan: figures users should see. */
export function lintPlan(plan: Plan, file?: string, locate?: Locate): Diagnostic[] {
  const out: Raw[] = [];
  if (plan.failover.mode === "bgp-bfd") {
    const b = plan.failover.bfd;
    out.push(finding("bfd-timers", ["failover", "bfd"], `BFD ${b.intervalMs} ms × ${b.multiplier}: a dead tunnel is detected in ${b.detectMs} ms; BFD costs about ${formatBytes(b.bytesPerMonth)} a month on the underlay`, "raise failover.bfd.intervalMs to spend less traffic, lower it to detect faster"));
    // bird sends its Up at once only when going Up changes its transmit interval (a poll);
    // with both equal it waits for its next packet, which the router's slow rate (1 s while
    // not Up) paces: measured ~645 ms instead of ~130 ms restore after a 1 s outage.
    if (b.idleTxMs === b.intervalMs)
      out.push(finding("bfd-idle-tx-equal", ["failover", "bfd", "idleTxMs"], `idleTxMs = intervalMs = ${b.intervalMs} ms: after an outage the VPS's bird sends BFD Up only with its next packet, up to a second later, and the default route comes back that much later`, `set failover.bfd.idleTxMs below intervalMs (the default is 100 ms)`));
  } else {
    const p = plan.failover.probe;
    out.push(
      finding(
        "static-failover-slow",
        ["failover", "mode"],
        `the static default route is health-checked by a ping of the VPS every ${p.intervalMs / 1000} s: ${p.misses} misses in a row (${p.detectMs / 1000}-${(p.detectMs + p.intervalMs) / 1000} s) withdraw it; the probe costs about ${formatBytes(p.bytesPerMonth)} a month on the underlay`,
        "use failover.mode: bgp-bfd for sub-second failover",
      ),
    );
  }
  plan.segments.forEach((s, i) => {
    if (!s.previous) return;
    out.push(
      finding(
        "previous-prefix-deprecating",
        ["segments", i],
        `segment "${s.name}": the old ${s.previous} is advertised with preferred lifetime ${PREVIOUS_LIFETIMES.preferredS} and valid lifetime ${PREVIOUS_LIFETIMES.validS / 3600} h: clients stop opening connections from old addresses at once and drop them 2 h after the first such advertisement`,
        "keep previousPrefix until no client can still hold an old address as preferred: at least the old prefix's preferred lifetime (RouterOS's default: 1 week; a relay6 Linux router's radvd: 4 h), better its valid lifetime (RouterOS: 4 weeks; radvd: 1 day), then remove it",
      ),
    );
  });
  return located(out, file, locate);
}

export function isPrivateAsn(as: number): boolean {
  return (as >= 64512 && as <= 65534) || (as >= 4200000000 && as <= 4294967294);
}

function fmtIndex(i: bigint): string {
  return `0x${i.toString(16)}`;
}

