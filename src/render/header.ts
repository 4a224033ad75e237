import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import { commentText } from "./quote.js";
import { MANAGED_MARK } from "./types.js";

/** The first lines of every file relay6 renders: what it is, that relay6 owns it. A file of
 *  the VPS names what it serves: the standalone site, or the relay. */
export function header(of: Plan | RelayPlan, comment: string, what: string): string[] {
  const owner = "sites" in of ? `${of.kind === "site" ? "site" : "relay"} ${commentText(of.relay)}` : `site ${commentText(of.site)}`;
  return [`${comment} ${MANAGED_MARK} for ${owner}. Re-render instead of editing.`, `${comment} ${commentText(what)}`];
}
