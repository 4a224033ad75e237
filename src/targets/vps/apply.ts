// relay6 apply vps: the rendered VPS end onto a live VPS over SSH (src/apply/ssh.ts: state,
// diff, upload, the rendered setup.sh with its live reloads and rollback).
import { readAndDiff, sshReport, uploadAndRun, type FileChange } from "../../apply/ssh.js";
import type { Plan } from "../../plan/plan.js";
import { connectSsh } from "../../remote/connect.js";
import type { SshSession } from "../../remote/ssh.js";
import type { Artifact, RenderContext } from "../../render/types.js";
import type { ApplyReport, ApplyRequest } from "../types.js";
import { vpsFiles } from "./files.js";

interface ApplyVpsResult {
  host: string;
  hostKey: string;
  changes: FileChange[];
  applied: boolean;
  /** What setup.sh said: "no changes" or "done". */
  outcome: "dry-run" | "no-changes" | "changed";
  vpsPublicKey?: string;
}

async function applyVps(
  session: SshSession,
  plan: Plan,
  ctx: RenderContext,
  artifacts: readonly Artifact[],
  opts: { dryRun: boolean; log: (line: string) => void },
): Promise<ApplyVpsResult> {
  const base = await readAndDiff(session, vpsFiles(plan, ctx), opts.log);
  if (opts.dryRun) return { ...base, applied: false, outcome: "dry-run" };

  const output = await uploadAndRun(session, artifacts, "vps/", opts.log);
  const key = /VPS WireGuard public key: (\S+)/.exec(output)?.[1];
  return {
    ...base,
    applied: true,
    outcome: output.includes("no changes: the VPS already matches the plan") ? "no-changes" : "changed",
    ...(key ? { vpsPublicKey: key } : {}),
  };
}

export async function apply(req: ApplyRequest): Promise<ApplyReport> {
  const session = await connectSsh(req.access.ssh, req.log);
  // No warning when ssh reached the VPS on another port than vps.ssh.port: firewall.sh
  // keeps open the ports sshd listens on (sshd -T) and the port of this very session.
  try {
    const result = await applyVps(session, req.plan, req.ctx, req.artifacts, { dryRun: req.dryRun, log: req.log });
    const askKey = result.vpsPublicKey && req.plan.wireguard.keys === "device" && !req.plan.vps.publicKey;
    return sshReport(result, "VPS", askKey ? [`the VPS made its own key: put vps.publicKey: ${result.vpsPublicKey} in ${req.site}`] : []);
  } finally {
    session.close();
  }
}
