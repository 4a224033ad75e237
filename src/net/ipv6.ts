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
