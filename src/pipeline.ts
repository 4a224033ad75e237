// The entry point above the targets. The pure core (site schema, plan, lint, render) never
// imports the registry: it takes the router platforms and the targets as arguments, and
// this file passes them in from src/targets/index.ts. CLI commands, the lab and doctor
// call these functions, never the core's directly.
//
// Every command's input is a relay (src/site/relay.ts): a relay file, or a standalone site
// file as the relay of one. loadInput → analyseInput (RelayPlan + findings) → renderInput.
import type { DoctorSupport, LoadedRouterDoctor } from "./doctor/router.js";
import { hasErrors, type Diagnostic } from "./errors.js";
import { checkSite as lintSite, lintPlan } from "./lint/lint.js";
import { checkRelay, lintRelayPlan, lintTransfer } from "./lint/relay.js";
import { buildPlan as planOf, type Plan } from "./plan/plan.js";
import { buildRelayPlan, relayPlanOf, type RelayPlan } from "./plan/relay.js";
import { renderRelay, siteDir } from "./render/render.js";
import type { Artifact, RelayRenderContext, RenderContext } from "./render/types.js";
import { siteJsonSchema as jsonSchemaOf } from "./site/json-schema.js";
import { loadSiteFile, parseSite as parseWith, type LoadedSite, type YamlPath } from "./site/load.js";
import type { RouterPlatform } from "./site/platform.js";
import { loadInputFile, relayOfSite, type InputSchemas, type LoadedInput } from "./site/relay.js";
import { relaySchema, relaySiteSchema, siteSchema, type SiteFile } from "./site/schema.js";
import { allTargets, platformsOf, productionTargets, routerTargetOf, routerTargets, vpsTargetOf } from "./targets/index.js";
import type { RouterTarget, VpsTarget } from "./targets/types.js";

/** Every router platform relay6 knows (test targets included while registered). */
export function routerPlatforms(): RouterPlatform[] {
  return platformsOf(allTargets());
}

export function platformOf(id: string): RouterPlatform {
  const p = routerPlatforms().find((x) => x.id === id);
  if (!p) throw new Error(`internal: unknown router platform ${id}`);
  return p;
}

const schemas = new Map<string, InputSchemas>();
function schemasFor(platforms: readonly RouterPlatform[]): InputSchemas {
  const key = JSON.stringify(platforms, (_k, v: unknown) => (v instanceof RegExp ? v.source : v));
  let s = schemas.get(key);
  if (!s) schemas.set(key, (s = { site: siteSchema(platforms), relaySite: relaySiteSchema(platforms), relay: relaySchema() }));
  return s;
}

export function loadSite(file: string): LoadedSite {
  return loadSiteFile(file, schemasFor(routerPlatforms()).site);
}

export function parseSite(text: string, file: string): LoadedSite {
  return parseWith(text, file, schemasFor(routerPlatforms()).site);
}

/** A site file or a relay file (with the site files it lists). */
export function loadInput(file: string): LoadedInput {
  return loadInputFile(file, schemasFor(routerPlatforms()));
}

/** schema/site.schema.json: the production targets only, whatever a test registered. */
export function siteJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(schemasFor(platformsOf(productionTargets())).site);
}

export function checkSite(site: SiteFile, file?: string, locate?: LoadedSite["locate"]): Diagnostic[] {
  return lintSite(site, platformOf(site.router.platform), file, locate);
}

/** Call only on a site checkSite found free of errors.
 *  @testonly */
export function buildPlan(site: SiteFile): Plan {
  return planOf(site, platformOf(site.router.platform));
}

/** The VPS's target and each site's router target. */
export function vpsTarget(): VpsTarget {
  return vpsTargetOf();
}

export function routerTarget(plan: Plan): RouterTarget {
  return routerTargetOf(plan.router.platform);
}

export interface Analysis {
  plan?: Plan;
  findings: Diagnostic[];
}

export interface InputAnalysis {
  relay?: RelayPlan;
  findings: Diagnostic[];
}

/** A target's finding, located in `doc` by its YAML path. */
function locatedIn(d: Diagnostic, doc: { file: string; locate: (p: YamlPath) => { line: number; col: number } }, site?: string): Diagnostic {
  const at = d.path ? doc.locate(d.path.split(/\.|\[(\d+)\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))) : undefined;
  return { ...d, file: doc.file, ...(at ?? {}), ...(site ? { site } : {}) };
}

/** Lint the input, build the relay's plan if lint allows, lint the plan and the targets'
 *  limits. A standalone site is linted as it always was (its keys, its file's paths). */
export function analyseInput(loaded: LoadedInput): InputAnalysis {
  const solo = loaded.standalone;
  const findings = solo
    ? checkSite(solo.site, solo.file, solo.locate)
    : checkRelay(loaded.input, { relay: loaded.relayDoc, sites: loaded.siteDocs }, (id) => platformOf(id));
  if (hasErrors(findings)) return { findings };
  const relay = buildRelayPlan(loaded.input, platformOf);
  if (solo) findings.push(...lintPlan(relay.sites[0]!, solo.file, solo.locate));
  else findings.push(...lintRelayPlan(relay, { relay: loaded.relayDoc, sites: loaded.siteDocs }));
  findings.push(...lintTransfer(relay, loaded.relayDoc));
  for (const d of vpsTargetOf().check(relay)) findings.push(locatedIn(d, loaded.relayDoc));
  relay.sites.forEach((plan, i) => {
    for (const d of routerTarget(plan).check(plan)) findings.push(locatedIn(d, loaded.siteDocs[i]!, solo ? undefined : plan.site));
  });
  return { relay, findings };
}

/** A relay's plan from an input that lint found free of errors (the lab's variants of it). */
export function planInput(input: LoadedInput["input"]): RelayPlan {
  return buildRelayPlan(input, platformOf);
}

/** A standalone site: lint, plan (its one site's), findings. */
export function analyse(loaded: LoadedSite): Analysis {
  const at = { file: loaded.file, locate: loaded.locate, given: loaded.given };
  const { relay, findings } = analyseInput({ kind: "site", file: loaded.file, input: relayOfSite(loaded.site), relayDoc: at, siteDocs: [at], standalone: loaded });
  return { ...(relay ? { plan: relay.sites[0]! } : {}), findings };
}

export function renderInput(relay: RelayPlan, ctx: RelayRenderContext): Artifact[] {
  return renderRelay(relay, ctx, vpsTargetOf(), routerTarget);
}

/** Where a site's files are in the render output: "" (a standalone site) or sites/<site>/. */
export function siteOutputDir(relay: Pick<RelayPlan, "kind">, site: string): string {
  return siteDir(relay, site);
}

/** A standalone site's plan, rendered (the relay of that one site). */
export function renderPlan(plan: Plan, ctx: RenderContext): Artifact[] {
  const { vpsPrivateKey, routerPrivateKey } = ctx.secrets;
  return renderInput(relayPlanOf("site", plan.site, plan.prefix, [plan]), {
    secrets: { ...(vpsPrivateKey ? { vpsPrivateKey } : {}), routers: { [plan.site]: routerPrivateKey } },
    version: ctx.version,
  });
}

/** The router platforms whose files the lab's Linux router node runs. */
export function labPlatforms(): string[] {
  return routerTargets(allTargets()).flatMap((t) => (t.labRouter ? [t.platform.id] : []));
}

/** The router platforms doctor can read, with what they declare (nothing is loaded). */
export function doctorPlatforms(): { platform: RouterPlatform; support: DoctorSupport }[] {
  return routerTargets(allTargets()).flatMap((t) => (t.doctor ? [{ platform: t.platform, support: t.doctor }] : []));
}

/** Their doctor modules, loaded. */
export async function routerDoctors(): Promise<LoadedRouterDoctor[]> {
  return Promise.all(doctorPlatforms().map(async (d) => ({ platform: d.platform.id, support: d.support, doctor: await d.support.load() })));
}
