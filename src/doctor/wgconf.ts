// wg-quick's INI: [Interface] and [Peer] sections, `Key = value` lines, `#` comments, keys
// that repeat (Address, AllowedIPs, DNS, PostUp...) and comma lists. Secret values
// (PrivateKey, PresharedKey) are dropped here, at the first point doctor sees them: the
// parsed form only says they were present.

export interface WgEntry {
  key: string;
  /** The raw value; "(secret)" for PrivateKey and PresharedKey. */
  value: string;
  line: number;
}

export interface WgSection {
  name: string;
  line: number;
  entries: WgEntry[];
}

export interface WgListItem {
  value: string;
  line: number;
}

export interface WgConf {
  sections: WgSection[];
  /** Every [Interface] section merged (wg-quick treats a repeated header as more of it). */
  interfaceAddresses: WgListItem[];
  listenPort?: number;
  mtu?: number;
  table?: string;
  hasPrivateKey: boolean;
  peers: { line: number; publicKey?: string; allowedIps: WgListItem[]; endpoint?: string; comment?: string }[];
  /** Lines that are neither comments, sections nor `key = value`: line numbers only. */
  unparsed: number[];
}

const SECRET_KEYS = new Set(["privatekey", "presharedkey"]);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

export function parseWgConf(text: string): WgConf {
  const sections: WgSection[] = [];
  const unparsed: number[] = [];
  let current: WgSection | undefined;
  let pendingComment: string | undefined;
  const comments = new Map<WgSection, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf("#");
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (body === "") {
      if (hash >= 0 && current?.name.toLowerCase() === "peer" && !comments.has(current)) {
        pendingComment = raw.slice(hash + 1).trim();
        comments.set(current, pendingComment);
      }
      return;
    }
    const sec = /^\[([^\]]+)\]$/.exec(body);
    if (sec) {
      current = { name: sec[1]!.trim(), line, entries: [] };
      sections.push(current);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(body);
    if (!kv || !current) {
      unparsed.push(line);
      return;
    }
    const key = kv[1]!;
    current.entries.push({ key, value: isSecretKey(key) ? "(secret)" : kv[2]!.trim(), line });
  });

  const list = (s: WgSection, key: string): WgListItem[] =>
    s.entries
      .filter((e) => e.key.toLowerCase() === key)
      .flatMap((e) => e.value.split(",").map((v) => ({ value: v.trim(), line: e.line })))
      .filter((v) => v.value !== "");
  const one = (s: WgSection, key: string) => s.entries.filter((e) => e.key.toLowerCase() === key).at(-1)?.value;

  const ifaces = sections.filter((s) => s.name.toLowerCase() === "interface");
  const num = (key: string) => {
    const v = ifaces.map((s) => one(s, key)).filter((x) => x !== undefined).at(-1);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const table = ifaces.map((s) => one(s, "table")).filter((x) => x !== undefined).at(-1);
  return {
    sections,
    interfaceAddresses: ifaces.flatMap((s) => list(s, "address")),
    ...(num("listenport") !== undefined ? { listenPort: num("listenport")! } : {}),
    ...(num("mtu") !== undefined ? { mtu: num("mtu")! } : {}),
    ...(table !== undefined ? { table } : {}),
    hasPrivateKey: ifaces.some((s) => s.entries.some((e) => e.key.toLowerCase() === "privatekey")),
    peers: sections
      .filter((s) => s.name.toLowerCase() === "peer")
      .map((s) => {
        const publicKey = one(s, "publickey");
        const endpoint = one(s, "endpoint");
        const comment = comments.get(s);
        return {
          line: s.line,
          allowedIps: list(s, "allowedips"),
          ...(publicKey !== undefined ? { publicKey } : {}),
          ...(endpoint !== undefined ? { endpoint } : {}),
          ...(comment !== undefined ? { comment } : {}),
        };
      }),
    unparsed,
  };
}
