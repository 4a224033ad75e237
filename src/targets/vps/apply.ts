// relay6 apply vps: the rendered VPS end onto a live VPS over SSH (src/apply/ssh.ts: state,
// diff, upload, the rendered setup.sh with its live reloads and rollback).
import { readAndDiff, sshReport, uploadAndRun, type FileChange } from "../../apply/ssh.js";
import type { RelayPlan } from "../../plan/relay.js";
import { connectSsh } from "../../remote/connect.js";
import type { SshSession } from "../../remote/ssh.js";
import type { Artifact, RelayRenderContext } from "../../render/types.js";
import type { ApplyReport, VpsApplyRequest } from "../types.js";
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
  plan: RelayPlan,
  ctx: RelayRenderContext,
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

export async function apply(req: VpsApplyRequest): Promise<ApplyReport> {
  const session = await connectSsh(req.access.ssh, req.log);
  // No warning when ssh reached the VPS on another port than vps.ssh.port: firewall.sh
  // keeps open the ports sshd listens on (sshd -T) and the port of this very session.
  try {
    const result = await applyVps(session, req.relay, req.ctx, req.artifacts, { dryRun: req.dryRun, log: req.log });
    const askKey = result.vpsPublicKey && req.relay.wireguard.keys === "device" && !req.relay.vps.publicKey;
    return sshReport(result, "VPS", askKey ? [`the VPS made its own key: put vps.publicKey: ${result.vpsPublicKey} in ${req.input}`] : []);
  } finally {
    session.close();
  }
}
