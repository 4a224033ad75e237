// IPv6 prefix arithmetic on bigint. Every address relay6 writes into a config is computed
// here from the routed prefix; nothing is built by pasting strings together (the recipe's
// `<LAN_PREFIX>:1::/64` lands outside a /48 written as `2001:db8`).
import ipaddr from "ipaddr.js";

export const V6_BITS = 128n;

export interface Prefix6 {
  /** Network address (host bits zero). */
  readonly network: bigint;
  readonly length: number;
}

export function parseAddress6(text: string): bigint | undefined {
  if (!ipaddr.IPv6.isValid(text) || text.includes("%")) return undefined;
  const bytes = ipaddr.IPv6.parse(text).toByteArray();
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function formatAddress6(value: bigint): string {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  // RFC 5952 canonical form: lower case, longest zero run compressed.
  return ipaddr.fromByteArray(bytes).toString();
}

export type PrefixParse =
  | { ok: true; prefix: Prefix6; hostBitsSet: boolean }
  | { ok: false; reason: string };

export function parsePrefix6(text: string): PrefixParse {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return { ok: false, reason: "expected an IPv6 prefix such as 2001:db8::/48" };
  const addr = parseAddress6(m[1]!);
  if (addr === undefined) return { ok: false, reason: `"${m[1]}" is not an IPv6 address` };
  const length = Number(m[2]);
  if (length > 128) return { ok: false, reason: `prefix length /${length} is above /128` };
  const network = addr & mask(length);
  return { ok: true, prefix: { network, length }, hostBitsSet: network !== addr };
}

export function mask(length: number): bigint {
  const hostBits = V6_BITS - BigInt(length);
  return ((1n << V6_BITS) - 1n) ^ ((1n << hostBits) - 1n);
}

export function formatPrefix6(p: Prefix6): string {
  return `${formatAddress6(p.network)}/${p.length}`;
}

/** Number of /`sub` prefixes inside `p` (sub ≥ p.length). */
export function subnetCount(p: Prefix6, sub: number): bigint {
  return 1n << BigInt(sub - p.length);
}

/** The `index`-th /`sub` inside `p`, or undefined when the index does not fit. */
export function subnet(p: Prefix6, sub: number, index: bigint): Prefix6 | undefined {
  if (sub < p.length || index < 0n || index >= subnetCount(p, sub)) return undefined;
  return { network: p.network | (index << (V6_BITS - BigInt(sub))), length: sub };
}

/** Address `host` (counted from the network address) inside `p`. */
export function hostAddress(p: Prefix6, host: bigint): bigint {
  return p.network | host;
}

export function contains(outer: Prefix6, inner: Prefix6): boolean {
  return inner.length >= outer.length && (inner.network & mask(outer.length)) === outer.network;
}

export function overlaps(a: Prefix6, b: Prefix6): boolean {
  return contains(a, b) || contains(b, a);
}

export function containsAddress(p: Prefix6, addr: bigint): boolean {
  return (addr & mask(p.length)) === p.network;
}

export const ULA_RANGE: Prefix6 = { network: 0xfdn << 120n, length: 8 };
export const LINK_LOCAL: Prefix6 = { network: 0xfe80n << 112n, length: 10 };

export function isIPv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

export function isIPv6(text: string): boolean {
  return parseAddress6(text) !== undefined;
}

/** The IPv4 dotted quad as a number, for router-id comparisons. */
export function ipv4ToNumber(text: string): number {
  return ipaddr.IPv4.parse(text).octets.reduce((acc, o) => acc * 256 + o, 0);
}

export const GLOBAL_UNICAST: Prefix6 = { network: 0x2n << 124n, length: 3 };
/** Documentation space: RFC 3849 and RFC 9637. Never routed; fine for examples and the lab. */
export const DOCUMENTATION: readonly { prefix: Prefix6; text: string }[] = [
  { prefix: { network: 0x20010db8n << 96n, length: 32 }, text: "2001:db8::/32" },
  { prefix: { network: 0x3fffn << 112n, length: 20 }, text: "3fff::/20" },
];

/** What ipaddr.js calls a special-purpose range, as users read it. */
const SPECIAL: Record<string, string> = {
  linkLocal: "link-local (fe80::/10)",
  multicast: "multicast (ff00::/8)",
  uniqueLocal: "unique local, a ULA (fc00::/7)",
  ipv4Mapped: "IPv4-mapped (::ffff:0:0/96)",
  rfc6145: "IPv4-translated (RFC 6145)",
  rfc6052: "NAT64 (64:ff9b::/96, RFC 6052)",
  deprecatedSiteLocal: "site-local, deprecated (fec0::/10)",
  discard: "discard-only (100::/64)",
  "6to4": "6to4 (2002::/16)",
  teredo: "Teredo (2001::/32)",
  benchmarking: "benchmarking (2001:2::/48)",
  amt: "AMT (2001:3::/32)",
  as112v6: "AS112 (RFC 7534, RFC 7535)",
  deprecatedOrchid: "ORCHID, deprecated (2001:10::/28)",
  orchid2: "ORCHIDv2 (2001:20::/28)",
  droneRemoteIdProtocolEntityTags: "drone remote ID tags (2001:30::/28)",
  segmentRouting: "segment routing SIDs (5f00::/16)",
  reserved: "IETF protocol assignments (2001::/23)",
};

/** Whether a routed prefix can be what a provider routes to a VPS: global unicast
 *  (2000::/3, no special-purpose range), documentation space (examples and the lab), or a
 *  special-purpose prefix (link-local, multicast, a ULA, IPv4-mapped, 6to4...). `written`:
 *  the address as the user wrote it, before the mask (`::ffff:203.0.113.0/56` is IPv4-mapped
 *  even though its network is ::/56). */
export function prefixScope(p: Prefix6, written: bigint = p.network): { scope: "global" } | { scope: "documentation"; range: string } | { scope: "special"; what: string } {
  const doc = DOCUMENTATION.find((d) => contains(d.prefix, p));
  if (doc) return { scope: "documentation", range: doc.text };
  // A range ipaddr.js names; the single addresses (::, ::1) say nothing about a prefix.
  const named = [written, p.network]
    .map((a) => ipaddr.IPv6.parse(formatAddress6(a)).range())
    .find((r) => r !== "unicast" && r !== "unspecified" && r !== "loopback");
  if (named) return { scope: "special", what: SPECIAL[named] ?? named };
  if (!contains(GLOBAL_UNICAST, p)) return { scope: "special", what: "outside 2000::/3, the global unicast space" };
  return { scope: "global" };
}

/** Whether an address (text) is link-local (fe80::/10). */
export function isLinkLocal(text: string): boolean {
  const a = parseAddress6(text);
  return a !== undefined && containsAddress(LINK_LOCAL, a);
}

/** The address as ping and ssh take it: a link-local needs its interface (fe80::2%wg0). */
export function scoped(address: string, dev: string): string {
  return isLinkLocal(address) ? `${address}%${dev}` : address;
}

/** ping's source and destination toward the other end of a tunnel. A link-local or ULA
 *  peer (a /64 site's transit) is pinged from this end's own transit address
 *  (`-I fe80::2%wg0 fe80::1%wg0`): the kernel would pick another source (a tun device's
 *  random link-local; a LAN ULA, since the transit ULA is deprecated), which the VPS's
 *  WireGuard drops as outside its AllowedIPs. A global peer: just the peer. */
export function transitPing(own: string, peer: string, dev: string): string {
  const a = parseAddress6(peer);
  const ula = a !== undefined && containsAddress(ULA_RANGE, a);
  return isLinkLocal(peer) || ula ? `-I ${scoped(own, dev)} ${scoped(peer, dev)}` : peer;
}
