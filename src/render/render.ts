// The pipeline's pure end: a plan and the targets that serve it → every artifact. Which
// targets those are is the caller's business (src/pipeline.ts asks the registry).
import type { Plan } from "../plan/plan.js";
import { renderClientSmoke } from "./checks.js";
import type { Artifact, RenderContext } from "./types.js";

/** Anything that renders files for a plan: the targets. */
interface Renderer {
  render(plan: Plan, ctx: RenderContext): Artifact[];
}

export function renderPlan(plan: Plan, ctx: RenderContext, targets: readonly Renderer[]): Artifact[] {
  const artifacts = targets.flatMap((t) => t.render(plan, ctx));
  artifacts.push({ path: "client/smoke-test.sh", content: renderClientSmoke(plan), mode: 0o755 });
  artifacts.push({ path: "plan.json", content: JSON.stringify(plan, null, 2) + "\n", mode: 0o644 });
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (seen.has(a.path)) throw new Error(`internal: two targets render ${a.path}`);
    seen.add(a.path);
  }
  return artifacts.sort((a, b) => a.path.localeCompare(b.path));
}
