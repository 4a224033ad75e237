// The values of apply router: RouterOS values compared as REST answers them, relay6's tags
// read back, and the `find` and `add` text the rollback script is written in.
import type { RosObject } from "../../../remote/routeros-rest.js";
import { rosDurationMs } from "../duration.js";
import type { DesiredObject } from "../objects.js";
import { prefixRegex, quote, tag, value } from "../quote.js";
import type { Args, Cond, Menu } from "../script.js";

/** What a secret value is shown as, in the diff and in --json. */
export const SECRET = "(secret)";

/** Normalises a RouterOS value for comparison: REST answers yes/no as true/false,
 *  durations as RouterOS prints them (25s, 1m30s), and may add /128 to a single address. */
export function normValue(v: string): string {
  if (v === "true" || v === "yes") return "yes";
  if (v === "false" || v === "no") return "no";
  // A single address may come back with its host length (firewall dst-address).
  if (/^[0-9a-fA-F:]*:[0-9a-fA-F:.]*\/128$/.test(v)) return v.slice(0, -4).toLowerCase();
  if (/^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/.test(v)) return v.toLowerCase();
  const ms = rosDurationMs(v);
  return ms === undefined ? v : `${ms}ms`;
}

export const sameValue = (have: string | undefined, want: string): boolean => have !== undefined && normValue(have) === normValue(want);

/** A value as a script writes it (yes/no for booleans, quoted as needed). */
export const scriptValue = (v: string) => value(v === "true" ? "yes" : v === "false" ? "no" : v);

export function matches(o: RosObject, where: readonly Cond[]): boolean {
  return where.every((c) => {
    const p = o[c.prop] ?? "";
    if ("eq" in c) return p === c.eq;
    if ("num" in c) return p === String(c.num);
    if ("re" in c) return new RegExp(c.re).test(p);
    return !new RegExp(c.notRe).test(p);
  });
}

/** The REST paths are the menu paths: /ipv6/address. */
export const REST_PATH = (m: Menu) => m;

/** The args relay6 ever writes per menu: what a rollback re-adds of an object it removed. */
export const RESTORE_ARGS: Record<string, string[]> = {
  "/interface/wireguard": ["name", "listen-port", "mtu", "private-key"],
  "/interface/wireguard/peers": ["interface", "name", "public-key", "endpoint-address", "endpoint-port", "allowed-address", "persistent-keepalive"],
  "/ipv6/address": ["address", "interface", "advertise"],
  "/ipv6/nd": ["interface", "advertise-dns", "dns", "mtu", "managed-address-configuration", "other-configuration", "ra-lifetime"],
  "/ipv6/nd/prefix": ["interface", "prefix", "preferred-lifetime", "valid-lifetime", "autonomous", "on-link"],
  "/ipv6/nd/proxy": ["address", "interface"],
  "/ipv6/route": ["dst-address", "gateway", "check-gateway", "pref-src"],
  "/routing/bgp/instance": ["name", "as", "router-id"],
  "/routing/bgp/template": ["name", "as", "use-bfd"],
  "/routing/bgp/connection": ["name", "instance", "router-id", "templates", "as", "remote.address", "remote.as", "local.address", "local.role", "use-bfd", "afi", "address-families"],
  "/routing/bfd/configuration": ["interfaces", "min-rx", "min-tx", "multiplier"],
  "/ipv6/firewall/filter": ["chain", "action", "reject-with", "protocol", "connection-state", "src-address", "dst-address", "dst-port", "in-interface", "out-interface"],
  "/ipv6/firewall/mangle": ["chain", "action", "new-mss", "passthrough", "protocol", "tcp-flags", "tcp-mss", "in-interface", "out-interface"],
  "/system/script": ["name", "policy", "source"],
  "/tool/netwatch": ["name", "host", "type", "interval", "timeout", "test-script"],
  "/system/logging/action": ["name", "target", "script"],
  "/system/logging": ["topics", "action"],
};

export const argsObject = (args: Args): Record<string, string> => Object.fromEntries(args.map(([k, v]) => [k, String(v)]));
export const shown = (o: Record<string, string>, secret: readonly string[]) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, secret.includes(k) ? SECRET : v]));

export const findTag = (site: string, key: string) => `[find where comment~${quote(prefixRegex(tag(site, key)))}]`;

export function findOf(site: string, o: DesiredObject): string {
  return o.identity.by === "prop" ? `[find where ${o.identity.prop}=${quote(o.identity.value)}]` : findTag(site, o.key);
}

/** `[find ...]` of exactly this object as REST showed it: its comment and the values relay6
 *  manages that are not yes/no (how a script compares booleans is not shown anywhere) and
 *  not secret (a key never goes into a condition). */
export function findSame(menu: Menu, obj: RosObject): string {
  const conds = ["comment", ...(RESTORE_ARGS[menu] ?? [])]
    .filter((k) => k !== "private-key" && obj[k] !== undefined && obj[k] !== "" && obj[k] !== "true" && obj[k] !== "false")
    .map((k) => `${k}=${quote(obj[k]!)}`);
  return `[find where ${conds.join(" and ")}]`;
}

export function restoreArgs(menu: Menu, obj: RosObject): string[] {
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
