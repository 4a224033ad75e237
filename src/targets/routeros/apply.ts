// relay6 apply router (RouterOS, over its REST API). See docs/apply-router.md.
//   1. read the router's version and refuse one the site file does not name
//   2. read every menu relay6 writes to, diff against the plan's objects (objects.ts)
//   3. show the diff; with --dry-run stop here
//   4. with --confirm: schedule a rollback on the router (a scheduler entry whose on-event
//      undoes exactly this run's changes) before changing anything
//   5. change: creates and updates in dependency order, firewall accepts before drops,
//      removals last; a failed step runs the rollback at once
//   6. with --confirm: reach the router again (and see the tunnel's handshake), then remove
//      the scheduled rollback; if the router does not answer, leave it to fire
import type { Plan } from "../../plan/plan.js";
import type { RenderContext } from "../../render/types.js";
import { UserError } from "../../errors.js";
import { openRest } from "../../remote/connect.js";
import { RestError, type RosObject, type RouterOsRest } from "../../remote/routeros-rest.js";
import type { ApplyReport, ApplyRequest } from "../types.js";
import { capabilitiesOf, formatRelease, parseRelease, type Capabilities, type Release } from "./capabilities.js";
import {
  FILTER,
  MANGLE,
  PEERS,
  WG,
  desiredObjects,
  managedMenus,
  setupSteps,
  type DesiredObject,
} from "./objects.js";
import { prefixRegex, quote, tag, value } from "./quote.js";
import type { Args, Cond, Menu } from "./script.js";

export const SECRET = "(secret)";

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

export interface ApplyRouterOptions {
  dryRun: boolean;
  /** --confirm SECONDS: the rollback fires after this long unless relay6 cancels it. */
  confirmSeconds?: number;
  /** Do not wait for the WireGuard handshake before confirming (no tunnel to see). */
  skipHandshake?: boolean;
  /** How long to wait for the router (and handshake) after the changes; default: the
   *  confirm window minus a margin. Tests with a fast model clock set it. */
  confirmWaitMs?: number;
  /** Between polls while confirming (default 2 s). */
  pollMs?: number;
  log: (line: string) => void;
}

export type RouterOutcome =
  /** --dry-run: nothing sent but reads */
  | "dry-run"
  /** the router already matches the plan: nothing sent but reads */
  | "no-changes"
  /** changed (without --confirm) */
  | "applied"
  /** changed, router reached again, rollback cancelled */
  | "confirmed"
  /** a step failed and the rollback ran at once: the router is as before */
  | "rolled-back"
  /** the router stopped answering (or no handshake): the scheduled rollback will restore it */
  | "rollback-pending"
  /** a step failed and the rollback could not be run: state unknown */
  | "failed";

export interface ApplyRouterResult {
  site: string;
  router: string;
  version: string;
  changes: RouterChange[];
  outcome: RouterOutcome;
  /** Name of the scheduler entry holding the rollback (--confirm). */
  rollback?: { scheduler: string; seconds: number; cancelled: boolean };
  /** The router's WireGuard public key (the VPS needs it; with keys: device only the router knows it). */
  routerPublicKey?: string;
  error?: string;
}

// ---------------------------------------------------------------------------- values

const DUR_RE = /^(?:\d+(?:ms|w|d|h|m|s))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function durationMs(v: string): number | undefined {
  if (!DUR_RE.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+)(ms|w|d|h|m|s)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** Normalises a RouterOS value for comparison: REST answers yes/no as true/false,
 *  durations as RouterOS prints them (25s, 1m30s), and may add /128 to a single address. */
export function normValue(v: string): string {
  if (v === "true" || v === "yes") return "yes";
  if (v === "false" || v === "no") return "no";
  // A single address may come back with its host length (firewall dst-address).
  if (/^[0-9a-fA-F:]*:[0-9a-fA-F:.]*\/128$/.test(v)) return v.slice(0, -4).toLowerCase();
  if (/^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/.test(v)) return v.toLowerCase();
  const ms = durationMs(v);
  return ms === undefined ? v : `${ms}ms`;
}

export const sameValue = (have: string | undefined, want: string): boolean => have !== undefined && normValue(have) === normValue(want);

/** A value as a script writes it (yes/no for booleans, quoted as needed). */
const scriptValue = (v: string) => value(v === "true" ? "yes" : v === "false" ? "no" : v);

function matches(o: RosObject, where: readonly Cond[]): boolean {
  return where.every((c) => {
    const p = o[c.prop] ?? "";
    if ("eq" in c) return p === c.eq;
    if ("re" in c) return new RegExp(c.re).test(p);
    return !new RegExp(c.notRe).test(p);
  });
}

const REST_PATH = (m: Menu) => m; // the REST paths are the menu paths: /ipv6/address

// ---------------------------------------------------------------------------- operations

/** The args relay6 ever writes per menu: what a rollback re-adds of an object it removed. */
const RESTORE_ARGS: Record<string, string[]> = {
  "/interface/wireguard": ["name", "listen-port", "mtu", "private-key"],
  "/interface/wireguard/peers": ["interface", "name", "public-key", "endpoint-address", "endpoint-port", "allowed-address", "persistent-keepalive"],
  "/ipv6/address": ["address", "interface", "advertise"],
  "/ipv6/nd": ["interface", "advertise-dns", "dns", "mtu", "managed-address-configuration", "other-configuration"],
  "/ipv6/route": ["dst-address", "gateway", "check-gateway"],
  "/routing/bgp/instance": ["name", "as", "router-id"],
  "/routing/bgp/template": ["name", "as", "use-bfd"],
  "/routing/bgp/connection": ["name", "instance", "router-id", "templates", "as", "remote.address", "remote.as", "local.address", "local.role", "use-bfd", "afi", "address-families"],
  "/routing/bfd/configuration": ["interfaces", "min-rx", "min-tx", "multiplier"],
  "/ipv6/firewall/filter": ["chain", "action", "protocol", "connection-state", "src-address", "dst-address", "dst-port", "in-interface", "out-interface"],
  "/ipv6/firewall/mangle": ["chain", "action", "new-mss", "passthrough", "protocol", "tcp-flags", "tcp-mss", "in-interface", "out-interface"],
};

interface Op {
  change: RouterChange;
  /** Performs it; returns the new object's .id for creates. */
  run: (rest: RouterOsRest) => Promise<string | undefined>;
  /** Script lines that undo it (firewall tables are undone as a whole, see firewallUndo). */
  undo: string[];
  /** A firewall table this op touches. */
  table?: Menu;
}

const argsObject = (args: Args): Record<string, string> => Object.fromEntries(args.map(([k, v]) => [k, String(v)]));
const shown = (o: Record<string, string>, secret: readonly string[]) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, secret.includes(k) ? SECRET : v]));

const findTag = (site: string, key: string) => `[find where comment~${quote(prefixRegex(tag(site, key)))}]`;

function findOf(site: string, o: DesiredObject): string {
  return o.identity.by === "prop" ? `[find where ${o.identity.prop}=${quote(o.identity.value)}]` : findTag(site, o.key);
}

function restoreArgs(menu: Menu, obj: RosObject): string[] {
  const names = [...(RESTORE_ARGS[menu] ?? []), "disabled", "comment"];
  return names.filter((k) => obj[k] !== undefined && obj[k] !== "").map((k) => `${k}=${scriptValue(obj[k]!)}`);
}

/** The tag key of a comment of this site, or undefined. */
export function tagKey(site: string, comment: string | undefined): string | undefined {
  const prefix = `relay6:${site}:`;
  if (!comment?.startsWith(prefix)) return undefined;
  const end = comment.indexOf(";", prefix.length);
  return end < 0 ? undefined : comment.slice(prefix.length, end);
}

// ---------------------------------------------------------------------------- the diff

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
  const wgName = argsObject(desired.find((o) => o.menu === WG)!.args).name!;
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
    if (Object.keys(diff).length === 0) continue;
    const id = cur[".id"]!;
    ops.push({
      change: { action: "update", menu: o.menu, key: o.identity.by === "prop" ? `${o.identity.prop}=${o.identity.value}` : key, id, set: shown(diff, o.secretArgs), from: shown(before, o.secretArgs) },
      run: async (rest) => {
        await rest.set(REST_PATH(o.menu), id, diff);
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
    // In order, and each in front of its anchor? Otherwise move all kept ones into place.
    const positions = keptRules.map((r) => idx(present.get(r.key)));
    const inOrder = positions.every((p, i) => i === 0 || p > positions[i - 1]!);
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
      // New: in front of the next rule of the plan (same chain) that is already there,
      // else in front of the anchor, else at the end. Keeps the plan's order.
      const i = rules.indexOf(r);
      const next = rules.slice(i + 1).find((x) => x.place!.chain === r.place!.chain && present.has(x.key));
      const anchor = next ? present.get(next.key) : anchorOf(r);
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
      removals.push(removeOp(m, x, k));
    }
  }
  return { ops: [...ops, ...removals], firewallBefore, problems };
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
    undo: table ? [] : [`${menu}/add ${restoreArgs(menu, x).join(" ")}`],
    ...(table ? { table } : {}),
  };
}

/** The rollback: a RouterOS script that undoes the ops (in reverse), restoring relay6's
 *  firewall rules of each touched table exactly as they were (order included). */
export function rollbackScript(site: string, ops: readonly Op[], firewallBefore: Map<Menu, RosObject[]>, scheduled?: string): string {
  const L: string[] = [];
  // One run only: the scheduler entry goes first (a failing line cannot make it repeat).
  if (scheduled) L.push(`/system/scheduler/remove [find where name=${quote(scheduled)}]`);
  const tables = [FILTER, MANGLE].filter((t) => ops.some((o) => o.table === t));
  for (const t of tables) L.push(`${t}/remove [find where comment~${quote(prefixRegex(`relay6:${site}:`))}]`);
  for (const o of [...ops].reverse()) L.push(...o.undo);
  for (const t of tables) {
    const items = firewallBefore.get(t) ?? [];
    items.forEach((x, i) => {
      if (tagKey(site, x.comment) === undefined) return;
      const next = items.slice(i + 1).find((y) => tagKey(site, y.comment) === undefined);
      L.push(`${t}/add ${restoreArgs(t, x).join(" ")}${next ? ` place-before=${next[".id"]}` : ""}`);
    });
  }
  L.push(`:put ${quote(`relay6: rolled back site ${site}`)}`);
  // The script removes its own /system/script entry last.
  if (scheduled) L.push(`/system/script/remove [find where name=${quote(scheduled)}]`);
  return L.join("\n") + "\n";
}

// ---------------------------------------------------------------------------- apply

/** The site's release against the router's: 7.22 matches any 7.22.x, 7.22.3 only itself. */
export function versionMatches(site: string, router: string): boolean {
  const s = parseRelease(site);
  const r = parseRelease(router);
  if (!s || !r) return false;
  const exact = /^\d+\.\d+\.\d+$/.test(site.trim());
  return s[0] === r[0] && s[1] === r[1] && (!exact || s[2] === r[2]);
}

export const rollbackName = (site: string) => `relay6-rollback-${site}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeOp(c: RouterChange): string {
  const vals = (o?: Record<string, string>) =>
    Object.entries(o ?? {})
      .filter(([k]) => k !== "comment")
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
  if (c.action === "create") return `+ ${c.menu} ${c.key}: ${vals(c.set)}${c.placeBefore ? ` (before ${c.placeBefore})` : ""}`;
  if (c.action === "remove") return `- ${c.menu} ${c.key} (${c.id}): ${vals(c.from)}`;
  if (c.action === "move") return `> ${c.menu} ${c.key} (${c.id}) before ${c.placeBefore}`;
  const from = c.from ?? {};
  return `~ ${c.menu} ${c.key} (${c.id}): ${Object.entries(c.set ?? {})
    .map(([k, v]) => `${k}: ${from[k] ?? "(unset)"} -> ${v}`)
    .join(", ")}`;
}

export function formatRouterChanges(changes: readonly RouterChange[]): string {
  return changes.length === 0 ? "no changes: the router already matches the plan" : changes.map(describeOp).join("\n");
}

export async function applyRouter(rest: RouterOsRest, plan: Plan, ctx: RenderContext, opts: ApplyRouterOptions): Promise<ApplyRouterResult> {
  const site = plan.site;
  const want = plan.router.version;
  const release: Release | undefined = want ? parseRelease(want) : undefined;
  if (!want || !release) throw new UserError("router.version is not set: the site file must name the router's RouterOS release");
  opts.log(`reading the router's version`);
  const have = await rest.version();
  if (!versionMatches(want, have))
    throw new UserError(`the router runs RouterOS ${have}, the site file says ${want} (router.version)`, [
      {
        code: "router-version-mismatch",
        severity: "error",
        path: "router.version",
        message: `relay6 renders per release; the plan for ${want} may not fit ${have}`,
        fix: `set router.version: "${formatRelease(parseRelease(have) ?? release)}" in the site file (or upgrade the router), then run again`,
      },
    ]);
  const caps = capabilitiesOf(release);
  const setup = setupSteps(plan, ctx, caps);
  if (setup.step1)
    throw new UserError("wireguard.keys: device needs the VPS's public key before the router can be set up", [
      {
        code: "router-vps-key-needed",
        severity: "error",
        path: "vps.publicKey",
        message: "the router's peer is the VPS; without its public key there is nothing to connect to",
        fix: "run `relay6 apply vps` first (it prints the VPS's public key), put it into vps.publicKey, then apply the router",
      },
    ]);
  const desired = desiredObjects(setup);

  opts.log(`reading ${managedMenus(caps).length} menus on RouterOS ${have}`);
  const state = await readRouterState(rest, caps);
  const schedName = rollbackName(site);
  const pending = (await rest.get("/system/scheduler")).filter((s) => s.name === schedName);
  const diff = diffRouter(site, desired, state, caps);
  const base = { site, router: rest.target.url, version: have, changes: diff.ops.map((o) => o.change) };
  const publicKey = async () => (await rest.get(WG)).find((i) => tagKey(site, i.comment) === "wg")?.["public-key"];

  if (pending.length > 0)
    throw new UserError(`a rollback of an earlier run is still scheduled on the router (/system/scheduler ${schedName})`, [
      {
        code: "router-rollback-pending",
        severity: "error",
        path: "",
        message: "an earlier `apply router --confirm` did not finish; its rollback will restore the state before that run",
        fix: `wait for it to fire, or remove /system/scheduler ${schedName} on the router if you want to keep that run's changes, then run again`,
      },
    ]);
  if (diff.problems.length > 0)
    throw new UserError(`the router cannot take the plan as it is; nothing changed:\n${diff.problems.map((p) => `  - ${p}`).join("\n")}`, [
      {
        code: "router-conflict",
        severity: "error",
        path: "",
        message: "objects in the way or interfaces missing (relay6 only touches objects tagged relay6:" + site + ":)",
        fix: "create the missing interfaces, remove or rename the hand-made objects (docs/targets/routeros.md, moving from a hand-made setup), then run again",
      },
    ]);
  if (opts.dryRun) return { ...base, outcome: "dry-run" };
  if (diff.ops.length === 0) {
    const key = await publicKey();
    return { ...base, outcome: "no-changes", ...(key ? { routerPublicKey: key } : {}) };
  }

  const confirm = opts.confirmSeconds;
  let schedulerId: string | undefined;
  let scheduledAt = Date.now();
  if (confirm !== undefined) {
    // The rollback lives in /system/script (the scheduler's on-event names it, as the
    // RouterOS manual documents on-event); it removes the scheduler entry first and itself last.
    const script = rollbackScript(site, diff.ops, diff.firewallBefore, schedName);
    for (const old of (await rest.get("/system/script")).filter((x) => x.name === schedName)) await rest.remove("/system/script", old[".id"]!);
    opts.log(`scheduling the rollback: /system/scheduler ${schedName} runs /system/script ${schedName} in ${confirm} s unless relay6 cancels it`);
    await rest.add("/system/script", { name: schedName, source: script, comment: `relay6: undoes apply router of site ${site}` });
    const entry = await rest.add("/system/scheduler", {
      name: schedName,
      interval: `${confirm}s`,
      "on-event": schedName,
      comment: `relay6: restores the router as it was before apply router of site ${site}, unless confirmed`,
    });
    schedulerId = entry[".id"];
    scheduledAt = Date.now();
  }
  const rollback = confirm !== undefined ? { scheduler: schedName, seconds: confirm, cancelled: false } : undefined;

  const total = diff.ops.length;
  let done = 0;
  try {
    for (const op of diff.ops) {
      done++;
      opts.log(`[${done}/${total}] ${describeOp(op.change)}`);
      await op.run(rest);
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    opts.log(`step ${done} of ${total} failed: ${why}`);
    if (e instanceof RestError) {
      // The router answered: undo at once.
      try {
        const script = rollbackScript(site, diff.ops.slice(0, done - 1), diff.firewallBefore, confirm !== undefined ? schedName : undefined);
        opts.log("running the rollback now");
        const r = await rest.command<{ ret?: string }>("/execute", { script, "as-string": "" });
        if (r?.ret && !/rolled back/.test(r.ret)) throw new Error(r.ret);
        return { ...base, outcome: "rolled-back", ...(rollback ? { rollback: { ...rollback, cancelled: true } } : {}), error: why };
      } catch (e2) {
        const why2 = e2 instanceof Error ? e2.message : String(e2);
        return { ...base, outcome: confirm !== undefined ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: `${why}; the rollback failed too: ${why2}` };
      }
    }
    // No answer: the router may be cut off from us.
    return { ...base, outcome: confirm !== undefined ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: why };
  }

  if (confirm === undefined) {
    const key = await publicKey();
    return { ...base, outcome: "applied", ...(key ? { routerPublicKey: key } : {}) };
  }

  // Confirm: the router must answer again, and (where the tunnel comes up) see the VPS.
  // The rollback fires `confirm` seconds after it was scheduled (router clock); relay6 stops
  // waiting a margin before that, so that its cancel arrives in time.
  const waitMs = opts.confirmWaitMs ?? Math.max(1000, confirm * 1000 - Math.min(10_000, (confirm * 1000) / 4));
  const poll = opts.pollMs ?? 2000;
  const deadline = (opts.confirmWaitMs !== undefined ? Date.now() : scheduledAt) + waitMs;
  let reached = false;
  let handshake = !!opts.skipHandshake;
  let lastError = "";
  opts.log(`checking that the router still answers${opts.skipHandshake ? "" : " and the tunnel has a handshake"} (up to ${Math.round(waitMs / 1000)} s)`);
  while (Date.now() < deadline) {
    try {
      await rest.version();
      reached = true;
      if (!handshake) {
        const peer = (await rest.get(PEERS)).find((p) => tagKey(site, p.comment) === "peer");
        const last = peer?.["last-handshake"];
        const ms = last ? durationMs(last) : undefined;
        if (ms !== undefined && ms < 180_000) handshake = true;
        else lastError = "no WireGuard handshake with the VPS yet";
      }
      if (handshake) break;
    } catch (e) {
      reached = false;
      lastError = e instanceof Error ? e.message : String(e);
    }
    await sleep(poll);
  }
  if (!reached || !handshake)
    return {
      ...base,
      outcome: "rollback-pending",
      ...(rollback ? { rollback } : {}),
      error: reached ? `${lastError}: is the VPS applied (relay6 apply vps)?` : `the router did not answer after the changes (${lastError})`,
    };
  try {
    await rest.remove("/system/scheduler", schedulerId!);
  } catch (e) {
    const fired = e instanceof RestError && e.status === 404;
    return {
      ...base,
      outcome: "rollback-pending",
      ...(rollback ? { rollback } : {}),
      error: fired ? "the rollback fired before relay6 could cancel it: the router is back to the state before this run" : `could not cancel the rollback: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  for (const x of (await rest.get("/system/script")).filter((y) => y.name === schedName)) await rest.remove("/system/script", x[".id"]!);
  opts.log(`confirmed: removed /system/scheduler ${schedName} and its script`);
  const key = await publicKey();
  return { ...base, outcome: "confirmed", rollback: { ...rollback!, cancelled: true }, ...(key ? { routerPublicKey: key } : {}) };
}

// ---------------------------------------------------------------------------- output

const SUCCESS: readonly RouterOutcome[] = ["dry-run", "no-changes", "applied", "confirmed"];

/** What apply router prints: the changes and the outcome; `site` when the router's key
 *  must go into the site file (keys: device). */
export function formatRouterResult(r: ApplyRouterResult, askKeyFor: string | undefined): string {
  const L: string[] = [`RouterOS ${r.version} at ${r.router}, site ${r.site}`, formatRouterChanges(r.changes)];
  const rb = r.rollback;
  switch (r.outcome) {
    case "dry-run":
      L.push("dry run: nothing changed");
      break;
    case "no-changes":
      break;
    case "applied":
      L.push(`applied ${r.changes.length} change${r.changes.length === 1 ? "" : "s"}`);
      break;
    case "confirmed":
      L.push(`applied ${r.changes.length} change${r.changes.length === 1 ? "" : "s"} and confirmed: the router answered, the rollback ${rb?.scheduler} is cancelled`);
      break;
    case "rolled-back":
      L.push(`FAILED: ${r.error}\nthe router was rolled back to the state before this run`);
      break;
    case "rollback-pending":
      L.push(`NOT CONFIRMED: ${r.error}\nthe rollback ${rb?.scheduler ?? ""} on the router restores the state before this run ${rb ? `${rb.seconds} s after it was scheduled` : ""}`);
      break;
    case "failed":
      L.push(`FAILED: ${r.error}\nthe router may be half-configured: run again (relay6 only touches its tagged objects), or import the undo script`);
      break;
  }
  if (r.routerPublicKey && askKeyFor) L.push(`the router made its own key: put router.publicKey: ${r.routerPublicKey} in ${askKeyFor}, then apply the VPS again`);
  else if (r.routerPublicKey) L.push(`router WireGuard public key: ${r.routerPublicKey}`);
  return L.join("\n");
}

export async function apply(req: ApplyRequest): Promise<ApplyReport> {
  if (!req.access.rest.url)
    throw new UserError("no router URL", [
      { code: "router-url", severity: "error", path: "", message: "relay6 needs the address of the router's REST API", fix: "pass --router-url https://<router's LAN address>, set RELAY6_ROUTER_URL, or put router.api.url in the site file" },
    ]);
  const rest = await openRest(req.access.rest, req.log);
  try {
    const result = await applyRouter(rest, req.plan, req.ctx, {
      dryRun: req.dryRun,
      ...(req.confirmSeconds !== undefined ? { confirmSeconds: req.confirmSeconds } : {}),
      skipHandshake: !!req.skipHandshake,
      log: req.log,
    });
    const askKeyFor = req.plan.wireguard.keys === "device" && !req.plan.router.publicKey ? req.site : undefined;
    return { text: formatRouterResult(result, askKeyFor), json: result, failed: !SUCCESS.includes(result.outcome) };
  } finally {
    rest.close();
  }
}
