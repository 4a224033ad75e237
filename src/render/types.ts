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
