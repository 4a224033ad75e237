// The RA drain in apply router: what the .rsc decides at import time from the router's state
// (drain.ts's records), apply decides from the state it read.
//   - records: an /ipv6/nd entry on a segment interface that relay6 did not make gets a record
//     of its ra-lifetime, once (a record that exists is wanted as it is, so never updated);
//   - a record of an interface the plan no longer has sets the value back before it goes;
//   - the --confirm rollback ends by setting each entry's ra-lifetime to what it was before
//     the run (after the drain's new objects are gone): the drain may have changed it meanwhile.
import type { Plan } from "../../../plan/plan.js";
import type { RosObject, RouterOsRest } from "../../../remote/routeros-rest.js";
import { recordArgs, recordKey, recordSource, SCRIPT } from "../drain.js";
import { ND, segmentsByInterface, type DesiredObject } from "../objects.js";
import { quote } from "../quote.js";
import type { Menu } from "../script.js";

/** What this file reads of diff.ts's state and ops (kept structural: diff.ts imports this file). */
interface RouterState {
  menus: Map<Menu, RosObject[]>;
}
interface Op {
  run: (rest: RouterOsRest) => Promise<string | undefined>;
  undo: string[];
}
import { tagKey } from "./values.js";

const isOurs = (site: string, o: RosObject) => tagKey(site, o.comment)?.startsWith("nd:") ?? false;

/** The records the router should hold: the ones it has, and one for each entry relay6 did not
 *  make that has none yet (with its ra-lifetime now). */
export function recordObjects(plan: Plan, state: RouterState): DesiredObject[] {
  const site = plan.site;
  const nd = state.menus.get(ND) ?? [];
  const scripts = state.menus.get(SCRIPT) ?? [];
  const out: DesiredObject[] = [];
  for (const iface of segmentsByInterface(plan).keys()) {
    const key = recordKey(iface);
    const have = scripts.find((x) => tagKey(site, x.comment) === key);
    const entry = nd.find((x) => x.interface === iface);
    const a = recordArgs(site, iface);
    const source = have?.source ?? (entry && !isOurs(site, entry) ? recordSource(iface, entry["ra-lifetime"] ?? "30m") : undefined);
    if (source === undefined) continue;
    // A record that exists is wanted exactly as it is: never diffed, never updated.
    out.push({ menu: SCRIPT, key, args: [["name", have?.name ?? a.name], ["source", source], ["comment", have?.comment ?? a.comment]], identity: { by: "tag" }, secretArgs: [] });
  }
  return out;
}

/** A record being removed sets its interface's ra-lifetime back first. */
export function withRecordRestore<T extends Op>(op: T, menu: Menu, key: string, record: RosObject, state: RouterState): T {
  if (menu !== SCRIPT || !key.startsWith("ra:")) return op;
  const m = /interface="([^"]*)"\] ra-lifetime=(\S+)$/.exec(record.source ?? "");
  const entry = m ? (state.menus.get(ND) ?? []).find((x) => x.interface === m[1]) : undefined;
  if (!m || !entry?.[".id"]) return op;
  return {
    ...op,
    run: async (rest: RouterOsRest) => {
      await rest.set(ND, entry[".id"]!, { "ra-lifetime": m[2]! });
      return op.run(rest);
    },
    undo: [...op.undo, `${ND}/set [find where interface=${quote(m[1]!)}] ra-lifetime=${entry["ra-lifetime"] ?? "30m"}`],
  };
}

/** The rollback's last lines: every segment's /ipv6/nd entry that existed before the run gets
 *  its ra-lifetime back. */
export function ndRestoreLines(plan: Plan, state: RouterState): string[] {
  const nd = state.menus.get(ND) ?? [];
  return [...segmentsByInterface(plan).keys()].flatMap((iface) => {
    const e = nd.find((x) => x.interface === iface);
    return e?.["ra-lifetime"] ? [`${ND}/set [find where interface=${quote(iface)}] ra-lifetime=${e["ra-lifetime"]}`] : [];
  });
}
