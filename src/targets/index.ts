// The target registry: the one file that lists the targets. Adding a target = one folder
// under src/targets/ plus one line in TARGETS. Only src/pipeline.ts reads this file; it
// hands the pure core what it needs (platforms, defaults, the targets that render a plan).
import type { RouterPlatform } from "../site/platform.js";
import { linuxTarget } from "./linux/index.js";
import { routerosTarget } from "./routeros/index.js";
import type { RouterTarget, Target, VpsTarget } from "./types.js";
import { vpsTarget } from "./vps/index.js";

/** Order matters only for what users read (the schema's platform list, help texts). */
const TARGETS: readonly Target[] = [vpsTarget, routerosTarget, linuxTarget];

/** Targets the test suite added (registerTestTarget); empty in every real run. */
const testTargets: Target[] = [];

/**
 * Test suite only: adds a target until the returned function removes it again. The
 * target then parses, lints, renders and dispatches apply/verify like a real one; it never
 * appears in productionTargets(), so never in schema/site.schema.json.
 * @testonly
 */
export function registerTestTarget(target: Target): () => void {
  const platform = target.role === "router" ? target.platform.id : undefined;
  if (allTargets().some((t) => t.id === target.id || (platform !== undefined && t.role === "router" && t.platform.id === platform)))
    throw new Error(`internal: a target ${target.id} is registered already`);
  testTargets.push(target);
  return () => void testTargets.splice(testTargets.indexOf(target), 1);
}

/** The targets relay6 ships: what the JSON Schema and the docs describe. */
export function productionTargets(): readonly Target[] {
  return TARGETS;
}

/** Every registered target, test targets included. */
export function allTargets(): readonly Target[] {
  return [...TARGETS, ...testTargets];
}

/** The router platforms of these targets. */
export function platformsOf(targets: readonly Target[]): RouterPlatform[] {
  return routerTargets(targets).map((t) => t.platform);
}

/** The router targets among these. */
export function routerTargets(targets: readonly Target[]): RouterTarget[] {
  return targets.filter((t): t is RouterTarget => t.role === "router");
}

/** The VPS's target. */
export function vpsTargetOf(): VpsTarget {
  const t = allTargets().find((x): x is VpsTarget => x.role === "vps");
  if (!t) throw new Error("internal: no target for the VPS");
  return t;
}

/** The target of the router of this platform. */
export function routerTargetOf(platform: string): RouterTarget {
  const t = routerTargets(allTargets()).find((x) => x.platform.id === platform);
  if (!t) throw new Error(`internal: no target for router platform ${platform}`);
  return t;
}
