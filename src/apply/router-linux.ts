// relay6 apply router for platform: linux — the router end over SSH with the linux target:
// the same steps as apply vps (state, diff, upload, the rendered router/setup.sh).
import type { Plan } from "../plan/plan.js";
import type { Artifact } from "../render/types.js";
import type { SshSession } from "../remote/ssh.js";
import { readAndDiff, uploadAndRun, type FileChange, type ManagedFile } from "./vps.js";

/** The files router/setup.sh installs: router/files/X → /X with its rendered mode, the
 *  key under router/secrets/ → /etc/wireguard/. */
export function linuxRouterFiles(plan: Plan, artifacts: readonly Artifact[]): ManagedFile[] {
  const out: ManagedFile[] = [];
  for (const a of artifacts) {
    if (a.path.startsWith("router/files/"))
      out.push({ dst: a.path.slice("router/files".length), content: a.content, mode: a.mode.toString(8), secret: false });
    else if (a.path === `router/secrets/${plan.router.wgInterface}.key`)
      out.push({ dst: `/etc/wireguard/${plan.router.wgInterface}.key`, content: a.content, mode: "600", secret: true });
  }
  return out;
}

export interface ApplyLinuxRouterResult {
  host: string;
  hostKey: string;
  changes: FileChange[];
  outcome: "dry-run" | "no-changes" | "changed";
  routerPublicKey?: string;
}

export async function applyLinuxRouter(
  session: SshSession,
  plan: Plan,
  artifacts: readonly Artifact[],
  opts: { dryRun: boolean; log: (line: string) => void },
): Promise<ApplyLinuxRouterResult> {
  const base = await readAndDiff(session, linuxRouterFiles(plan, artifacts), opts.log);
  if (opts.dryRun) return { ...base, outcome: "dry-run" };
  const output = await uploadAndRun(session, artifacts, "router/", opts.log);
  const key = /router public key: (\S+)/.exec(output)?.[1];
  return { ...base, outcome: base.changes.every((c) => c.action === "unchanged") ? "no-changes" : "changed", ...(key ? { routerPublicKey: key } : {}) };
}
