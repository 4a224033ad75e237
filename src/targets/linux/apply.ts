// relay6 apply router for platform: linux — the router end over SSH, the same steps as
// apply vps (src/apply/ssh.ts: state, diff, upload, the rendered router/setup.sh).
import { readAndDiff, sshReport, uploadAndRun, type FileChange, type ManagedFile } from "../../apply/ssh.js";
import { EXIT, UserError } from "../../errors.js";
import type { Plan } from "../../plan/plan.js";
import { connectSsh } from "../../remote/connect.js";
import type { SshSession } from "../../remote/ssh.js";
import type { Artifact } from "../../render/types.js";
import type { ApplyReport, ApplyRequest } from "../types.js";
import { LINUX_PATHS } from "./paths.js";

/** The files router/setup.sh installs: router/files/X → /X with its rendered mode, the
 *  key under router/secrets/ → /etc/wireguard/. */
function linuxRouterFiles(plan: Plan, artifacts: readonly Artifact[]): ManagedFile[] {
  const out: ManagedFile[] = [];
  const wg = plan.router.tunnelInterface;
  for (const a of artifacts) {
    if (a.path.startsWith("router/files/"))
      out.push({ dst: a.path.slice("router/files".length), content: a.content, mode: a.mode.toString(8), secret: false });
    else if (a.path === LINUX_PATHS.wgKey(wg)) out.push({ dst: `/etc/wireguard/${wg}.key`, content: a.content, mode: "600", secret: true });
  }
  return out;
}

interface ApplyLinuxRouterResult {
  host: string;
  hostKey: string;
  changes: FileChange[];
  outcome: "dry-run" | "no-changes" | "changed";
  routerPublicKey?: string;
}

async function applyLinuxRouter(
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

export async function apply(req: ApplyRequest): Promise<ApplyReport> {
  if (req.confirmSeconds !== undefined) throw new UserError("--confirm is for RouterOS; the linux router's setup.sh rolls back by itself when a step fails", [], EXIT.badInput, "leave out --confirm for a linux router");
  if (!req.access.ssh.host)
    throw new UserError("no SSH host for the linux router", [
      { code: "router-ssh-host", severity: "error", path: "", message: "a linux router is applied over SSH", fix: "pass --router-ssh <the router's address> (and --router-user, -i as needed)" },
    ]);
  const session = await connectSsh(req.access.ssh, req.log);
  try {
    const result = await applyLinuxRouter(session, req.plan, req.artifacts, { dryRun: req.dryRun, log: req.log });
    return sshReport(result, "router", result.routerPublicKey ? [`router WireGuard public key: ${result.routerPublicKey}`] : []);
  } finally {
    session.close();
  }
}
