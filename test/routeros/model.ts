// A model of `/import` for the statements relay6 writes: objects per menu, found, added,
// set and removed the way RouterOS does it, with RouterOS's own keys enforced (an add that
// RouterOS refuses, e.g. a second /ipv6/nd entry for one interface, fails here too).
// It is how the tests show that importing twice equals importing once, and that the
// undo script takes away exactly what the setup added.
import { allCommands, parse, type Command, type Cond, type Expr, type Stmt, type Value } from "./rsc.js";

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
    return m;
  }

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
    this.run(parse(script));
  }

  private run(stmts: Stmt[]): void {
    for (const s of stmts) {
      if (s.kind === "if") this.run(this.test(s.cond) ? s.then : s.else);
      else this.exec(s);
    }
  }

  /** A condition, as RouterOS evaluates the shapes relay6 writes: `~` is a regex match of
   *  a string, the others compare numbers (a list counts as its length). */
  private test(e: Expr): boolean {
    if (e.kind === "not") return !this.test(e.expr);
    const left = this.evalValue(e.left);
    const right = this.evalValue(e.right);
    if (e.op === "~") {
      if (typeof left !== "string" || typeof right !== "string") throw new Error("model: ~ needs two strings");
      return new RegExp(right).test(left);
    }
    const num = (x: string | number[] | number) => Number(Array.isArray(x) ? x.length : x);
    const [n, r] = [num(left), num(right)];
    return e.op === "=" ? n === r : e.op === "!=" ? n !== r : e.op === ">" ? n > r : n < r;
  }

  private evalValue(v: Value | undefined): string | number[] | number {
    if (!v) return "";
    if (v.kind === "word" || v.kind === "str") return v.text;
    if (v.kind === "sub") {
      if (v.stmts.length !== 1 || v.stmts[0]!.kind !== "cmd") throw new Error("model: [...] must hold one command");
      return this.exec(v.stmts[0] as Command);
    }
    throw new Error("model: a block is not a value");
  }

  private ids(c: Command, name: string): number[] {
    const a = c.args.find((x) => x.name === name);
    const v = this.evalValue(a?.value);
    if (!Array.isArray(v)) throw new Error(`model: ${c.verb} needs [find ...] as ${name}`);
    return v;
  }

  private matches(o: Obj, where: Cond[]): boolean {
    return where.every((w) => {
      const p = o.props[w.prop] ?? "";
      if (w.op === "=") return p === w.value;
      if (w.op === "!=") return p !== w.value;
      if (w.op === "!~") return !new RegExp(w.value).test(p);
      return new RegExp(w.value).test(p);
    });
  }

  private exec(c: Command): number[] | number | string {
    const menu = c.menu.join("/");
    const args = c.args.filter((a) => a.value !== undefined);
    switch (c.verb) {
      case "put":
        this.output.push(String(this.evalValue(c.args[0]?.value)));
        return "";
      case "error":
        throw new ScriptError(String(this.evalValue(c.args.find((a) => a.name === "message")?.value)));
      case "len": {
        const v = this.evalValue(c.args[0]?.value);
        return Array.isArray(v) ? v.length : String(v).length;
      }
      case "pick": {
        const list = this.evalValue(c.args.find((a) => a.name === "counter")?.value);
        const begin = Number(this.evalValue(c.args.find((a) => a.name === "begin")?.value));
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
          const name = String(this.evalValue(c.args.find((a) => a.name === "value-name")?.value));
          if (name !== "version") throw new Error(`model: /system/resource/get ${name} is not modelled`);
          return this.version;
        }
        const [id] = this.ids(c, "number");
        const o = this.list(menu).find((x) => x.id === id);
        if (!o) throw new Error(`model: get on a missing ${menu} object`);
        return o.props[String(this.evalValue(c.args.find((a) => a.name === "value-name")?.value))] ?? "";
      }
      case "remove": {
        const gone = new Set(this.ids(c, "numbers"));
        for (const o of this.list(menu)) if (gone.has(o.id) && menu === "interface/wireguard") this.interfaces.delete(o.props.name!);
        this.menus.set(
          menu,
          this.list(menu).filter((o) => !gone.has(o.id)),
        );
        return "";
      }
      case "unset": {
        const targets = new Set(this.ids(c, "numbers"));
        const name = String(this.evalValue(c.args.find((a) => a.name === "value-name")?.value));
        for (const o of this.list(menu)) if (targets.has(o.id)) delete o.props[name];
        return "";
      }
      case "set": {
        const targets = new Set(this.ids(c, "numbers"));
        const objs = this.list(menu);
        for (const o of objs)
          if (targets.has(o.id)) {
            const props = { ...o.props };
            // An empty value is no value (RouterOS's /export leaves it out): dns="" clears.
            for (const a of args)
              if (a.name !== "numbers") {
                const v = String(this.evalValue(a.value));
                if (v === "") delete props[a.name];
                else props[a.name] = v;
              }
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
            const v = this.evalValue(a.value);
            if (!Array.isArray(v) || v.length !== 1) throw new Error(`model: place-before needs exactly one object (line ${c.line})`);
            before = v[0];
          } else props[a.name] = String(this.evalValue(a.value));
        }
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
        throw new Error(`model: no model for ${c.verb} (line ${c.line})`);
    }
  }

  private checkUnique(menu: string, props: Record<string, string>, self: number | undefined, c: Command): void {
    for (const key of UNIQUE[menu] ?? []) {
      if (key.some((k) => props[k] === undefined)) continue;
      const clash = this.list(menu).find((o) => o.id !== self && key.every((k) => o.props[k] === props[k]));
      if (clash) throw new Error(`failure: ${menu} with this ${key.join("+")} already exists (line ${c.line})`);
    }
  }
}

/** Commands the model does not know are a test failure, not a silent skip. */
export function unmodelled(script: string): string[] {
  const known = new Set(["put", "error", "len", "pick", "find", "print", "ping", "get", "remove", "set", "unset", "add", "if"]);
  return allCommands(parse(script))
    .filter((c) => !known.has(c.verb))
    .map((c) => `/${[...c.menu, c.verb].join("/")}`);
}
