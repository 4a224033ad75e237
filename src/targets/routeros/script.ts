// A few statement shapes, and nothing else: every line relay6 writes into a .rsc is one of
// these, which keeps the scripts readable and lets the tests parse all of them back.
import { prefixRegex, quote, value } from "./quote.js";

/** A menu path in slash form: "/ipv6/address". */
export type Menu = `/${string}`;

/** Arguments in the order they are written. A value is raw text; it is quoted as needed. */
export type Args = readonly (readonly [name: string, value: string | number])[];

/** A where-condition: property equals value, matches a regex, or does not match one. */
export type Cond = { prop: string; eq: string } | { prop: string; num: number } | { prop: string; re: string } | { prop: string; notRe: string };

export const byTag = (tagPrefix: string): Cond => ({ prop: "comment", re: prefixRegex(tagPrefix) });

function condText(conds: readonly Cond[]): string {
  return conds
    .map((c) => ("eq" in c ? `${c.prop}=${quote(c.eq)}` : "num" in c ? `${c.prop}=${c.num}` : "re" in c ? `${c.prop}~${quote(c.re)}` : `!(${c.prop}~${quote(c.notRe)})`))
    .join(" and ");
}

export const find = (menu: Menu, where: readonly Cond[]) => `[${menu}/find where ${condText(where)}]`;

function argsText(args: Args): string[] {
  return args.map(([k, v]) => `${k}=${value(String(v))}`);
}

/** Joins words into lines of at most ~96 characters with RouterOS's `\` continuation,
 *  breaking only between words (never inside a quoted value). */
function wrap(words: string[], indent = "    "): string {
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line !== "" && line.length + 1 + w.length > 96) {
      lines.push(line + " \\");
      line = indent + w;
    } else line = line === "" ? w : `${line} ${w}`;
  }
  lines.push(line);
  return lines.join("\n");
}

export const remove = (menu: Menu, where: readonly Cond[]) => `${menu}/remove ${find(menu, where)}`;
export const put = (text: string) => `:put ${quote(text)}`;
export const comment = (text: string) =>
  text
    .split("\n")
    .map((l) => (l === "" ? "#" : `# ${l}`))
    .join("\n");

/** Add when no object matches `key`, otherwise set the matching one: a re-run updates
 *  in place instead of adding a second copy. `setArgs` defaults to `args`; `unset`: values
 *  the matching one loses (`unset ... value-name=`, after the set). */
export function upsert(menu: Menu, key: readonly Cond[], args: Args, setArgs: Args = args, unset: readonly string[] = []): string {
  return wrap([
    `:if ([:len ${find(menu, key)}] = 0) do={`,
    `${menu}/add`,
    ...argsText(args),
    "} else={",
    `${menu}/set`,
    find(menu, key),
    ...argsText(setArgs),
    ...unset.flatMap((v) => [";", `${menu}/unset`, find(menu, key), `value-name=${value(v)}`]),
    "}",
  ]);
}

/** Add in front of the first object matching the first anchor that matches anything
 *  (e.g. defconf's drop rule, then any other drop rule of the chain), at the end when
 *  none does. Nested :if, one level per anchor. */
export function addBefore(menu: Menu, anchors: readonly (readonly Cond[])[], args: Args): string[] {
  const plain = [`${menu}/add`, ...argsText(args)];
  const build = (i: number): string[] => {
    if (i >= anchors.length) return plain;
    const at = find(menu, anchors[i]!);
    return [
      `:if ([:len ${at}] > 0) do={`,
      ...plain,
      `place-before=[:pick ${at} 0]`,
      "} else={",
      ...build(i + 1),
      "}",
    ];
  };
  return build(0);
}

export const addBeforeText = (menu: Menu, anchors: readonly (readonly Cond[])[], args: Args) => wrap(addBefore(menu, anchors, args));

/** A plain `add`, in front of `placeBefore` (a `[...]` that names one object) when given. */
export const addText = (menu: Menu, args: Args, placeBefore?: string) => wrap([`${menu}/add`, ...argsText(args), ...(placeBefore ? [`place-before=${placeBefore}`] : [])]);

/** Stops the script with a RouterOS error when `cond` holds, before any later statement
 *  runs: `:if (<cond>) do={ :error "<message>" }`. */
export const stopIf = (cond: string, message: string) => `:if (${cond}) do={ :error ${quote(message)} }`;

/** A condition: `text` (a value, e.g. `[/system/resource/get version]`) does not match `re`. */
export const notMatching = (text: string, re: string) => `!(${text} ~ ${quote(re)})`;

/** A condition: some object of `menu` matches `where`. */
export const anyFound = (menu: Menu, where: readonly Cond[]) => `[:len ${find(menu, where)}] > 0`;
