// After a rollback: is the router back to the state before the run? relay6's objects of the
// site (and the RA entries of the plan's interfaces, which relay6 sets even when they are
// the user's) read again and compared with what the run read before it changed anything.
// What differs is what is left on the router; apply reports it instead of claiming a
// restore it did not check. Pure.
import type { RosObject } from "../../../remote/routeros-rest.js";
import { FILTER, MANGLE, ND, WG } from "../objects.js";
import type { Menu } from "../script.js";
import type { RouterState } from "./diff.js";
import { RESTORE_ARGS, SECRET, normValue, tagKey } from "./values.js";

/** What relay6 compares of an object: the args it manages, disabled and comment. */
function fields(menu: Menu, o: RosObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...(RESTORE_ARGS[menu] ?? []), "disabled", "comment"]) if (o[k] !== undefined && o[k] !== "") out[k] = normValue(o[k]!);
  return out;
}

const show = (menu: Menu, k: string, v: string | undefined) => (v === undefined ? "(none)" : menu === WG && k === "private-key" ? SECRET : v);

/** The differences between the router before the run and now, one line each; [] when it is
 *  as it was. `ndInterfaces`: the plan's RA interfaces. */
export function leftovers(site: string, ndInterfaces: readonly string[], before: RouterState, now: RouterState): string[] {
  const out: string[] = [];
  for (const [menu, was] of before.menus) {
    const is = now.menus.get(menu) ?? [];
    const keyOf = (o: RosObject): string | undefined => {
      const k = tagKey(site, o.comment);
      if (k !== undefined) return k;
      return menu === ND && ndInterfaces.includes(o.interface ?? "") ? `interface=${o.interface}` : undefined;
    };
    const group = (xs: RosObject[]) => {
      const m = new Map<string, RosObject[]>();
      for (const x of xs) {
        const k = keyOf(x);
        if (k !== undefined) m.set(k, [...(m.get(k) ?? []), x]);
      }
      return m;
    };
    const a = group(was);
    const b = group(is);
    for (const key of new Set([...a.keys(), ...b.keys()])) {
      const xs = a.get(key) ?? [];
      const ys = b.get(key) ?? [];
      for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
        const x = xs[i];
        const y = ys[i];
        if (!x) out.push(`+ ${menu} ${key}: not there before the run`);
        else if (!y) out.push(`- ${menu} ${key}: there before the run, gone now`);
        else {
          const fx = fields(menu, x);
          const fy = fields(menu, y);
          const diff = [...new Set([...Object.keys(fx), ...Object.keys(fy)])].filter((k) => fx[k] !== fy[k]);
          if (diff.length) out.push(`~ ${menu} ${key}: ${diff.map((k) => `${k} ${show(menu, k, fx[k])} before, ${show(menu, k, fy[k])} now`).join("; ")}`);
        }
      }
    }
    if (menu === FILTER || menu === MANGLE) {
      // Order: relay6's rules in the same sequence, each in front of the same rule of the user's.
      const order = (xs: RosObject[]) =>
        xs.flatMap((x, i) => {
          const k = tagKey(site, x.comment);
          return k === undefined ? [] : [`${k} before ${xs.slice(i + 1).find((y) => tagKey(site, y.comment) === undefined)?.[".id"] ?? "the end"}`];
        });
      if (JSON.stringify(order(was)) !== JSON.stringify(order(is))) out.push(`> ${menu}: relay6's rules are not where they were before the run`);
    }
  }
  return out;
}
