// ndppd.conf (0.2.x): `proxy <if> { rule <prefix> { static | iface <if> | auto } }`, with
// `#` comments and options (router, ttl, timeout, route-ttl) relay6 does not need. Read by
// verify (what the running ndppd answers for) and doctor (a hand-made setup's traps).
// A rule with no method is static (ndppd 0.2.5 warns and goes for static); `iface` wins
// over `auto`, as in ndppd's own configure().
import { contains, parsePrefix6, type Prefix6 } from "../net/ipv6.js";

export interface NdppdRule {
  prefix: string;
  /** Parsed; undefined when ndppd would refuse the address. */
  net?: Prefix6;
  method: "static" | "iface" | "auto";
  /** `iface <if>`: the interface the solicitation is forwarded to. */
  via?: string;
  line: number;
}

export interface NdppdProxy {
  iface: string;
  line: number;
  rules: NdppdRule[];
}

export interface NdppdConf {
  proxies: NdppdProxy[];
}

interface Node {
  key: string;
  value?: string;
  line: number;
  children: Node[];
}

type Token = { text: string; line: number };

function tokens(text: string): Token[] {
  const out: Token[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const body = raw.replace(/#.*/, "");
    for (const m of body.matchAll(/[{}]|[^\s{}]+/g)) out.push({ text: m[0], line: i + 1 });
  });
  return out;
}

/** The configuration as ndppd reads it, or why it would not start. */
export function parseNdppdConf(text: string): { ok: true; conf: NdppdConf } | { ok: false; reason: string; line: number } {
  const toks = tokens(text);
  let i = 0;
  const block = (depth: number): Node[] | { reason: string; line: number } => {
    const nodes: Node[] = [];
    while (i < toks.length) {
      const t = toks[i]!;
      if (t.text === "}") {
        if (depth === 0) return { reason: "a `}` closes nothing", line: t.line };
        i++;
        return nodes;
      }
      if (t.text === "{") return { reason: "a `{` without a section name", line: t.line };
      i++;
      const node: Node = { key: t.text, line: t.line, children: [] };
      const next = toks[i];
      if (next && next.line === t.line && next.text !== "{" && next.text !== "}") {
        node.value = next.text;
        i++;
      }
      if (toks[i]?.text === "{") {
        i++;
        const kids = block(depth + 1);
        if (!Array.isArray(kids)) return kids;
        node.children = kids;
      }
      nodes.push(node);
    }
    if (depth > 0) return { reason: "a `{` is never closed", line: toks[toks.length - 1]?.line ?? 1 };
    return nodes;
  };
  const top = block(0);
  if (!Array.isArray(top)) return { ok: false, ...top };
  const proxies: NdppdProxy[] = [];
  for (const p of top.filter((n) => n.key === "proxy")) {
    if (!p.value) return { ok: false, reason: "'proxy' section is missing interface name", line: p.line };
    const rules: NdppdRule[] = [];
    for (const r of p.children.filter((n) => n.key === "rule")) {
      if (!r.value) return { ok: false, reason: "'rule' is missing an IPv6 address/net", line: r.line };
      const iface = r.children.find((n) => n.key === "iface");
      const auto = r.children.some((n) => n.key === "auto");
      const parsed = parsePrefix6(r.value.includes("/") ? r.value : `${r.value}/128`);
      rules.push({
        prefix: r.value,
        ...(parsed.ok ? { net: parsed.prefix } : {}),
        method: iface ? "iface" : auto ? "auto" : "static",
        ...(iface?.value ? { via: iface.value } : {}),
        line: r.line,
      });
    }
    proxies.push({ iface: p.value, line: p.line, rules });
  }
  return { ok: true, conf: { proxies } };
}

/** The rule ndppd uses for `net` on `iface` (its first match), if any. */
export function ruleFor(conf: NdppdConf, iface: string, net: Prefix6): NdppdRule | undefined {
  for (const p of conf.proxies) {
    if (p.iface !== iface) continue;
    const r = p.rules.find((x) => x.net && contains(x.net, net));
    if (r) return r;
  }
  return undefined;
}
