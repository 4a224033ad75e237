// `ip -6 route` and `ip -6 addr` output (iproute2; the -o one-line forms too).
import { parseAddress6, parsePrefix6, type Prefix6 } from "../net/ipv6.js";

export interface Route6 {
  /** As printed: `default`, `2001:db8::/48`, `2001:db8::2`. */
  dst: string;
  prefix: Prefix6;
  type: string;
  dev?: string;
  via?: string;
  proto?: string;
  metric?: number;
  table?: string;
  line: number;
}

const ROUTE_TYPES = new Set(["unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast"]);

export function toPrefix(text: string): Prefix6 | undefined {
  if (text === "default") return { network: 0n, length: 0 };
  if (text.includes("/")) {
    const p = parsePrefix6(text);
    return p.ok ? p.prefix : undefined;
  }
  const a = parseAddress6(text);
  return a === undefined ? undefined : { network: a, length: 128 };
}

export function parseIpRoute(text: string): Route6[] {
  const out: Route6[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === "" || /^\s/.test(raw)) return; // nexthop continuation lines of multipath routes
    const w = raw.trim().split(/\s+/);
    let k = 0;
    let type = "unicast";
    if (ROUTE_TYPES.has(w[0]!)) type = w[k++]!;
    const dst = w[k++];
    if (!dst) return;
    const prefix = toPrefix(dst);
    if (!prefix) return;
    const r: Route6 = { dst, prefix, type, line: i + 1 };
    for (; k < w.length; k++) {
      const key = w[k]!;
      const v = w[k + 1];
      if (v === undefined) break;
      if (key === "dev") r.dev = v;
      else if (key === "via") r.via = v;
      else if (key === "proto") r.proto = v;
      else if (key === "metric") r.metric = Number(v);
      else if (key === "table") r.table = v;
      else continue;
      k++;
    }
    out.push(r);
  });
  return out;
}

export interface Addr6 {
  dev: string;
  /** As printed, with its length: `2401:4520:110b::a/48`. */
  cidr: string;
  address: bigint;
  prefix: Prefix6;
  scope?: string;
  line: number;
}

export function parseIpAddr(text: string): Addr6[] {
  const out: Addr6[] = [];
  let dev: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const head = /^\d+:\s+([^\s:@]+)(?:@[^\s:]+)?:?\s/.exec(raw);
    if (head) dev = head[1];
    const m = /\binet6\s+(\S+)/.exec(raw);
    if (!m || !dev) return;
    const cidr = m[1]!;
    const slash = cidr.indexOf("/");
    const address = parseAddress6(slash >= 0 ? cidr.slice(0, slash) : cidr);
    const p = parsePrefix6(slash >= 0 ? cidr : `${cidr}/128`);
    if (address === undefined || !p.ok) return;
    const scope = /\bscope\s+(\S+)/.exec(raw)?.[1];
    out.push({ dev, cidr, address, prefix: p.prefix, ...(scope ? { scope } : {}), line: i + 1 });
  });
  return out;
}
