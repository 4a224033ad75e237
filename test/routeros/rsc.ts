// A reader for the RouterOS scripts relay6 writes: tokens with RouterOS's quoting rules,
// then statements (menu path, verb, arguments), including those nested in `:if` and
// `:foreach` blocks, `[...]` substitutions and `( ... )` expressions (with `$variables`,
// `:local`/`:global`/`:set`). It reads what relay6 emits and the tokenizer cases; anything
// else is an error, never silently skipped.
import { unquote } from "../../src/targets/routeros/quote.js";

export class RscError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${message} (line ${line} column ${col})`);
  }
}

type Tok =
  | { t: "word"; text: string; line: number; col: number }
  | { t: "str"; text: string; raw: string; line: number; col: number }
  | { t: "open" | "close"; ch: string; line: number; col: number }
  | { t: "end"; line: number; col: number };

export type Value =
  | { kind: "word"; text: string }
  | { kind: "str"; text: string; raw: string }
  | { kind: "sub"; stmts: Stmt[] }
  | { kind: "block"; stmts: Stmt[] }
  /** `( ... )`: an operator and its operands (`!` has one; `group` is a plain `(a)`). */
  | { kind: "expr"; op: string; args: Value[] };

export interface Cond {
  prop: string;
  /** `!~` is `!(prop~"re")`; `flag` is a bare property (`active`): true when it is set. */
  op: "=" | "~" | "!=" | "!~" | "flag";
  value: string;
}

export interface Command {
  kind: "cmd";
  /** Menu path without the verb: ["ipv6", "address"]; [] for global commands (:put). */
  menu: string[];
  verb: string;
  args: { name: string; value?: Value }[];
  /** `where` conditions of find/print. */
  where?: Cond[];
  line: number;
}

/** The condition of an `:if`: a comparison (`=`, `!=`, `>`, `<`, `~` regex match), or `!` of one. */
export type Expr = { kind: "cmp"; left: Value; op: "=" | "!=" | ">" | "<" | "~"; right: Value } | { kind: "not"; expr: Expr };

export interface IfStmt {
  kind: "if";
  /** The condition: the expression inside `( ... )`. */
  cond: Value;
  then: Stmt[];
  else: Stmt[];
  line: number;
}

export type Stmt = Command | IfStmt;

const SPECIAL = new Set([" ", "\t", "\r", "\n", '"', "[", "]", "{", "}", "(", ")", ";"]);

/** Per-character classes like RouterOS's highlighter, for the parts relay6 uses. */
export type CharClass = "comment" | "dir" | "cmd" | "none" | "arg" | "str";

export function tokenize(text: string): { toks: Tok[]; classes: CharClass[] } {
  const toks: Tok[] = [];
  const classes: CharClass[] = new Array(text.length).fill("none");
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let atStatementStart = true;
  const col = (at: number) => at - lineStart + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\" && text[i + 1] === "\n") {
      i += 2;
      line++;
      lineStart = i;
      continue;
    }
    if (c === "\n" || c === ";") {
      toks.push({ t: "end", line, col: col(i) });
      if (c === "\n") {
        line++;
        lineStart = i + 1;
      }
      i++;
      atStatementStart = true;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#" && atStatementStart) {
      while (i < text.length && text[i] !== "\n") classes[i++] = "comment";
      if (i < text.length) classes[i] = "comment";
      continue;
    }
    atStatementStart = false;
    if (c === '"') {
      const start = i;
      const l = line;
      const cl = col(i);
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++;
        if (text[i] === "\n") throw new RscError("newline inside a string", line, col(i));
        i++;
      }
      if (i >= text.length) throw new RscError("unterminated string", l, cl);
      const raw = text.slice(start + 1, i);
      let decoded: string;
      try {
        decoded = unquote(raw);
      } catch (e) {
        throw new RscError(`bad string: ${(e as Error).message}`, l, cl);
      }
      for (let k = start; k <= i; k++) classes[k] = "str";
      toks.push({ t: "str", text: decoded, raw, line: l, col: cl });
      i++;
      continue;
    }
    if ("[{(".includes(c)) {
      toks.push({ t: "open", ch: c, line, col: col(i) });
      i++;
      if (c === "{") atStatementStart = true;
      continue;
    }
    if ("]})".includes(c)) {
      toks.push({ t: "close", ch: c, line, col: col(i) });
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && !SPECIAL.has(text[i]!)) {
      if (text.charCodeAt(i) > 0x7e) throw new RscError("expected end of command", line, col(i));
      i++;
    }
    toks.push({ t: "word", text: text.slice(start, i), line, col: col(start) });
  }
  toks.push({ t: "end", line, col: col(i) });
  return { toks, classes };
}

class Parser {
  private p = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok {
    return this.toks[this.p]!;
  }
  private next(): Tok {
    return this.toks[this.p++]!;
  }
  private fail(msg: string, t: Tok = this.peek()): never {
    throw new RscError(msg, t.line, t.col);
  }
  private expect(t: "open" | "close", ch: string): void {
    const k = this.next();
    if (k.t !== t || k.ch !== ch) this.fail(`expected ${ch}`, k);
  }

  statements(closer?: string): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === "end") {
        this.p++;
        if (this.p >= this.toks.length) {
          if (closer) this.fail(`missing ${closer}`, t);
          return out;
        }
        continue;
      }
      if (t.t === "close") {
        if (t.ch !== closer) this.fail(`unexpected ${t.ch}`, t);
        return out;
      }
      out.push(this.statement(closer));
    }
  }

  private statement(closer?: string): Stmt {
    const first = this.next();
    if (first.t !== "word") this.fail("expected a command", first);
    if (first.text === ":if") return this.ifStatement(first);
    let menu: string[];
    let verb: string;
    if (first.text.startsWith(":")) {
      menu = [];
      verb = first.text.slice(1);
    } else if (first.text.startsWith("/")) {
      // "/ip/address/print" or "/ip address print": leading bare words are the path.
      const parts = first.text.split("/").filter((x) => x !== "");
      // Only the space form ("/ip address print") continues the path in further words.
      if (parts.length === 1)
      while (this.peek().t === "word" && !(this.peek() as { text: string }).text.includes("=") && (this.peek() as { text: string }).text !== "where")
        parts.push((this.next() as { text: string }).text);
      if (parts.length === 0) this.fail("empty menu path", first);
      verb = parts.pop()!;
      menu = parts;
    } else this.fail(`unknown command ${first.text}`, first);
    const cmd: Command = { kind: "cmd", menu, verb, args: [], line: first.line };
    // :local/:global/:set NAME [VALUE], :foreach COUNTER in=... do=...: the first word is a
    // variable's name, not an argument.
    if (menu.length === 0 && ["local", "global", "set", "foreach"].includes(verb)) {
      const n = this.next();
      if (n.t !== "word" || !/^[A-Za-z][A-Za-z0-9]*$/.test(n.text)) this.fail(`:${verb} needs a variable name`, n);
      cmd.args.push({ name: verb === "foreach" ? "counter" : "name", value: { kind: "word", text: n.text } });
      const v = this.peek();
      if (verb !== "foreach" && v.t !== "end" && !(v.t === "close" && (v.ch === closer || v.ch === "]")) && !(v.t === "word" && v.text.includes("=")))
        cmd.args.push({ name: "value", value: this.value() });
    }
    for (;;) {
      const t = this.peek();
      if (t.t === "end" || (t.t === "close" && t.ch === closer) || (t.t === "close" && t.ch === "]")) return cmd;
      if (t.t === "word" && t.text === "where") {
        this.p++;
        cmd.where = this.conditions();
        continue;
      }
      if (t.t === "word" && t.text.endsWith("=")) {
        this.p++;
        cmd.args.push({ name: t.text.slice(0, -1), value: this.value() });
        continue;
      }
      if (t.t === "word" && t.text.includes("=")) {
        this.p++;
        const at = t.text.indexOf("=");
        cmd.args.push({ name: t.text.slice(0, at), value: { kind: "word", text: t.text.slice(at + 1) } });
        continue;
      }
      if (t.t === "word" && t.text.startsWith("$")) {
        // a variable as a positional value (":len $r", "set $n ...")
        this.p++;
        cmd.args.push({ name: "", value: { kind: "word", text: t.text } });
        continue;
      }
      if (t.t === "word") {
        this.p++;
        cmd.args.push({ name: t.text });
        continue;
      }
      if (t.t === "str" || (t.t === "open" && (t.ch === "[" || t.ch === "("))) {
        // a positional value (":put \"x\"", ":len [...]", "get [find] name")
        cmd.args.push({ name: "", value: this.value() });
        continue;
      }
      this.fail("unexpected token in a command", t);
    }
  }

  private value(): Value {
    const t = this.next();
    if (t.t === "word") return { kind: "word", text: t.text };
    if (t.t === "str") return { kind: "str", text: t.text, raw: t.raw };
    if (t.t === "open" && t.ch === "[") {
      const stmts = this.statements("]");
      this.expect("close", "]");
      return { kind: "sub", stmts };
    }
    if (t.t === "open" && t.ch === "{") {
      const stmts = this.statements("}");
      this.expect("close", "}");
      return { kind: "block", stmts };
    }
    if (t.t === "open" && t.ch === "(") {
      const e = this.expr(0);
      this.expect("close", ")");
      return e.kind === "expr" ? e : { kind: "expr", op: "group", args: [e] };
    }
    this.fail("expected a value", t);
  }

  /** Operators inside ( ), loosest first. RouterOS's own precedence among the ones relay6
   *  writes; every compound relay6 writes is bracketed or unambiguous. */
  private static readonly LEVELS: readonly (readonly string[])[] = [
    ["or", "||"],
    ["and", "&&"],
    ["=", "!=", "<", ">", "<=", ">=", "~"],
    ["."],
    ["+", "-"],
  ];

  private expr(level: number): Value {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.expr(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.t !== "word" || !Parser.LEVELS[level]!.includes(t.text)) return left;
      this.p++;
      const right = this.expr(level + 1);
      left = { kind: "expr", op: t.text, args: [left, right] };
    }
  }

  private unary(): Value {
    const t = this.peek();
    if (t.t === "word" && t.text.startsWith("!") && t.text.length > 1) {
      // "!$up": the word after the "!"
      this.p++;
      return { kind: "expr", op: "!", args: [{ kind: "word", text: t.text.slice(1) }] };
    }
    if (t.t === "word" && t.text === "!") {
      this.p++;
      return { kind: "expr", op: "!", args: [this.unary()] };
    }
    if (t.t === "word" || t.t === "str" || t.t === "open") return this.value();
    this.fail("expected an operand", t);
  }

  private conditions(): Cond[] {
    const out: Cond[] = [];
    for (;;) {
      const t = this.next();
      if (t.t === "word" && t.text === "!" && this.peek().t === "open") {
        this.expect("open", "(");
        const inner = this.conditions();
        this.expect("close", ")");
        if (inner.length !== 1 || inner[0]!.op !== "~") this.fail("only !(prop~\"re\") is read", t);
        out.push({ ...inner[0]!, op: "!~" });
        if (this.peek().t === "word" && (this.peek() as { text: string }).text === "and") {
          this.p++;
          continue;
        }
        return out;
      }
      if (t.t !== "word") this.fail("expected a condition", t);
      const m = /^([a-z][a-z0-9.-]*)(=|~|!=)$/.exec(t.text);
      const bare = /^([a-z][a-z0-9.-]*)(=|!=)(.+)$/.exec(t.text);
      const flag = /^[a-z][a-z0-9.-]*$/.exec(t.text);
      if (m) {
        const v = this.next();
        if (v.t !== "str" && v.t !== "word") this.fail("expected a value in a condition", v);
        out.push({ prop: m[1]!, op: m[2] as Cond["op"], value: v.text });
      } else if (bare) out.push({ prop: bare[1]!, op: bare[2] as Cond["op"], value: bare[3]! });
      else if (flag && t.text !== "and") out.push({ prop: t.text, op: "flag", value: "" });
      else this.fail(`cannot read condition ${t.text}`, t);
      const n = this.peek();
      if (n.t === "word" && n.text === "and") {
        this.p++;
        continue;
      }
      return out;
    }
  }

  private ifStatement(first: Tok): IfStmt {
    const o = this.peek();
    if (o.t !== "open" || o.ch !== "(") this.fail("expected ( after :if", o);
    const cond = this.value();
    const d = this.next();
    if (d.t !== "word" || d.text !== "do=") this.fail("expected do=", d);
    const thenV = this.value();
    let elseStmts: Stmt[] = [];
    const e = this.peek();
    if (e.t === "word" && e.text === "else=") {
      this.p++;
      const v = this.value();
      if (v.kind !== "block") this.fail("else= needs a block");
      elseStmts = v.stmts;
    }
    if (thenV.kind !== "block") this.fail("do= needs a block");
    return { kind: "if", cond, then: thenV.stmts, else: elseStmts, line: first.line };
  }
}

/** Positional arguments of the verbs relay6 uses, by the names /console/inspect gives
 *  them: `get [find] public-key` is get number=[find] value-name=public-key. */
const POSITIONAL: Record<string, string[]> = {
  get: ["number", "value-name"],
  set: ["numbers"],
  unset: ["numbers"],
  remove: ["numbers"],
  run: ["number"],
  put: ["message"],
  error: ["message"],
  len: ["value"],
  typeof: ["value"],
  pick: ["counter", "begin", "end"],
};

/** The statements inside a value: a [...] or {...}, and those inside an expression's operands. */
function valueStmts(v: Value | undefined): Stmt[][] {
  if (!v) return [];
  if (v.kind === "sub" || v.kind === "block") return [v.stmts];
  if (v.kind === "expr") return v.args.flatMap(valueStmts);
  return [];
}

function namePositionals(stmts: Stmt[]): void {
  for (const s of stmts) {
    if (s.kind === "if") {
      for (const ss of valueStmts(s.cond)) namePositionals(ss);
      namePositionals(s.then);
      namePositionals(s.else);
      continue;
    }
    // `get version` of a menu without items (/system/resource): the one word is the value name.
    if (s.verb === "get" && s.args.length === 1 && s.args[0]!.value === undefined) {
      s.args[0] = { name: "value-name", value: { kind: "word", text: s.args[0]!.name } };
      continue;
    }
    const names = POSITIONAL[s.verb];
    let k = 0;
    for (const a of s.args) {
      for (const ss of valueStmts(a.value)) namePositionals(ss);
      if (!names) continue;
      if (a.name === "") a.name = names[k++] ?? "?";
      else if (a.value === undefined && (k > 0 || s.verb === "run")) {
        a.value = { kind: "word", text: a.name };
        a.name = names[k++] ?? "?";
      }
    }
  }
}

export function parse(text: string): Stmt[] {
  const stmts = new Parser(tokenize(text).toks).statements();
  namePositionals(stmts);
  return stmts;
}

/** Every command in the script, nested ones included (inside :if and [...]). */
export function allCommands(stmts: Stmt[]): Command[] {
  const out: Command[] = [];
  const visitValue = (v: Value | undefined) => {
    for (const ss of valueStmts(v)) walk(ss);
  };
  const walk = (ss: Stmt[]) => {
    for (const s of ss) {
      if (s.kind === "if") {
        out.push({ kind: "cmd", menu: [], verb: "if", args: [], line: s.line });
        visitValue(s.cond);
        walk(s.then);
        walk(s.else);
      } else {
        out.push(s);
        for (const a of s.args) visitValue(a.value);
      }
    }
  };
  walk(stmts);
  return out;
}

/** The highlighter classes of menu words and comments, as RouterOS's highlighter names them. */
export function highlight(text: string): CharClass[] {
  const { toks, classes } = tokenize(text);
  // Path words of a statement: "/ip" "address" are dir, the last bare word is cmd.
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.t === "word" && t.text.startsWith("/")) {
      const words = [t];
      let j = i + 1;
      while (toks[j]?.t === "word" && !(toks[j] as { text: string }).text.includes("=")) words.push(toks[j++] as typeof t);
      const lineStarts = [0];
      for (let k = 0; k < text.length; k++) if (text[k] === "\n") lineStarts.push(k + 1);
      words.forEach((w, idx) => {
        const off = lineStarts[w.line - 1]! + w.col - 1;
        for (let k = 0; k < w.text.length; k++) classes[off + k] = idx === words.length - 1 ? "cmd" : "dir";
      });
      i = j;
    } else i++;
  }
  return classes;
}
