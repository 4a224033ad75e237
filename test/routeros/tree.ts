// Checks a parsed script against RouterOS's own command trees in ../shared/routeros:
// menu paths, verbs and argument names (schema/inspect-<v>.json), the arguments `add`
// cannot go without (required-args/), and, where deep-inspect lists the values an
// argument takes, that the value is one of them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { compareRelease, parseRelease, type Release } from "../../src/targets/routeros/capabilities.js";
import { allCommands, parse, type Command, type Stmt } from "./rsc.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const sharedRouterOS = path.resolve(repoRoot, "../shared/routeros");

type Node = { _type?: string; _completion?: Record<string, { style?: string }>; [k: string]: unknown };

const cache = new Map<string, unknown>();
function readJson<T>(file: string): T {
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, "utf8")));
  return cache.get(file) as T;
}

/** The versions with a captured tree: ["7.15", "7.18.2", ...], oldest first. */
export function capturedVersions(): string[] {
  return readdirSync(path.join(sharedRouterOS, "schema"))
    .map((f) => /^inspect-(.+)\.json$/.exec(f)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort((a, b) => compareRelease(parseRelease(a)!, parseRelease(b)!));
}

export const tree = (v: string) => readJson<Node>(path.join(sharedRouterOS, "schema", `inspect-${v}.json`));
export const deepTree = (v: string): Node | undefined => {
  const f = path.join(sharedRouterOS, "schema", `deep-inspect-${v}.json`);
  return existsSync(f) ? readJson<Node>(f) : undefined;
};

/** Required args of `add` per menu, from the capture nearest at or below `v` (the oldest
 *  capture, 7.20.8, stands in for older releases; args their tree lacks are dropped). */
export function requiredArgs(v: string): Map<string, string[]> {
  const dir = path.join(sharedRouterOS, "required-args");
  const files = readdirSync(dir)
    .map((f) => ({ f, v: /^required-args-(\d+\.\d+(?:\.\d+)?)/.exec(f)?.[1] }))
    .filter((x): x is { f: string; v: string } => x.v !== undefined)
    .sort((a, b) => compareRelease(parseRelease(a.v)!, parseRelease(b.v)!));
  const want = parseRelease(v)!;
  const pick = [...files].reverse().find((x) => compareRelease(parseRelease(x.v)!, want) <= 0) ?? files[0]!;
  const data = readJson<{ path: string; required: string[] }[]>(path.join(dir, pick.f));
  return new Map(data.map((e) => [e.path, e.required]));
}

const child = (n: Node | undefined, k: string): Node | undefined => (n && typeof n[k] === "object" ? (n[k] as Node) : undefined);
const argNames = (n: Node | undefined) => (n ? Object.keys(n).filter((k) => !k.startsWith("_")) : []);

/** Args whose completions are the objects of the captured box (interfaces, names): their
 *  values refer to the user's router, not to a closed set. */
const REFERENCE_ARGS = new Set(["interface", "interfaces", "in-interface", "out-interface", "name", "comment", "instance", "templates", "place-before", "numbers", "number", "value-name"]);
/** The same, for one menu only: a logging rule's action names a /system/logging/action. */
const MENU_REFERENCE_ARGS: Record<string, Set<string>> = { "system/logging": new Set(["action"]) };

export interface Finding {
  line: number;
  what: string;
}

/** Args whose string value is itself a script RouterOS runs later: checked as one. */
const SCRIPT_ARGS: Record<string, Set<string>> = {
  "system/script": new Set(["source"]),
  "tool/netwatch": new Set(["test-script", "up-script", "down-script"]),
  "system/scheduler": new Set(["on-event"]),
};

/** Read-only properties a `where` or `get` may name beside the add/set args (`active`,
 *  `immediate-gw`, netwatch's `status`): only deep-inspect-7.22.3 lists them (`get`'s
 *  value-name completion, less what add or set take there), so that list is used for every
 *  release (an assumption for the others, said in docs/targets/routeros.md). */
function readOnlyProps(menu: string[]): Set<string> {
  const deep = deepTree("7.22.3");
  let n: Node | undefined = deep;
  for (const seg of menu) n = child(n, seg);
  const comp = child(child(n, "get"), "value-name")?._completion;
  // Only what no add or set takes in 7.22.3: an argument a release lacks stays unknown there.
  const args = new Set([...argNames(child(n, "add")), ...argNames(child(n, "set"))]);
  return new Set(comp ? Object.keys(comp).filter((k) => !args.has(k)) : []);
}

export function checkScript(stmts: Stmt[], v: string, context = ""): Finding[] {
  const t = tree(v);
  const deep = deepTree(v);
  const required = requiredArgs(v);
  const out: Finding[] = [];
  for (const c of allCommands(stmts)) {
    const where = `${context}/${[...c.menu, c.verb].join("/")}`;
    let menu: Node | undefined = t;
    for (const seg of c.menu) {
      menu = child(menu, seg);
      if (!menu || (menu._type !== "dir" && menu._type !== "path")) {
        out.push({ line: c.line, what: `${where}: menu /${c.menu.join("/")} does not exist in ${v}` });
        break;
      }
    }
    if (!menu || (c.menu.length > 0 && menu._type !== "dir" && menu._type !== "path")) continue;
    const verb = child(menu, c.verb);
    if (!verb || verb._type !== "cmd") {
      out.push({ line: c.line, what: `${where}: no command ${c.verb} in ${v}` });
      continue;
    }
    if (c.verb === "if") continue; // condition/do/else: checked through the statements inside
    for (const a of c.args) {
      const arg = child(verb, a.name);
      if (!arg || arg._type !== "arg") out.push({ line: c.line, what: `${where}: no argument ${a.name} in ${v}` });
    }
    const props = () => new Set([...argNames(child(menu, "add")), ...argNames(child(menu, "set")), ...readOnlyProps(c.menu)]);
    if (c.where) {
      if (!child(verb, "where")) out.push({ line: c.line, what: `${where}: no where in ${v}` });
      const known = props();
      for (const cond of c.where)
        if (!known.has(cond.prop)) out.push({ line: c.line, what: `${where}: condition on unknown property ${cond.prop} in ${v}` });
    }
    if (c.verb === "get") {
      const name = c.args.find((a) => a.name === "value-name")?.value;
      if (name?.kind === "word" && !props().has(name.text)) out.push({ line: c.line, what: `${where}: get of unknown property ${name.text} in ${v}` });
    }
    // Scripts inside strings: parsed and checked like the file (a parse error is a finding).
    for (const a of c.args) {
      if (!SCRIPT_ARGS[c.menu.join("/")]?.has(a.name) || a.value?.kind !== "str") continue;
      try {
        out.push(...checkScript(parse(a.value.text), v, `${where} ${a.name}: `).map((f) => ({ line: c.line, what: f.what })));
      } catch (e) {
        out.push({ line: c.line, what: `${where} ${a.name} does not parse: ${(e as Error).message}` });
      }
    }
    if (c.verb === "add") {
      const need = (required.get(`/${c.menu.join("/")}`) ?? []).filter((r) => child(verb, r));
      for (const r of need)
        if (!c.args.some((a) => a.name === r)) out.push({ line: c.line, what: `${where}: required argument ${r} missing (${v})` });
    }
    if (deep) out.push(...checkValues(c, deep, where));
  }
  return out;
}

/** Values against deep-inspect completions. A completion list names the words an
 *  argument takes; numbers, times, ranges and addresses are the typed alternative the
 *  list does not spell out (mtu: "unspecified" or a number), so they pass. */
function checkValues(c: Command, deep: Node, where: string): Finding[] {
  const out: Finding[] = [];
  let menu: Node | undefined = deep;
  for (const seg of c.menu) menu = child(menu, seg);
  const verb = child(menu, c.verb);
  for (const a of c.args) {
    if (!a.value || REFERENCE_ARGS.has(a.name) || MENU_REFERENCE_ARGS[c.menu.join("/")]?.has(a.name)) continue;
    if (a.value.kind !== "word" && a.value.kind !== "str") continue;
    const comp = child(verb, a.name)?._completion;
    if (!comp) continue;
    const words = Object.entries(comp).filter(([, e]) => e.style !== "syntax-meta").map(([k]) => k);
    if (words.length === 0 || words.includes("lo")) continue;
    for (const item of a.value.text.split(",")) {
      const w = item.replace(/^!/, "");
      if (words.includes(w)) continue;
      if (/^[0-9]/.test(w) || w.includes(":") || w.includes("/")) continue;
      out.push({ line: c.line, what: `${where}: ${a.name}=${w} is not one of ${words.join("|")}` });
    }
  }
  return out;
}
