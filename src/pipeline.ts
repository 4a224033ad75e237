// The entry point above the targets. The pure core (site schema, plan, lint, render) never
// imports the registry: it takes the router platforms and the targets as arguments, and
// this file passes them in from src/targets/index.ts. CLI commands, the lab and doctor
// call these functions, never the core's directly.
import type { DoctorSupport, LoadedRouterDoctor } from "./doctor/router.js";
import { hasErrors, type Diagnostic } from "./errors.js";
import { checkSite as lintSite, lintPlan } from "./lint/lint.js";
import { buildPlan as planOf, type Plan } from "./plan/plan.js";
import { renderPlan as renderWith } from "./render/render.js";
import type { Artifact, RenderContext } from "./render/types.js";
import { siteJsonSchema as jsonSchemaOf } from "./site/json-schema.js";
import { loadSiteFile, parseSite as parseWith, type LoadedSite } from "./site/load.js";
import type { RouterPlatform } from "./site/platform.js";
import { siteSchema, type SiteFile, type SiteSchema } from "./site/schema.js";
import { allTargets, platformsOf, productionTargets, targetOf } from "./targets/index.js";
import type { Target } from "./targets/types.js";

/** Every router platform relay6 knows (test targets included while registered). */
export function routerPlatforms(): RouterPlatform[] {
  return platformsOf(allTargets());
}

export function platformOf(id: string): RouterPlatform {
  const p = routerPlatforms().find((x) => x.id === id);
  if (!p) throw new Error(`internal: unknown router platform ${id}`);
  return p;
}

const schemas = new Map<string, SiteSchema>();
function schemaFor(platforms: readonly RouterPlatform[]): SiteSchema {
  const key = JSON.stringify(platforms, (_k, v: unknown) => (v instanceof RegExp ? v.source : v));
  let s = schemas.get(key);
  if (!s) schemas.set(key, (s = siteSchema(platforms)));
  return s;
}

export function loadSite(file: string): LoadedSite {
  return loadSiteFile(file, schemaFor(routerPlatforms()));
}

export function parseSite(text: string, file: string): LoadedSite {
  return parseWith(text, file, schemaFor(routerPlatforms()));
}

/** schema/site.schema.json: the production targets only, whatever a test registered. */
export function siteJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(schemaFor(platformsOf(productionTargets())));
}

export function checkSite(site: SiteFile, file?: string, locate?: LoadedSite["locate"]): Diagnostic[] {
  return lintSite(site, platformOf(site.router.platform), file, locate);
}

/** Call only on a site checkSite found free of errors. */
export function buildPlan(site: SiteFile): Plan {
  return planOf(site, platformOf(site.router.platform));
}

/** The targets that serve a plan: the VPS's, then the router's. */
export function targetsFor(plan: Plan): { vps: Target; router: Target } {
  return { vps: targetOf("vps"), router: targetOf({ platform: plan.router.platform }) };
}

export interface Analysis {
  plan?: Plan;
  findings: Diagnostic[];
}

/** Lint the site, build the plan if lint allows, lint the plan and the targets' limits. */
export function analyse(loaded: LoadedSite): Analysis {
  const findings = checkSite(loaded.site, loaded.file, loaded.locate);
  if (hasErrors(findings)) return { findings };
  const plan = buildPlan(loaded.site);
  findings.push(...lintPlan(plan, loaded.file, loaded.locate));
  const { vps, router } = targetsFor(plan);
  for (const t of [vps, router])
    for (const d of t.check(plan)) {
      const at = d.path ? loaded.locate(d.path.split(/\.|\[(\d+)\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))) : undefined;
      findings.push({ ...d, file: loaded.file, ...(at ?? {}) });
    }
  return { plan, findings };
}

export function renderPlan(plan: Plan, ctx: RenderContext): Artifact[] {
  const { vps, router } = targetsFor(plan);
  return renderWith(plan, ctx, [vps, router]);
}

/** The router platforms whose files the lab's Linux router node runs. */
export function labPlatforms(): string[] {
  return allTargets().flatMap((t) => (t.labRouter && t.platform ? [t.platform.id] : []));
}

/** The router platforms doctor can read, with what they declare (nothing is loaded). */
export function doctorPlatforms(): { platform: RouterPlatform; support: DoctorSupport }[] {
  return allTargets().flatMap((t) => (t.doctor && t.platform ? [{ platform: t.platform, support: t.doctor }] : []));
}

/** Their doctor modules, loaded. */
export async function routerDoctors(): Promise<LoadedRouterDoctor[]> {
  return Promise.all(doctorPlatforms().map(async (d) => ({ platform: d.platform.id, support: d.support, doctor: await d.support.load() })));
}
