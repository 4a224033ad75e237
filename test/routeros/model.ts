// A model of `/import` for the statements relay6 writes: objects per menu, found, added,
// set and removed the way RouterOS does it, with RouterOS's own keys enforced (an add that
// RouterOS refuses, e.g. a second /ipv6/nd entry for one interface, fails here too).
// It is how the tests show that importing twice equals importing once, and that the
// undo script takes away exactly what the setup added.
import { rosDurationMs } from "../../src/targets/routeros/duration.js";
import { allCommands, parse, type Command, type Cond, type Stmt, type Value } from "./rsc.js";

/** A script's `:error`: RouterOS stops the import there; what ran before it stays. */
export class ScriptError extends Error {}

export interface Obj {
  id: number;
  props: Record<string, string>;
}

/** What RouterOS refuses to hold twice, per menu: each entry is one unique key. */
const UNIQUE: Record<string, string[][]> = {
  "interface/wireguard": [["name"]],
  "interface/wireguard/peers": [["name"], ["interface", "public-key"]],
  "ipv6/address": [["address", "interface"]],
  "ipv6/nd": [["interface"]],
  "routing/bgp/instance": [["name"]],
  "routing/bgp/template": [["name"]],
  "routing/bgp/connection": [["name"]],
};

/** Args that name an interface: RouterOS refuses an add that names one that does not exist. */
const INTERFACE_ARGS = new Set(["interface", "interfaces", "in-interface", "out-interface"]);

export class RouterModel {
  menus = new Map<string, Obj[]>();
  interfaces: Set<string>;
  output: string[] = [];
  private nextId = 1;
  private keyCounter = 0;

  /** What `/system/resource/get version` answers, as RouterOS prints it: "7.22.3 (stable)". */
  readonly version: string;

  constructor(interfaces: string[], release: string) {
    this.interfaces = new Set(interfaces);
    this.version = `${release} (stable)`;
  }

  clone(): RouterModel {
    return this.cloneAs(this.version.replace(/ \(stable\)$/, ""));
  }

  /** The same configuration on another release (the router was upgraded). */
  cloneAs(release: string): RouterModel {
    const m = new RouterModel([...this.interfaces], release);
    for (const [k, v] of this.menus) m.menus.set(k, v.map((o) => ({ id: o.id, props: { ...o.props } })));
    m.nextId = this.nextId;
    m.keyCounter = this.keyCounter;
    m.globals = new Map(this.globals);
    return m;
  }

  /** What RouterOS makes itself (a BGP-learned route, a netwatch's status): put as it is. */
  addDynamic(menu: string, props: Record<string, string>): Obj {
    const o = { id: this.nextId++, props };
    this.list(menu).push(o);
    return o;
  }

  /** Changes made by `set` (the drain must not set what it already has: each set sends an RA). */
  sets: { menu: string; props: Record<string, string> }[] = [];

  list(menu: string): Obj[] {
    if (!this.menus.has(menu)) this.menus.set(menu, []);
    return this.menus.get(menu)!;
  }

  /** The configuration as RouterOS would export it: per menu, objects in order, no ids. */
  snapshot(): Record<string, Record<string, string>[]> {
    const out: Record<string, Record<string, string>[]> = {};
    for (const k of [...this.menus.keys()].sort()) {
      const objs = this.menus.get(k)!;
      if (objs.length > 0) out[k] = objs.map((o) => ({ ...o.props }));
    }
    return out;
  }

  import(script: string): void {
    this.run(parse(script), { vars: new Map() });
  }

  /** Runs a script as /system/script/run would (its own local variables). */
  runScript(source: string): void {
    this.run(parse(source), { vars: new Map() });
  }

  /** Global variables (`:global`), shared by every script run. */
  globals = new Map<string, Val>();
  private depth = 0;

  private run(stmts: Stmt[], scope: Scope): void {
    for (const s of stmts) {
      if (s.kind === "if") {
        const c = this.evalValue(s.cond, scope);
        if (typeof c !== "boolean") throw new Error(`model: :if needs a boolean, got ${JSON.stringify(c)} (line ${s.line})`);
        this.run(c ? s.then : s.else, { vars: new Map(), parent: scope });
      } else this.exec(s, scope);
    }
  }

  private evalValue(v: Value | undefined, scope: Scope): Val {
    if (!v) return "";
    if (v.kind === "str") return v.text;
    if (v.kind === "word") return v.text.startsWith("$") ? this.lookup(v.text.slice(1), scope) : v.text;
    if (v.kind === "sub") {
      if (v.stmts.length !== 1 || v.stmts[0]!.kind !== "cmd") throw new Error("model: [...] must hold one command");
      return this.exec(v.stmts[0] as Command, scope);
    }
    if (v.kind === "expr") return this.evalExpr(v.op, v.args, scope);
    throw new Error("model: a block is not a value");
  }

  private declared(name: string, scope: Scope): Scope | undefined {
    for (let s: Scope | undefined = scope; s; s = s.parent) if (s.vars.has(name)) return s;
    return undefined;
  }

  private lookup(name: string, scope: Scope): Val {
    const at = this.declared(name, scope);
    if (!at) throw new Error(`model: $${name} is not declared here`);
    const ref = at.vars.get(name)!;
    return ref === GLOBAL ? (this.globals.get(name) ?? NOTHING) : ref;
  }

  private assign(name: string, value: Val, scope: Scope): void {
    const at = this.declared(name, scope);
    if (!at) throw new Error(`model: :set of ${name}, which is not declared`);
    if (at.vars.get(name) === GLOBAL) this.globals.set(name, value);
    else at.vars.set(name, value);
  }

  private evalExpr(op: string, args: Value[], scope: Scope): Val {
    const [a, b] = args.map((x) => this.evalValue(x, scope));
    switch (op) {
      case "group":
        return a!;
      case "!":
        if (typeof a !== "boolean") throw new Error(`model: ! of a non-boolean ${JSON.stringify(a)}`);
        return !a;
      case "and":
      case "&&":
      case "or":
      case "||":
        if (typeof a !== "boolean" || typeof b !== "boolean") throw new Error(`model: ${op} of non-booleans`);
        return op === "and" || op === "&&" ? a && b : a || b;
      case ".":
        return `${show(a!)}${show(b!)}`;
      case "+":
      case "-": {
        if (typeof a !== "number" && !/^-?\d+$/.test(String(a))) throw new Error(`model: ${op} of a non-number ${JSON.stringify(a)}`);
        const x = Number(a);
        const y = Number(b);
        return op === "+" ? x + y : x - y;
      }
      default: {
        const c = compare(a!, b!);
        switch (op) {
          case "=":
            return c === 0;
          case "!=":
            return c !== 0;
          case "<":
            return c < 0;
          case ">":
            return c > 0;
          case "<=":
            return c <= 0;
          case ">=":
            return c >= 0;
          case "~":
            return new RegExp(String(b)).test(String(a));
        }
        throw new Error(`model: no operator ${op}`);
      }
    }
  }

  private ids(c: Command, name: string, scope: Scope): number[] {
    const a = c.args.find((x) => x.name === name);
    const v = this.evalValue(a?.value, scope);
    if (typeof v === "number") return [v];
    if (!Array.isArray(v)) throw new Error(`model: ${c.verb} needs [find ...] or an item as ${name} (line ${c.line})`);
    return v;
  }

  private matches(o: Obj, where: Cond[]): boolean {
    return where.every((w) => {
      const p = o.props[w.prop] ?? "";
      if (w.op === "flag") return yes(p);
      if (w.op === "=") return p === w.value || (isBool(w.value) && yes(p) === yes(w.value));
      if (w.op === "!=") return p !== w.value;
      if (w.op === "!~") return !new RegExp(w.value).test(p);
      return new RegExp(w.value).test(p);
    });
  }

  private arg(c: Command, name: string, scope: Scope): Val {
    return this.evalValue(c.args.find((a) => a.name === name)?.value, scope);
  }

  private exec(c: Command, scope: Scope): Val {
    const menu = c.menu.join("/");
    const args = c.args.filter((a) => a.value !== undefined);
    const ev = (v: Value | undefined) => this.evalValue(v, scope);
    if (menu === "" && ["local", "global", "set"].includes(c.verb)) {
      const name = String(ev(c.args.find((a) => a.name === "name")?.value));
      const has = c.args.some((a) => a.name === "value");
      if (c.verb === "local") scope.vars.set(name, has ? this.arg(c, "value", scope) : NOTHING);
      else if (c.verb === "global") {
        scope.vars.set(name, GLOBAL);
        if (has) this.globals.set(name, this.arg(c, "value", scope));
      } else this.assign(name, this.arg(c, "value", scope), scope);
      return "";
    }
    switch (c.verb) {
      case "put":
        this.output.push(show(ev(c.args[0]?.value)));
        return "";
      case "error":
        throw new ScriptError(show(ev(c.args.find((a) => a.name === "message")?.value)));
      case "foreach": {
        const counter = String(ev(c.args.find((a) => a.name === "counter")?.value));
        const list = this.arg(c, "in", scope);
        const body = c.args.find((a) => a.name === "do")?.value;
        if (!body || body.kind !== "block") throw new Error(`model: :foreach without do= (line ${c.line})`);
        for (const item of Array.isArray(list) ? list : [list]) this.run(body.stmts, { vars: new Map([[counter, item]]), parent: scope });
        return "";
      }
      case "typeof": {
        const v = ev(c.args[0]?.value);
        return v === NOTHING ? "nothing" : typeof v === "number" ? "num" : typeof v === "boolean" ? "bool" : Array.isArray(v) ? "array" : "str";
      }
      case "len": {
        const v = ev(c.args[0]?.value);
        return Array.isArray(v) ? v.length : show(v).length;
      }
      case "pick": {
        const list = ev(c.args.find((a) => a.name === "counter")?.value);
        const begin = Number(ev(c.args.find((a) => a.name === "begin")?.value));
        if (!Array.isArray(list)) throw new Error("model: :pick of a non-list");
        return list.slice(begin, begin + 1);
      }
      case "find":
        return this.list(menu)
          .filter((o) => this.matches(o, c.where ?? []))
          .map((o) => o.id);
      case "print":
        return "";
      case "ping":
        return "";
      case "get": {
        if (menu === "system/resource") {
          const name = show(ev(c.args.find((a) => a.name === "value-name")?.value));
          if (name !== "version") throw new Error(`model: /system/resource/get ${name} is not modelled`);
          return this.version;
        }
        const [id] = this.ids(c, "number", scope);
        const o = this.list(menu).find((x) => x.id === id);
        if (!o) throw new Error(`model: get on a missing ${menu} object`);
        return o.props[show(ev(c.args.find((a) => a.name === "value-name")?.value))] ?? "";
      }
      case "run": {
        if (menu !== "system/script") break;
        const ref = ev(c.args.find((a) => a.name === "number")?.value);
        const ids = typeof ref === "number" ? [ref] : Array.isArray(ref) ? ref : [];
        const o = this.list(menu).find((x) => (ids.length ? ids.includes(x.id) : x.props.name === show(ref)));
        if (!o) throw new Error(`failure: no such script ${show(ref)} (line ${c.line})`);
        if (++this.depth > 10) throw new Error("model: scripts run each other too deep");
        try {
          this.runScript(o.props.source ?? "");
        } finally {
          this.depth--;
        }
        return "";
      }
      case "remove": {
        const gone = new Set(this.ids(c, "numbers", scope));
        for (const o of this.list(menu)) if (gone.has(o.id) && menu === "interface/wireguard") this.interfaces.delete(o.props.name!);
        this.menus.set(
          menu,
          this.list(menu).filter((o) => !gone.has(o.id)),
        );
        return "";
      }
      case "unset": {
        const targets = new Set(this.ids(c, "numbers", scope));
        const name = show(ev(c.args.find((a) => a.name === "value-name")?.value));
        for (const o of this.list(menu)) if (targets.has(o.id)) delete o.props[name];
        return "";
      }
      case "set": {
        const targets = new Set(this.ids(c, "numbers", scope));
        const objs = this.list(menu);
        for (const o of objs)
          if (targets.has(o.id)) {
            const props = { ...o.props };
            // An empty value is no value (RouterOS's /export leaves it out): dns="" clears.
            for (const a of args)
              if (a.name !== "numbers") {
                const v = show(ev(a.value));
                if (v === "") delete props[a.name];
                else props[a.name] = v;
              }
            this.sets.push({ menu, props: Object.fromEntries(args.filter((a) => a.name !== "numbers").map((a) => [a.name, props[a.name] ?? ""])) });
            this.checkUnique(menu, props, o.id, c);
            o.props = props;
          }
        return "";
      }
      case "add": {
        const props: Record<string, string> = {};
        let before: number | undefined;
        for (const a of args) {
          if (a.name === "place-before") {
            const v = ev(a.value);
            if (!Array.isArray(v) || v.length !== 1) throw new Error(`model: place-before needs exactly one object (line ${c.line})`);
            before = v[0];
          } else props[a.name] = show(ev(a.value));
        }
        // RouterOS's defaults where relay6 reads them back (the drain's ra-lifetime).
        if (menu === "ipv6/nd" && props["ra-lifetime"] === undefined) props["ra-lifetime"] = "30m";
        for (const [k, v] of Object.entries(props))
          if (INTERFACE_ARGS.has(k) && menu !== "ipv6/firewall/filter" && menu !== "ipv6/firewall/mangle")
            for (const name of v.split(",")) if (!this.interfaces.has(name) && name !== "all") throw new Error(`failure: input does not match any value of ${k}: ${name} (line ${c.line})`);
        this.checkUnique(menu, props, undefined, c);
        if (menu === "interface/wireguard") {
          // RouterOS makes the private key; its public half is what `get` reads back.
          props["public-key"] = `ROUTER-PUBLIC-KEY-${++this.keyCounter}`;
          this.interfaces.add(props.name!);
        }
        if (menu === "routing/bgp/connection" && props.instance && !this.list("routing/bgp/instance").some((o) => o.props.name === props.instance))
          throw new Error(`failure: no such BGP instance ${props.instance} (line ${c.line})`);
        const o = { id: this.nextId++, props };
        const l = this.list(menu);
        const at = before === undefined ? l.length : l.findIndex((x) => x.id === before);
        l.splice(at, 0, o);
        return "";
      }
      default:
        break;
    }
    throw new Error(`model: no model for ${c.verb} (line ${c.line})`);
  }

  private checkUnique(menu: string, props: Record<string, string>, self: number | undefined, c: Command): void {
    for (const key of UNIQUE[menu] ?? []) {
      if (key.some((k) => props[k] === undefined)) continue;
      const clash = this.list(menu).find((o) => o.id !== self && key.every((k) => o.props[k] === props[k]));
      if (clash) throw new Error(`failure: ${menu} with this ${key.join("+")} already exists (line ${c.line})`);
    }
  }
}

/** A value in a running script: text, a number, a boolean, or a list of item ids. */
type Val = string | number | boolean | number[];
/** A script's local variables; GLOBAL marks a name declared with :global. */
interface Scope {
  vars: Map<string, Val | typeof GLOBAL>;
  parent?: Scope;
}
const GLOBAL = Symbol("global");
/** RouterOS's nothing: a variable declared without a value. */
const NOTHING: Val = "\u0000nothing";

const isBool = (v: string) => /^(yes|no|true|false)$/.test(v);
const yes = (v: string) => v === "yes" || v === "true";
const show = (v: Val): string => (v === NOTHING ? "" : Array.isArray(v) ? v.join(";") : String(v));

/** RouterOS compares times as times ("30m" > "0s"), numbers as numbers, the rest as text. */
function compare(a: Val, b: Val): number {
  const ta = rosDurationMs(show(a)) ?? (show(a) === "none" ? 0 : undefined);
  const tb = rosDurationMs(show(b)) ?? (show(b) === "none" ? 0 : undefined);
  if (ta !== undefined && tb !== undefined) return ta - tb;
  if (typeof a === "boolean" || typeof b === "boolean") return a === b ? 0 : 1;
  const na = Number(a);
  const nb = Number(b);
  if (show(a) !== "" && show(b) !== "" && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return show(a) < show(b) ? -1 : show(a) > show(b) ? 1 : 0;
}

/** Commands the model does not know are a test failure, not a silent skip. */
export function unmodelled(script: string): string[] {
  const known = new Set(["put", "error", "len", "pick", "find", "print", "ping", "get", "remove", "set", "unset", "add", "if", "local", "global", "foreach", "typeof", "run"]);
  return allCommands(parse(script))
    .filter((c) => !known.has(c.verb))
    .map((c) => `/${[...c.menu, c.verb].join("/")}`);
}
