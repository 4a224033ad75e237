// `ufw status verbose` (and plain `ufw status`, `ufw status numbered`): the state, the
// default policies and the rules table (To / Action / From; `on IFACE` after an address
// names the interface; `(v6)` marks rules made for both families' IPv6 half).

export interface UfwEnd {
  /** `Anywhere`, an address or prefix, with `(v6)` and `on IFACE` taken off. */
  address: string;
  port?: string;
  proto?: string;
  iface?: string;
}

export interface UfwStatusRule {
  to: UfwEnd;
  from: UfwEnd;
  /** ALLOW, DENY, REJECT, LIMIT. */
  action: string;
  /** IN, OUT, FWD; undefined in plain `ufw status` (which means IN). */
  direction?: string;
  v6: boolean;
  comment?: string;
  line: number;
}

export interface UfwStatus {
  active: boolean;
  statusLine?: number;
  defaults?: { incoming?: string; outgoing?: string; routed?: string; line: number };
  rules: UfwStatusRule[];
}

function end(text: string): UfwEnd {
  let t = text.trim();
  let iface: string | undefined;
  const on = / on (\S+)$/.exec(t);
  if (on) {
    iface = on[1];
    t = t.slice(0, on.index).trim();
  }
  t = t.replace(/\s*\(v6\)/, "").trim();
  // `179/tcp`, `2001:db8::2 179/tcp`, `Anywhere`, `2001:db8::/64`, `OpenSSH`
  const parts = t.split(/\s+/);
  let address = "Anywhere";
  let port: string | undefined;
  let proto: string | undefined;
  for (const p of parts) {
    const pp = /^(\d+(?::\d+)?(?:,\d+(?::\d+)?)*)(?:\/(tcp|udp|ipv6|esp|ah|gre))?$/.exec(p);
    if (pp) {
      port = pp[1];
      proto = pp[2];
    } else if (/^(tcp|udp)$/.test(p)) proto = p;
    else address = p;
  }
  return { address, ...(port ? { port } : {}), ...(proto ? { proto } : {}), ...(iface ? { iface } : {}) };
}

export function parseUfwStatus(text: string): UfwStatus {
  const st: UfwStatus = { active: false, rules: [] };
  let inTable = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    const status = /^Status:\s*(\S+)/.exec(s);
    if (status) {
      st.active = status[1] === "active";
      st.statusLine = line;
      return;
    }
    const def = /^Default:\s*(.*)$/.exec(s);
    if (def) {
      const d: NonNullable<UfwStatus["defaults"]> = { line };
      for (const m of def[1]!.matchAll(/(\w+) \((incoming|outgoing|routed)\)/g)) d[m[2] as "incoming" | "outgoing" | "routed"] = m[1]!;
      st.defaults = d;
      return;
    }
    if (/^To\s+Action\s+From$/.test(s)) {
      inTable = true;
      return;
    }
    if (!inTable || s === "" || /^-+\s+-+\s+-+$/.test(s)) return;
    const body = s.replace(/^\[\s*\d+\]\s*/, "");
    const hash = body.indexOf(" # ");
    const main = hash >= 0 ? body.slice(0, hash) : body;
    const comment = hash >= 0 ? body.slice(hash + 3).trim() : undefined;
    // ufw pads To to 26 columns and Action to 12: a longer To is followed by one space only.
    const cols = /^(.*?)\s+(ALLOW|DENY|REJECT|LIMIT)(?: (IN|OUT|FWD))?\s+(.*)$/.exec(main.trimEnd());
    if (!cols) return;
    st.rules.push({
      to: end(cols[1]!),
      action: cols[2]!,
      ...(cols[3] ? { direction: cols[3] } : {}),
      from: end(cols[4]!),
      v6: /\(v6\)/.test(main),
      ...(comment ? { comment } : {}),
      line,
    });
  });
  return st;
}

/** Does the port spec (`179`, `170:180`, `22,179`) include `port`? */
export function portIncludes(spec: string | undefined, port: number): boolean {
  if (spec === undefined) return true;
  return spec.split(",").some((p) => {
    const [a, b] = p.split(":").map(Number);
    return b === undefined ? a === port : a! <= port && port <= b;
  });
}
