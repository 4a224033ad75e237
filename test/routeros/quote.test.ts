// Quoting: what relay6 writes inside "..." must read back, in RouterOS's rules, as
// exactly the text it meant, with no `$` left for RouterOS to substitute.
import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quote, unquote, value, prefixRegex, tag } from "../../src/targets/routeros/quote.js";
import { allCommands, highlight, parse, RscError } from "./rsc.js";
import { sharedRouterOS } from "./tree.js";

const cases = path.join(sharedRouterOS, "tokenizer-cases");
const inner = (q: string) => q.slice(1, -1);

const HOSTILE = [
  'say "hi"',
  "$[/system/reboot]",
  "$(1+1)",
  "$x and $y",
  "a;b; /system/reset-configuration",
  "line1\nline2\r\n/system/reboot",
  "tab\there",
  "back\\slash\\",
  "brackets [x] {y} (z)",
  "question?",
  "ünïcödé 日本 🎉",
  '"; /system/reboot; :put "',
  "\\\"$",
];

describe("quote", () => {
  it.each(HOSTILE)("round-trips %j and leaves nothing for RouterOS to substitute", (s) => {
    const q = quote(s);
    expect(unquote(inner(q))).toBe(s);
    // No raw $, no raw newline, no raw quote inside: the string cannot end or expand early.
    expect(inner(q)).not.toMatch(/(^|[^\\])(\\\\)*\$/);
    expect(inner(q)).not.toMatch(/[\n\r]/);
    expect(inner(q)).not.toMatch(/(^|[^\\])(\\\\)*"/);
    expect(q).toMatch(/^[\x20-\x7e]*$/);
  });

  it("round-trips any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const q = quote(s);
        expect(q).toMatch(/^[\x20-\x7e]*$/);
        expect(unquote(inner(q))).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it("escapes newlines as \\n, $ as \\$ and non-ASCII as UTF-8 \\XY bytes", () => {
    expect(quote("a\nb")).toBe('"a\\nb"');
    expect(quote("$[x]")).toBe('"\\$[x]"');
    expect(quote("é")).toBe('"\\C3\\A9"');
  });

  it("reads RouterOS's own UTF-8 escapes the way the tokenizer case writes them", () => {
    // tokenizer-cases/unicode-heavy.rsc: :put "\E2\9A\99\EF\B8\8F" is the gear emoji.
    const text = readFileSync(path.join(cases, "unicode-heavy.rsc"), "utf8");
    const m = /:put "(\\E2\\9A\\99\\EF\\B8\\8F)"/.exec(text);
    expect(m).not.toBeNull();
    expect(unquote(m![1]!)).toBe("\u2699\ufe0f");
  });

  it("refuses an unescaped $ when reading back", () => {
    expect(() => unquote("cost $x")).toThrow(/substitute/);
  });

  it("leaves plain values bare and quotes the rest", () => {
    expect(value("2001:db8::1/64")).toBe("2001:db8::1/64");
    expect(value("established,related")).toBe("established,related");
    expect(value("two words")).toBe('"two words"');
    expect(value("a;b")).toBe('"a;b"');
    expect(value("$x")).toBe('"\\$x"');
  });

  it("tags and their regexes match only their own site and key", () => {
    const re = new RegExp(prefixRegex(tag("my.site", "addr:lan")));
    expect(re.test("relay6:my.site:addr:lan; segment lan")).toBe(true);
    expect(re.test("relay6:myXsite:addr:lan; segment lan")).toBe(false);
    expect(re.test("relay6:my.site:addr:lan2; segment lan2")).toBe(false);
    expect(() => tag('x"y', "k")).toThrow();
  });
});

describe("hostile text inside generated commands", () => {
  it.each(HOSTILE)("stays one argument of one command: %j", (s) => {
    const script = `/ipv6/address/add address=2001:db8::1/64 interface=bridge comment=${quote(s)}`;
    const cmds = allCommands(parse(script));
    expect(cmds).toHaveLength(1);
    expect(cmds[0]!.args.map((a) => a.name)).toEqual(["address", "interface", "comment"]);
    const c = cmds[0]!.args[2]!.value!;
    expect(c.kind === "str" && c.text).toBe(s);
  });

  it("the same text unquoted would break out: the parser sees it (control)", () => {
    expect(allCommands(parse('/ipv6/address/add comment=a;/system/reboot')).length).toBe(2);
    expect(() => parse('/ipv6/address/add comment="$[/system/reboot]"')).toThrow(/substitute/);
  });
});

describe("tokenizer cases (real RouterOS's reading)", () => {
  const read = (f: string) => readFileSync(path.join(cases, f), "utf8");
  const classes = (f: string) => read(f).trim().split(",");

  it("single-command.rsc: /ip address print is /ip/address/print, highlighted dir dir cmd", () => {
    const src = read("single-command.rsc");
    const il = read("single-command.rsc.v7.22.1.parseil").trim();
    const cmds = allCommands(parse(src));
    expect(cmds).toHaveLength(1);
    expect(`(evl /${[...cmds[0]!.menu, cmds[0]!.verb].join("/")})`).toBe(il);
    const want = classes("single-command.rsc.highlight");
    expect(highlight(src).slice(0, want.length)).toEqual(want);
  });

  it("comment-only.rsc: nothing but comments, no commands", () => {
    const src = read("comment-only.rsc");
    expect(allCommands(parse(src))).toEqual([]);
    expect(read("comment-only.rsc.v7.22.1.parseil").trim()).toBe("/");
    const want = classes("comment-only.rsc.highlight");
    expect(highlight(src).slice(0, want.length)).toEqual(want);
  });

  it("empty.rsc: no commands", () => {
    expect(allCommands(parse(read("empty.rsc")))).toEqual([]);
  });

  it("unicode-heavy.rsc: non-ASCII outside a string stops the parse where RouterOS stops", () => {
    const routeros = read("unicode-heavy.rsc.v7.22.1.parseil").trim(); // expected end of command (line 4 column 11)
    let err: unknown;
    try {
      parse(read("unicode-heavy.rsc"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RscError);
    expect((err as Error).message).toBe(routeros);
  });
});
