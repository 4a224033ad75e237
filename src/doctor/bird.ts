// Enough of bird2's config language for doctor: statements ending in `;`, blocks in
// braces (nested), `#` and `/* */` comments, quoted strings. Each statement keeps its words
// and line; protocol blocks are found by their leading `protocol TYPE [NAME] [from TPL]`.

export interface BirdWord {
  text: string;
  quoted: boolean;
  line: number;
}

export interface BirdStmt {
  words: BirdWord[];
  line: number;
  /** The statements inside `{ ... }` when the statement has a block. */
  block?: BirdStmt[];
}

export class BirdParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

type Tok = { k: "word"; w: BirdWord } | { k: "punct"; ch: "{" | "}" | ";"; line: number };

function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const start = line;
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new BirdParseError("unterminated /* comment", start);
      for (let j = i; j < end; j++) if (text[j] === "\n") line++;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\" && j + 1 < text.length) j++;
        if (text[j] === "\n") line++;
        s += text[j];
        j++;
      }
      if (j >= text.length) throw new BirdParseError("unterminated string", start);
      toks.push({ k: "word", w: { text: s, quoted: true, line: start } });
      i = j + 1;
    } else if (c === "{" || c === "}" || c === ";") {
      toks.push({ k: "punct", ch: c, line });
      i++;
    } else if (c === ",") {
      toks.push({ k: "word", w: { text: ",", quoted: false, line } });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};,"#]/.test(text[j]!) && !(text[j] === "/" && text[j + 1] === "*")) j++;
      toks.push({ k: "word", w: { text: text.slice(i, j), quoted: false, line } });
      i = j;
    }
  }
  return toks;
}

export function parseBirdConf(text: string): BirdStmt[] {
  const toks = tokenize(text);
  let pos = 0;
  const parseList = (depth: number, openLine: number): BirdStmt[] => {
    const out: BirdStmt[] = [];
    let words: BirdWord[] = [];
    while (pos < toks.length) {
      const t = toks[pos++]!;
      if (t.k === "word") {
        words.push(t.w);
        continue;
      }
      if (t.ch === ";") {
        if (words.length > 0) out.push({ words, line: words[0]!.line });
        words = [];
      } else if (t.ch === "{") {
        const block = parseList(depth + 1, t.line);
        out.push({ words, line: words[0]?.line ?? t.line, block });
        words = [];
        if (toks[pos]?.k === "punct" && (toks[pos] as { ch: string }).ch === ";") pos++;
      } else {
        if (depth === 0) throw new BirdParseError("`}` without a matching `{`", t.line);
        if (words.length > 0) out.push({ words, line: words[0]!.line });
        return out;
      }
    }
    if (depth > 0) throw new BirdParseError("`{` is never closed", openLine);
    if (words.length > 0) throw new BirdParseError("statement without a closing `;`", words[0]!.line);
    return out;
  };
  return parseList(0, 1);
}

const textOf = (s: BirdStmt) => s.words.map((w) => w.text);

export interface BirdBgp {
  name: string;
  line: number;
  localAddress?: string;
  localAs?: number;
  neighbor?: string;
  neighborAs?: number;
  /** `bfd on`/`yes`/`true` or a `bfd { }` block; undefined when not said (bird: off). */
  bfd?: { on: boolean; line: number };
  errorWait?: { min: number; max: number; line: number };
  errorForget?: { value: number; line: number };
  connectDelay?: { value: number; line: number };
  connectRetry?: { value: number; line: number };
  interface?: string;
  nextHopSelf?: { line: number };
  channels: string[];
}

export interface BirdBfd {
  name?: string;
  line: number;
  interfaces: { pattern: string; line: number; minRxMs?: number; minTxMs?: number; idleTxMs?: number; multiplier?: number }[];
  neighbors: { address: string; dev?: string; line: number }[];
}

export interface BirdConf {
  routerId?: string;
  protocols: { type: string; name?: string; line: number; body: BirdStmt[] }[];
  bgp: BirdBgp[];
  bfd: BirdBfd[];
}

function timeMs(words: string[]): number | undefined {
  // `200 ms`, `1 s`, `100ms`, bare numbers are seconds in bird except where the option
  // says otherwise (the BFD intervals take a unit; bird reads a bare number as µs there).
  const joined = words.join(" ").trim();
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s)?$/.exec(joined);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return unit === "ms" ? n : unit === "s" ? n * 1000 : n / 1000;
}

const bool = (w: string | undefined) => (w === undefined || ["on", "yes", "true"].includes(w) ? true : ["off", "no", "false"].includes(w) ? false : undefined);

export function readBirdConf(stmts: BirdStmt[]): BirdConf {
  const templates = new Map<string, BirdStmt[]>();
  const protocols: BirdConf["protocols"] = [];
  let routerId: string | undefined;
  for (const s of stmts) {
    const w = textOf(s);
    if (w[0] === "router" && w[1] === "id" && w[2]) routerId = w[2];
    if ((w[0] === "protocol" || w[0] === "template") && s.block) {
      const type = w[1] ?? "";
      let name: string | undefined = w[2] && w[2] !== "from" ? w[2] : undefined;
      const fromAt = w.indexOf("from");
      const inherited = fromAt >= 0 && w[fromAt + 1] ? templates.get(w[fromAt + 1]!) ?? [] : [];
      const body = [...inherited, ...s.block];
      if (w[0] === "template") {
        if (name) templates.set(name, body);
        continue;
      }
      protocols.push({ type, ...(name ? { name } : {}), line: s.line, body });
      name = undefined;
    }
  }
  const bgp = protocols.filter((p) => p.type === "bgp").map((p) => readBgp(p.name ?? "(unnamed)", p.line, p.body));
  const bfd = protocols.filter((p) => p.type === "bfd").map((p) => readBfd(p.name, p.line, p.body));
  return { ...(routerId ? { routerId } : {}), protocols, bgp, bfd };
}

function readBgp(name: string, line: number, body: BirdStmt[]): BirdBgp {
  const b: BirdBgp = { name, line, channels: [] };
  const nums = (ws: string[]) => ws.filter((x) => x !== ",").map(Number);
  for (const s of body) {
    const w = textOf(s);
    if (w[0] === "local") {
      const asAt = w.indexOf("as");
      if (asAt > 1) b.localAddress = w[1];
      if (asAt >= 0 && w[asAt + 1]) b.localAs = Number(w[asAt + 1]);
    } else if (w[0] === "neighbor") {
      const asAt = w.indexOf("as");
      if (w[1] && w[1] !== "as" && w[1] !== "range") b.neighbor = w[1];
      if (asAt >= 0 && w[asAt + 1]) b.neighborAs = Number(w[asAt + 1]);
    } else if (w[0] === "bfd") {
      const on = s.block ? true : bool(w[1] === "graceful" ? "on" : w[1]);
      if (on !== undefined) b.bfd = { on, line: s.line };
    } else if (w[0] === "error" && w[1] === "wait" && w[2] === "time") {
      const [min, max] = nums(w.slice(3));
      if (min !== undefined && max !== undefined) b.errorWait = { min, max, line: s.line };
    } else if (w[0] === "error" && w[1] === "forget" && w[2] === "time" && w[3]) {
      b.errorForget = { value: Number(w[3]), line: s.line };
    } else if (w[0] === "connect" && w[1] === "delay" && w[2] === "time" && w[3]) {
      b.connectDelay = { value: Number(w[3]), line: s.line };
    } else if (w[0] === "connect" && w[1] === "retry" && w[2] === "time" && w[3]) {
      b.connectRetry = { value: Number(w[3]), line: s.line };
    } else if (w[0] === "interface" && w[1]) {
      b.interface = w[1];
    } else if (s.block && (w[0] === "ipv6" || w[0] === "ipv4")) {
      b.channels.push(w.join(" "));
      for (const c of s.block) {
        const cw = textOf(c);
        if (cw[0] === "next" && cw[1] === "hop" && cw[2] === "self" && bool(cw[3]) !== false) b.nextHopSelf = { line: c.line };
      }
    }
  }
  return b;
}

function readBfd(name: string | undefined, line: number, body: BirdStmt[]): BirdBfd {
  const out: BirdBfd = { ...(name ? { name } : {}), line, interfaces: [], neighbors: [] };
  for (const s of body) {
    const w = textOf(s);
    if (w[0] === "interface") {
      const iface: BirdBfd["interfaces"][number] = { pattern: w.slice(1).filter((x) => x !== ",").join(" "), line: s.line };
      for (const o of s.block ?? []) {
        const ow = textOf(o);
        const key = ow.slice(0, 3).join(" ");
        if (key === "min rx interval") iface.minRxMs = timeMs(ow.slice(3));
        else if (key === "min tx interval") iface.minTxMs = timeMs(ow.slice(3));
        else if (key === "idle tx interval") iface.idleTxMs = timeMs(ow.slice(3));
        else if (ow[0] === "interval") iface.minRxMs = iface.minTxMs = timeMs(ow.slice(1));
        else if (ow[0] === "multiplier" && ow[1]) iface.multiplier = Number(ow[1]);
      }
      out.interfaces.push(iface);
    } else if (w[0] === "neighbor" && w[1]) {
      const devAt = w.indexOf("dev");
      out.neighbors.push({ address: w[1], ...(devAt > 0 && w[devAt + 1] ? { dev: w[devAt + 1] } : {}), line: s.line });
    }
  }
  return out;
}
