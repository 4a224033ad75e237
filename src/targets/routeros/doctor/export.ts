// RouterOS `/export` (terse and not) and hand-written scripts in the same language:
// `\`-newline continuations, menu headers (`/ipv6 address`) followed by `add ...` lines,
// one-line commands (`/ipv6/address/add ...`, `/ipv6 address add ...`), quoted values with
// escapes, `[find ...]` substitutions, and the `# ... by RouterOS 7.18.2` header.
import { unquote } from "../quote.js";

export interface RosArg {
  value: string;
  line: number;
}

export interface RosCommand {
  /** Slash form: `/ipv6/address`. */
  menu: string;
  verb: string;
  args: Map<string, RosArg>;
  /** Values without a name: `[ find default-name=ether1 ]`, `0`. */
  positional: string[];
  line: number;
}

export interface RosScript {
  /** From the export header, e.g. "7.18.2". */
  version?: string;
  versionLine?: number;
  /** True when the text carries RouterOS's export header; false for a hand-written script. */
  isExport: boolean;
  commands: RosCommand[];
}

const VERBS = new Set(["add", "set", "remove", "disable", "enable", "unset", "move", "print", "export", "comment", "edit", "reset"]);

interface Logical {
  text: string;
  /** Physical line of each character of text. */
  lines: number[];
}

function logicalLines(text: string): Logical[] {
  const phys = text.split(/\r?\n/);
  const out: Logical[] = [];
  let cur: Logical | undefined;
  phys.forEach((raw, i) => {
    const line = i + 1;
    const piece = cur ? raw.trimStart() : raw;
    const cont = /\\$/.test(piece) && !/\\\\$/.test(piece);
    const body = cont ? piece.slice(0, -1) : piece;
    if (!cur) cur = { text: "", lines: [] };
    cur.text += body;
    for (let k = 0; k < body.length; k++) cur.lines.push(line);
    if (!cont) {
      out.push(cur);
      cur = undefined;
    }
  });
  if (cur) out.push(cur);
  return out;
}

interface Tok {
  raw: string;
  line: number;
}

function tokens(l: Logical): Tok[] {
  const out: Tok[] = [];
  const s = l.text;
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i]!)) {
      i++;
      continue;
    }
    const start = i;
    let depth = 0;
    while (i < s.length && (depth > 0 || !/\s/.test(s[i]!))) {
      const c = s[i]!;
      if (c === '"') {
        i++;
        while (i < s.length && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
        i++;
        continue;
      }
      if (c === "[" || c === "{") depth++;
      else if ((c === "]" || c === "}") && depth > 0) depth--;
      i++;
    }
    out.push({ raw: s.slice(start, i), line: l.lines[start] ?? 0 });
  }
  return out;
}

export function rosValue(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      return unquote(raw.slice(1, -1));
    } catch {
      return raw.slice(1, -1);
    }
  }
  return raw;
}

const isArg = (raw: string) => /^[A-Za-z0-9][A-Za-z0-9.-]*=/.test(raw);

export function parseRouterOS(text: string): RosScript {
  const script: RosScript = { isExport: false, commands: [] };
  let menu = "/";
  for (const l of logicalLines(text)) {
    const trimmed = l.text.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("#")) {
      const v = /\bby RouterOS (\d+\.\d+(?:\.\d+)?)/.exec(trimmed);
      if (v && script.version === undefined) {
        script.version = v[1]!;
        script.versionLine = l.lines[0] ?? 1;
        script.isExport = true;
      }
      continue;
    }
    if (trimmed.startsWith(":")) continue; // scripting (:delay, :if, :put): not configuration
    const toks = tokens(l);
    let k = 0;
    let path: string[] = [];
    if (toks[0]!.raw.startsWith("/")) {
      path = toks[0]!.raw.split("/").filter((x) => x !== "");
      k = 1;
      while (k < toks.length && !isArg(toks[k]!.raw) && /^[a-z][a-z0-9-]*$/.test(toks[k]!.raw) && !VERBS.has(path.at(-1)!)) {
        path.push(toks[k]!.raw);
        k++;
      }
      const verb = path.at(-1);
      if (verb === undefined || !VERBS.has(verb)) {
        menu = "/" + path.join("/");
        if (k >= toks.length) continue; // a menu header
        // `/ip settings set`-like lines without a known verb: keep what we can
        script.commands.push(command(menu, "", toks.slice(k), toks[0]!.line));
        continue;
      }
      path.pop();
      const m = path.length ? "/" + path.join("/") : menu;
      script.commands.push(command(m, verb, toks.slice(k), toks[0]!.line));
      continue;
    }
    const verb = toks[0]!.raw;
    script.commands.push(command(menu, verb, toks.slice(1), toks[0]!.line));
  }
  applyRemoves(script);
  return script;
}

function command(menu: string, verb: string, rest: Tok[], line: number): RosCommand {
  const args = new Map<string, RosArg>();
  const positional: string[] = [];
  let group = "";
  for (const t of rest) {
    const eq = t.raw.indexOf("=");
    if (isArg(t.raw)) {
      const key = t.raw.slice(0, eq);
      args.set(key, { value: rosValue(t.raw.slice(eq + 1)), line: t.line });
      group = key.includes(".") ? key.slice(0, key.indexOf(".")) : "";
    } else if (group && /^\.[A-Za-z0-9][A-Za-z0-9.-]*=/.test(t.raw)) {
      // An export writes `remote.address=X .as=Y`: `.as` continues the `remote.` group.
      args.set(group + t.raw.slice(0, eq), { value: rosValue(t.raw.slice(eq + 1)), line: t.line });
    } else positional.push(t.raw);
  }
  return { menu, verb, args, positional, line };
}

/** `remove [find comment="x"]` (with or without `where`) in a script removes the earlier
 *  `add` with that comment in the same menu, as the recipe's section 4b does to the static
 *  route. Other removes are kept as commands but change nothing. */
function applyRemoves(script: RosScript): void {
  const keep: RosCommand[] = [];
  for (const c of script.commands) {
    if (c.verb === "remove") {
      const m = c.positional.map((p) => /comment\s*=\s*("(?:[^"\\]|\\.)*"|[^\s\]]+)/.exec(p)).find((x) => x);
      if (m) {
        const comment = rosValue(m[1]!);
        for (let i = keep.length - 1; i >= 0; i--)
          if (keep[i]!.menu === c.menu && keep[i]!.verb === "add" && keep[i]!.args.get("comment")?.value === comment) keep.splice(i, 1);
        continue;
      }
    }
    keep.push(c);
  }
  script.commands = keep;
}

export function adds(script: RosScript, menu: string): RosCommand[] {
  return script.commands.filter((c) => c.menu === menu && c.verb === "add");
}

/** RouterOS booleans: yes/no, true/false. */
export function rosBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  return undefined;
}
