// The pipeline's pure middle: a checked site → plan → every artifact of every target.
import { hasErrors, type Diagnostic } from "../errors.js";
import { checkSite, lintPlan } from "../lint/lint.js";
import { buildPlan, type Plan } from "../plan/plan.js";
import type { LoadedSite } from "../site/load.js";
import { targetsFor } from "../targets/index.js";
import { renderClientSmoke } from "./checks.js";
import type { Artifact, RenderContext } from "./types.js";

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
  for (const t of targetsFor(plan))
    for (const d of t.check(plan)) {
      const at = d.path ? loaded.locate(d.path.split(/\.|\[(\d+)\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))) : undefined;
      findings.push({ ...d, file: loaded.file, ...(at ?? {}) });
    }
  return { plan, findings };
}

export function renderPlan(plan: Plan, ctx: RenderContext): Artifact[] {
  const artifacts = targetsFor(plan).flatMap((t) => t.render(plan, ctx));
  artifacts.push({ path: "client/smoke-test.sh", content: renderClientSmoke(plan), mode: 0o755 });
  artifacts.push({ path: "plan.json", content: JSON.stringify(plan, null, 2) + "\n", mode: 0o644 });
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (seen.has(a.path)) throw new Error(`internal: two targets render ${a.path}`);
    seen.add(a.path);
  }
  return artifacts.sort((a, b) => a.path.localeCompare(b.path));
}
