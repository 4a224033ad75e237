// What renderers produce and what they are given. The targets (src/targets/<id>/) are the
// renderers; their contract as a whole is src/targets/types.ts.

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

export const MANAGED_MARK = "managed by relay6";

/** The keys of a relay's render: the VPS's, and each site's router's (by site name). */
export interface RelaySecrets {
  vpsPrivateKey?: string;
  routers: Record<string, string | undefined>;
}

/** What the VPS target renders a whole relay with. */
export interface RelayRenderContext {
  secrets: RelaySecrets;
  version: string;
}

/** One site's share of a relay's render context: what its router target is given. */
export function siteContext(ctx: RelayRenderContext, site: string): RenderContext {
  const router = ctx.secrets.routers[site];
  return {
    secrets: { ...(ctx.secrets.vpsPrivateKey ? { vpsPrivateKey: ctx.secrets.vpsPrivateKey } : {}), ...(router ? { routerPrivateKey: router } : {}) },
    version: ctx.version,
  };
}
