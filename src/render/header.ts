import type { Plan } from "../plan/plan.js";
import { commentText } from "./quote.js";
import { MANAGED_MARK } from "./types.js";

/** The first lines of every file relay6 renders: what it is, that relay6 owns it. */
export function header(plan: Plan, comment: string, what: string): string[] {
  return [
    `${comment} ${MANAGED_MARK} for site ${commentText(plan.site)}. Re-render instead of editing.`,
    `${comment} ${commentText(what)}`,
  ];
}
