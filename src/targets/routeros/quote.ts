// Values and strings as RouterOS's script reader takes them.
//
// Inside double quotes RouterOS substitutes `$name`, `$[command]` and `$(expr)`, and reads
// backslash escapes: \" \\ \$ \? \n \r \t, and `\XY` (two UPPER-case hex digits) for one
// byte. relay6 escapes `"`, `\`, `$` and `?` (the console treats a bare `?` as a help
// request), writes control characters as escapes, and writes every non-ASCII character as
// its UTF-8 bytes in `\XY` form: real RouterOS stops with "expected end of command" on
// non-ASCII outside a string (tokenizer-cases/unicode-heavy.rsc), so an all-ASCII script
// cannot trip over an encoding on the way to the router.

const NAMED: Record<string, string> = { '"': '\\"', "\\": "\\\\", $: "\\$", "?": "\\?", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const hex = (b: number) => `\\${b.toString(16).toUpperCase().padStart(2, "0")}`;

/** A RouterOS double-quoted string holding exactly `text`. */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const named = NAMED[ch];
    if (named !== undefined) out += named;
    else {
      const code = ch.codePointAt(0)!;
      if (code < 0x20 || code === 0x7f) out += hex(code);
      else if (code > 0x7e) for (const b of Buffer.from(ch, "utf8")) out += hex(b);
      else out += ch;
    }
  }
  return out + '"';
}

/** Characters a value may hold and still be written without quotes: what RouterOS's own
 *  export leaves bare (names, numbers, times, IPv6 addresses and prefixes, lists). */
const BARE_RE = /^[A-Za-z0-9_.:/%@,+-]+$/;

/** An argument value: bare when RouterOS reads it as one word anyway, quoted otherwise. */
export function value(text: string): string {
  return BARE_RE.test(text) ? text : quote(text);
}

/** The reverse of `quote`, for tests and for the verify step: the text RouterOS reads
 *  from a double-quoted string (without the surrounding quotes). Throws on `$`
 *  substitution, which would make the value depend on the router's variables. */
export function unquote(body: string): string {
  const bytes: number[] = [];
  const push = (s: string) => bytes.push(...Buffer.from(s, "utf8"));
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "$") throw new Error(`unescaped $ at ${i}: RouterOS would substitute a variable or command here`);
    if (c === '"') throw new Error(`unescaped " at ${i}: the string would end here`);
    if (c !== "\\") {
      push(c);
      continue;
    }
    const n = body[i + 1];
    const h = body.slice(i + 1, i + 3);
    if (/^[0-9A-F]{2}$/.test(h)) {
      bytes.push(parseInt(h, 16));
      i += 2;
      continue;
    }
    const simple: Record<string, string> = { '"': '"', "\\": "\\", $: "$", "?": "?", n: "\n", r: "\r", t: "\t", _: " ", a: "\x07", b: "\b", f: "\f", v: "\v" };
    if (n === undefined || simple[n] === undefined) throw new Error(`unknown escape \\${n ?? ""} at ${i}`);
    push(simple[n]);
    i += 1;
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The tag that marks an object as relay6's: `relay6:<site>:<key>;`. The `;` ends the key
 *  so that one key is never a prefix of another (lan vs lan2). Site and key hold only
 *  [A-Za-z0-9_.:-] (the site schema's NAME_RE plus relay6's own `:`). */
export function tag(site: string, key: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(site) || !/^[A-Za-z0-9_.:-]+$/.test(key))
    throw new Error(`internal: tag parts must be name characters (got ${JSON.stringify(site)}, ${JSON.stringify(key)})`);
  return `relay6:${site}:${key};`;
}

/** A POSIX regex (RouterOS `~`) matching comments that start with `prefix`. Only `.` of
 *  the tag alphabet is special in a regex; `[.]` matches it literally. */
export function prefixRegex(prefix: string): string {
  if (!/^[A-Za-z0-9_.:;-]+$/.test(prefix)) throw new Error(`internal: unexpected tag prefix ${JSON.stringify(prefix)}`);
  return "^" + prefix.replace(/\./g, "[.]");
}

/** A comment: the tag, then words for people, then the user's description if any. */
export function commentFor(site: string, key: string, what: string, description?: string): string {
  return `${tag(site, key)} ${what}${description ? ` - ${description}` : ""}`;
}

/** A regex matching the comments of exactly these tags of a site (and no other key). */
export function tagsRegex(site: string, keys: readonly string[]): string {
  keys.forEach((k) => tag(site, k)); // validates the parts
  const lit = (x: string) => x.replace(/\./g, "[.]");
  return `^relay6:${lit(site)}:(${keys.map(lit).join("|")});`;
}
