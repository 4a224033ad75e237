// The target registry: the one place that lists the targets. Adding a target = one
// folder under src/targets/ plus one line here.
import type { Plan } from "../plan/plan.js";
import type { Target } from "../render/types.js";
import { vpsTarget } from "./vps/index.js";
import { linuxTarget } from "./linux/index.js";
import { routerosTarget } from "./routeros/index.js";

export const TARGETS: readonly Target[] = [vpsTarget, linuxTarget, routerosTarget];

/** The targets that render a plan: the VPS plus the target of the router's platform. */
export function targetsFor(plan: Plan): Target[] {
  const router = TARGETS.find((t) => t.role === "router" && t.platform === plan.router.platform);
  return router ? [TARGETS.find((t) => t.id === "vps")!, router] : [TARGETS.find((t) => t.id === "vps")!];
}
