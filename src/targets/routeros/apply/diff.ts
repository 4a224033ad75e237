// apply router's diff: the router's menus read over REST against the plan's objects
// (objects.ts), as the operations that turn one into the other, each with its undo. Pure
// but for readRouterState.
import type { RosObject, RouterOsRest } from "../../../remote/routeros-rest.js";
import type { Capabilities } from "../capabilities.js";
import { FILTER, MANGLE, WG, managedMenus, type DesiredObject } from "../objects.js";
import type { Menu } from "../script.js";
import { REST_PATH, RESTORE_ARGS, argsObject, findOf, findSame, findTag, matches, restoreArgs, sameValue, scriptValue, shown, tagKey } from "./values.js";
import { withRecordRestore } from "./drain.js";

/** One change, as shown to people and in --json. Secret values are "(secret)". */
export interface RouterChange {
  action: "create" | "update" | "move" | "remove";
  menu: Menu;
  /** relay6's tag key, or for an object RouterOS keys by a property (nd), `interface=<name>`. */
  key: string;
  id?: string;
  /** create: the args; update: the changed args. */
  set?: Record<string, string>;
  /** update: the values before. */
  from?: Record<string, string>;
  /** move/create of a firewall rule: where it goes. */
  placeBefore?: string;
}

export interface Op {
  change: RouterChange;
  /** Performs it; returns the new object's .id for creates. */
  run: (rest: RouterOsRest) => Promise<string | undefined>;
  /** Script lines that undo it (firewall tables are undone as a whole, see firewallUndo). */
  undo: string[];
  /** A firewall table this op touches. */
  table?: Menu;
}

export interface RouterState {
  menus: Map<Menu, RosObject[]>;
  interfaces: RosObject[];
}

export async function readRouterState(rest: RouterOsRest, caps: Capabilities): Promise<RouterState> {
  const menus = new Map<Menu, RosObject[]>();
  for (const m of managedMenus(caps)) menus.set(m, await rest.get(REST_PATH(m)));
  return { menus, interfaces: await rest.get("/interface") };
}

export interface RouterDiff {
  /** In the order they run: creates/updates by dependency, firewall in chain order (accepts
   *  before drops), removals last. */
  ops: Op[];
  /** The firewall tables as they were: the rollback restores them in this order. */
  firewallBefore: Map<Menu, RosObject[]>;
  problems: string[];
}

/** Diffs the router's state against the plan's objects. Pure. */
export function diffRouter(site: string, desired: readonly DesiredObject[], state: RouterState, caps: Capabilities): RouterDiff {
  const ops: Op[] = [];
  const removals: Op[] = [];
  const problems: string[] = [];
  const kept = new Set<string>(); // "<menu> <.id>" of relay6 objects that stay (.ids are per table)
  const ifaceNames = new Set(state.interfaces.map((i) => i.name ?? ""));
  const list = (m: Menu) => state.menus.get(m) ?? [];
  const ours = (m: Menu, key: string) => list(m).filter((o) => tagKey(site, o.comment) === key);

  // Objects a menu allows once: an object of someone else's in the way is a clash, refused
  // before anything changes (RouterOS would stop half way).
  const clash = (o: DesiredObject): string | undefined => {
    const a = argsObject(o.args);
    if (o.menu === WG) {
      const other = state.interfaces.find((i) => i.name === a.name && tagKey(site, i.comment) !== "wg");
      if (other) return `an interface named ${a.name} exists and is not relay6's (${other.type ?? "interface"}${other.comment ? `, comment ${JSON.stringify(other.comment)}` : ""})`;
    }
    if (a.name !== undefined && o.menu !== WG) {
      const other = list(o.menu).find((x) => x.name === a.name && tagKey(site, x.comment) !== o.key);
      if (other) return `${o.menu} already has an object named ${a.name} that is not relay6's`;
    }
    if (o.menu === "/ipv6/address") {
      const other = list(o.menu).find((x) => x.address === a.address && x.interface === a.interface && tagKey(site, x.comment) !== o.key && x.dynamic !== "true");
      if (other) return `${a.address} on ${a.interface} exists and is not relay6's`;
    }
    return undefined;
  };

  // Interfaces the plan names must exist (the tunnel's is made by relay6).
  const wgArgs = argsObject(desired.find((o) => o.menu === WG)!.args);
  const wgName = wgArgs.name!;
  problems.push(...listenPortProblems(site, wgArgs["listen-port"], list(WG)));
  for (const o of desired) {
    const a = argsObject(o.args);
    for (const k of ["interface", "interfaces", "in-interface", "out-interface"]) {
      const n = a[k];
      if (n !== undefined && n !== wgName && !ifaceNames.has(n)) problems.push(`interface ${n} (${o.menu} ${o.key}) does not exist on the router`);
    }
  }

  for (const o of desired.filter((x) => !x.place)) {
    let found: RosObject[];
    if (o.identity.by === "prop") {
      const id = o.identity;
      found = list(o.menu).filter((x) => x[id.prop] === id.value);
    } else found = ours(o.menu, o.key);
    const [cur, ...dupes] = found;
    const key = o.key;
    for (const d of dupes) if (tagKey(site, d.comment) !== undefined) removals.push(removeOp(o.menu, d, key));
    if (!cur) {
      const why = clash(o);
      if (why) problems.push(why);
      const args = argsObject(o.args);
      ops.push({
        change: { action: "create", menu: o.menu, key, set: shown(args, o.secretArgs) },
        run: async (rest) => (await rest.add(REST_PATH(o.menu), args))[".id"],
        undo: [`${o.menu}/remove ${findTag(site, o.key)}`],
      });
      continue;
    }
    kept.add(`${o.menu} ${cur[".id"]}`);
    const compare = o.identity.by === "prop" ? o.identity.setArgs : o.args;
    const diff: Record<string, string> = {};
    const before: Record<string, string> = {};
    for (const [k, v] of compare) {
      if (!sameValue(cur[k], String(v))) {
        diff[k] = String(v);
        if (cur[k] !== undefined) before[k] = cur[k]!;
      }
    }
    // Values the entry must not keep: unset from 7.23 (capabilities nd-unset), "" before.
    const unset: string[] = [];
    for (const k of o.identity.by === "prop" ? (o.identity.clear ?? []) : []) {
      if ((cur[k] ?? "") === "") continue;
      before[k] = cur[k]!;
      if (caps.ndUnset) unset.push(k);
      else diff[k] = "";
    }
    if (Object.keys(diff).length === 0 && unset.length === 0) continue;
    const id = cur[".id"]!;
    ops.push({
      change: {
        action: "update",
        menu: o.menu,
        key: o.identity.by === "prop" ? `${o.identity.prop}=${o.identity.value}` : key,
        id,
        set: shown({ ...diff, ...Object.fromEntries(unset.map((k) => [k, ""])) }, o.secretArgs),
        from: shown(before, o.secretArgs),
      },
      run: async (rest) => {
        if (Object.keys(diff).length > 0) await rest.set(REST_PATH(o.menu), id, diff);
        for (const k of unset) await rest.command(`${REST_PATH(o.menu)}/unset`, { numbers: id, "value-name": k });
        return undefined;
      },
      undo: Object.keys(before).length ? [`${o.menu}/set ${findOf(site, o)} ${Object.entries(before).map(([k, v]) => `${k}=${scriptValue(v)}`).join(" ")}`] : [],
    });
  }

  // Firewall tables: relay6's rules stay in the plan's order in front of their anchor.
  const firewallBefore = new Map<Menu, RosObject[]>();
  for (const table of [FILTER, MANGLE]) {
    const rules = desired.filter((o) => o.menu === table && o.place);
    const items = list(table);
    firewallBefore.set(table, items);
    const anchorOf = (o: DesiredObject): RosObject | undefined => {
      for (const a of o.place!.anchors) {
        const hit = items.find((x) => matches(x, a));
        if (hit) return hit;
      }
      return undefined;
    };
    const idx = (x: RosObject | undefined) => (x ? items.indexOf(x) : Infinity);
    const present = new Map<string, RosObject>();
    for (const r of rules) {
      const [cur, ...dupes] = ours(table, r.key);
      for (const d of dupes) removals.push(removeOp(table, d, r.key, table));
      if (cur) present.set(r.key, cur);
    }
    const keptRules = rules.filter((r) => present.has(r.key));
    // In the plan's order within each chain (chains are evaluated apart: a table may list
    // its forward rules before its input rules), and each in front of its anchor?
    // Otherwise move all kept ones into place.
    const inOrder = [...new Set(keptRules.map((r) => r.place!.chain))].every((chain) => {
      const positions = keptRules.filter((r) => r.place!.chain === chain).map((r) => idx(present.get(r.key)));
      return positions.every((p, i) => i === 0 || p > positions[i - 1]!);
    });
    const beforeAnchors = keptRules.every((r) => idx(present.get(r.key)) < idx(anchorOf(r)));
    if (!inOrder || !beforeAnchors)
      for (const r of keptRules) {
        const anchor = anchorOf(r);
        const cur = present.get(r.key)!;
        const id = cur[".id"]!;
        ops.push({
          change: { action: "move", menu: table, key: r.key, id, placeBefore: anchor ? `${anchor[".id"]} (${anchor.comment ?? anchor.action})` : "the end" },
          run: async (rest) => {
            await rest.command(`${table}/move`, { numbers: id, ...(anchor ? { destination: anchor[".id"] } : {}) });
            return undefined;
          },
          undo: [],
          table,
        });
      }
    for (const r of rules) {
      const cur = present.get(r.key);
      const args = argsObject(r.args);
      if (cur) {
        kept.add(`${table} ${cur[".id"]}`);
        const diff: Record<string, string> = {};
        const before: Record<string, string> = {};
        for (const [k, v] of Object.entries(args))
          if (!sameValue(cur[k], v)) {
            diff[k] = v;
            if (cur[k] !== undefined) before[k] = cur[k]!;
          }
        if (Object.keys(diff).length === 0) continue;
        const id = cur[".id"]!;
        ops.push({
          change: { action: "update", menu: table, key: r.key, id, set: diff, from: before },
          run: async (rest) => {
            await rest.set(table, id, diff);
            return undefined;
          },
          undo: [],
          table,
        });
        continue;
      }
      // New: in front of whichever comes first, the next rule of the plan (same chain) that
      // is already there or the rule's anchor; with neither, at the end. Keeps the plan's
      // order, and a rule anchored higher up (fw:fwd-src) goes where the .rsc puts it.
      const i = rules.indexOf(r);
      const next = rules.slice(i + 1).find((x) => x.place!.chain === r.place!.chain && present.has(x.key));
      const own = anchorOf(r);
      const nextObj = next ? present.get(next.key) : undefined;
      const anchor = idx(own) < idx(nextObj) ? own : nextObj;
      const before = anchor?.[".id"];
      ops.push({
        change: {
          action: "create",
          menu: table,
          key: r.key,
          set: args,
          placeBefore: anchor ? `${before} (${tagKey(site, anchor.comment) ?? anchor.comment ?? anchor.action})` : "the end",
        },
        run: async (rest) => (await rest.add(table, { ...args, ...(before ? { "place-before": before } : {}) }))[".id"],
        undo: [],
        table,
      });
    }
  }

  // Removals: relay6's objects of this site the plan no longer has, firewall first, then
  // the other menus against dependency order (a BGP connection before its template...).
  const desiredKeys = new Set(desired.map((o) => `${o.menu} ${o.key}`));
  for (const table of [FILTER, MANGLE])
    for (const x of list(table)) {
      const k = tagKey(site, x.comment);
      if (k !== undefined && !kept.has(`${table} ${x[".id"]}`) && !desiredKeys.has(`${table} ${k}`)) removals.push(removeOp(table, x, k, table));
    }
  for (const m of [...managedMenus(caps)].reverse()) {
    if (m === FILTER || m === MANGLE) continue;
    for (const x of list(m)) {
      const k = tagKey(site, x.comment);
      if (k === undefined || kept.has(`${m} ${x[".id"]}`) || removals.some((r) => r.change.id === x[".id"] && r.change.menu === m)) continue;
      if (desiredKeys.has(`${m} ${k}`) && (m !== "/ipv6/nd" || desired.some((o) => o.menu === m && o.key === k && o.identity.by === "prop" && x[o.identity.prop] === o.identity.value))) continue;
      // The tunnel interface is never removed by apply (that would lose the router's key);
      // a plan always has one, so only a renamed site could get here.
      if (m === WG) continue;
      removals.push(withRecordRestore(removeOp(m, x, k), m, k, x, state));
    }
  }
  return { ops: [...ops, ...removals], firewallBefore, problems };
}

/** Another WireGuard interface listening on the tunnel's port: relay6's interface could not
 *  listen (the .rsc stops on the same check: guards.ts). */
function listenPortProblems(site: string, port: string | undefined, interfaces: readonly RosObject[]): string[] {
  if (port === undefined) return [];
  return interfaces
    .filter((i) => tagKey(site, i.comment) !== "wg" && i["listen-port"] === port)
    .map((i) => `WireGuard interface ${i.name ?? i[".id"]} already listens on UDP ${port} (wireguard.port): set wireguard.port to a free port, or move that interface`);
}

function removeOp(menu: Menu, x: RosObject, key: string, table?: Menu): Op {
  const id = x[".id"]!;
  const secret = menu === WG ? ["private-key"] : [];
  const args = Object.fromEntries(Object.entries(x).filter(([k]) => (RESTORE_ARGS[menu] ?? []).includes(k) || k === "comment"));
  return {
    change: { action: "remove", menu, key, id, from: shown(args, secret) },
    run: async (rest) => {
      await rest.remove(menu, id);
      return undefined;
    },
    // Added back after the same one goes, if it is still there: the scheduled rollback may
    // fire before this run got to the removal, and must not double the object then.
    undo: table ? [] : [`${menu}/remove ${findSame(menu, x)}`, `${menu}/add ${restoreArgs(menu, x).join(" ")}`],
    ...(table ? { table } : {}),
  };
}
