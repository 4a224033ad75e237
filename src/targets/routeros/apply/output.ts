// What apply router reports: its result (--json), and the same for people.
import type { RouterChange } from "./diff.js";

export type RouterOutcome =
  /** --dry-run: nothing sent but reads */
  | "dry-run"
  /** the router already matches the plan: nothing sent but reads */
  | "no-changes"
  /** changed (without --confirm) */
  | "applied"
  /** changed, router reached again, rollback cancelled */
  | "confirmed"
  /** a step failed (or the --confirm window ran out) and a rollback ran: the router is as
   *  before, read again and compared */
  | "rolled-back"
  /** the router stopped answering (or no handshake): the scheduled rollback will restore it */
  | "rollback-pending"
  /** a step failed and no rollback restored the router: state unknown, or `left` lists
   *  what differs from before the run */
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
  /** After a rollback that did not restore everything: what differs from the state before
   *  the run, read from the router (secrets as "(secret)"). */
  left?: string[];
  /** What the live router says the plan cannot count on (e.g. the RA's DNS cannot answer). */
  warnings?: string[];
}

export function describeOp(c: RouterChange): string {
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
    .map(([k, v]) => `${k}: ${from[k] ?? "(unset)"} -> ${v === "" ? "(unset)" : v}`)
    .join(", ")}`;
}

export function formatRouterChanges(changes: readonly RouterChange[]): string {
  return changes.length === 0 ? "no changes: the router already matches the plan" : changes.map(describeOp).join("\n");
}

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
      L.push(`FAILED: ${r.error}\nthe router is back to the state before this run (read again and compared)`);
      break;
    case "rollback-pending":
      L.push(`NOT CONFIRMED: ${r.error}\nthe rollback ${rb?.scheduler ?? ""} on the router restores the state before this run ${rb ? `${rb.seconds} s after it was scheduled` : ""}`);
      break;
    case "failed":
      if (r.left?.length) L.push(`FAILED: ${r.error}\nleft on the router (differs from before this run):\n${r.left.map((l) => `  ${l}`).join("\n")}\nrun apply again (relay6 only touches its tagged objects), or import the undo script`);
      else L.push(`FAILED: ${r.error}\nthe router may be half-configured: run again (relay6 only touches its tagged objects), or import the undo script`);
      break;
  }
  for (const w of r.warnings ?? []) L.push(`warning: ${w}`);
  if (r.routerPublicKey && askKeyFor) L.push(`the router made its own key: put router.publicKey: ${r.routerPublicKey} in ${askKeyFor}, then apply the VPS again`);
  else if (r.routerPublicKey) L.push(`router WireGuard public key: ${r.routerPublicKey}`);
  return L.join("\n");
}
