// The pipeline's pure end: a relay's plan and the targets that serve it → every artifact.
// Which targets those are is the caller's business (src/pipeline.ts asks the registry).
// A standalone site renders today's layout (vps/, router/, client/, plan.json); a relay
// renders vps/ once and each site under sites/<site>/ (router/, client/), and plan.json is
// the relay's plan: it names the relay and every site.
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import { renderClientSmoke } from "./checks.js";
import { siteContext, type Artifact, type RelayRenderContext, type RenderContext } from "./types.js";

/** What renders the VPS's files for a relay: the VPS target. */
interface RelayRenderer {
  render(relay: RelayPlan, ctx: RelayRenderContext): Artifact[];
}

/** What renders one site's router files: its platform's target. */
interface SiteRenderer {
  render(plan: Plan, ctx: RenderContext): Artifact[];
}

/** Where a site's files go in the render output ("" for a standalone site). */
export function siteDir(relay: Pick<RelayPlan, "kind">, site: string): string {
  return relay.kind === "site" ? "" : `sites/${site}/`;
}

export function renderRelay(relay: RelayPlan, ctx: RelayRenderContext, vps: RelayRenderer, routerOf: (plan: Plan) => SiteRenderer): Artifact[] {
  const artifacts = [...vps.render(relay, ctx)];
  for (const plan of relay.sites) {
    const dir = siteDir(relay, plan.site);
    for (const a of routerOf(plan).render(plan, siteContext(ctx, plan.site))) artifacts.push({ ...a, path: `${dir}${a.path}` });
    artifacts.push({ path: `${dir}client/smoke-test.sh`, content: renderClientSmoke(plan), mode: 0o755 });
  }
  const json = relay.kind === "site" ? relay.sites[0] : relay;
  artifacts.push({ path: "plan.json", content: JSON.stringify(json, null, 2) + "\n", mode: 0o644 });
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (seen.has(a.path)) throw new Error(`internal: two targets render ${a.path}`);
    seen.add(a.path);
  }
  return artifacts.sort((a, b) => a.path.localeCompare(b.path));
}
