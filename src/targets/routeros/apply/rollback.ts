// The rollback of apply router: a RouterOS script that undoes a run's operations, run at once
// when a step fails or scheduled beforehand with --confirm (confirm.ts).
import type { RosObject } from "../../../remote/routeros-rest.js";
import { FILTER, MANGLE } from "../objects.js";
import { prefixRegex, quote } from "../quote.js";
import type { Menu } from "../script.js";
import type { Op } from "./diff.js";
import { restoreArgs, tagKey } from "./values.js";

/** The name of the scheduler entry and script that hold a site's pending rollback. */
export const rollbackName = (site: string) => `relay6-rollback-${site}`;

/** The rollback: a RouterOS script that undoes the ops (in reverse), restoring relay6's
 *  firewall rules of each touched table exactly as they were (order included). */
export function rollbackScript(site: string, ops: readonly Op[], firewallBefore: Map<Menu, RosObject[]>, scheduled?: string, after: readonly string[] = []): string {
  const L: string[] = [];
  // One run only: the scheduler entry goes first (a failing line cannot make it repeat).
  if (scheduled) L.push(`/system/scheduler/remove [find where name=${quote(scheduled)}]`);
  const tables = [FILTER, MANGLE].filter((t) => ops.some((o) => o.table === t));
  for (const t of tables) L.push(`${t}/remove [find where comment~${quote(prefixRegex(`relay6:${site}:`))}]`);
  for (const o of [...ops].reverse()) L.push(...o.undo);
  // Then what no op's undo covers: the RA drain's ra-lifetimes as they were (apply/drain.ts).
  L.push(...after);
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
