// The contract between the plan and the targets. A target is one folder under
// src/targets/<id>/ exporting a `Target`; the registry (src/targets/index.ts) is the only
// other place that names it.
import type { Diagnostic } from "../errors.js";
import type { Plan } from "../plan/plan.js";

/** One rendered file. Renderers return these; only io/write.ts writes them. */
export interface Artifact {
  /** Relative to the render output directory, e.g. `vps/files/etc/wireguard/wg0.conf`. */
  path: string;
  content: string;
  /** Unix mode: 0o600 for secrets, 0o755 for scripts, 0o644 otherwise. */
  mode: number;
}

/** Private material a renderer may need; never part of the plan, never printed. */
export interface Secrets {
  vpsPrivateKey?: string;
  routerPrivateKey?: string;
}

export interface RenderContext {
  secrets: Secrets;
  /** relay6 version, for the "managed by relay6" headers. */
  version: string;
}

export interface Target {
  /** Folder name and the value users see: "vps", "routeros", "linux". */
  id: string;
  role: "vps" | "router";
  /** Router platform value in the site file this target serves (routers only). */
  platform?: "routeros" | "linux";
  /** What this target cannot do for this plan (e.g. a RouterOS version without a feature). */
  check(plan: Plan): Diagnostic[];
  /** Pure: the plan in, files out. */
  render(plan: Plan, ctx: RenderContext): Artifact[];
}

export const MANAGED_MARK = "managed by relay6";
