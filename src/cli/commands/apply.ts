// relay6 apply vps|router: change real machines, showing what will change first.
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import { applyVps, formatChanges } from "../../apply/vps.js";
import { SshSession } from "../../remote/ssh.js";
import { renderPlan } from "../../render/render.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyse, secretsFor } from "./core.js";

export interface SshFlags {
  host?: string;
  port?: string;
  user?: string;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
}

export function addSshOptions(cmd: Command): Command {
  return cmd
    .option("--host <host>", "SSH host (default: vps.ssh.host, else vps.endpoint)")
    .option("--port <port>", "SSH port (default: vps.ssh.port)")
    .option("--user <user>", "SSH user (default: vps.ssh.user)")
    .option("-i, --identity <file>", "SSH private key (default: ssh-agent, ~/.ssh/id_*)")
    .option("--known-hosts <file>", "known_hosts file (default: ~/.ssh/known_hosts)")
    .option("--accept-new-host-key", "trust and record the host key on first contact (never a changed one)");
}

export function registerApply(program: Command): void {
  const apply = program.command("apply").description("Apply the plan to the live VPS or router");
  addSshOptions(
    apply
      .command("vps")
      .description("Configure the VPS over SSH: diff, then setup.sh (live reloads, rollback on failure)")
      .argument("<site>", "site file (YAML)")
      .option("--dry-run", "show what would change, change nothing")
      .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
      .option("--json", "print the result as JSON (progress goes to stderr)"),
  ).action(async (site: string, opts: SshFlags & { dryRun?: boolean; secrets?: string; json?: boolean }) => {
    const { plan, findings } = loadAndAnalyse(site);
    if (!plan || hasErrors(findings)) throw new UserError("the site file has lint errors: `relay6 lint` lists them; nothing applied", [], EXIT.findings);
    const ctx = { secrets: secretsFor(plan, site, opts.secrets), version: VERSION };
    const artifacts = renderPlan(plan, ctx);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const port = opts.port !== undefined ? Number(opts.port) : plan.vps.ssh.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`--port ${opts.port}: not a port number`);
    const session = await SshSession.connect({
      host: opts.host ?? plan.vps.ssh.host,
      port,
      user: opts.user ?? plan.vps.ssh.user,
      ...(opts.identity ? { identityFile: opts.identity } : {}),
      ...(opts.knownHosts ? { knownHostsFile: opts.knownHosts } : {}),
      acceptNewHostKey: !!opts.acceptNewHostKey,
      log,
    });
    try {
      log(`connected to ${session.target.user}@${session.target.host} (host key ${session.hostKeyFingerprint})`);
      const result = await applyVps(session, plan, ctx, artifacts, { dryRun: !!opts.dryRun, log });
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + "\n");
        return;
      }
      process.stdout.write(formatChanges(result.changes) + "\n");
      if (result.outcome === "dry-run") process.stdout.write("dry run: nothing changed. setup.sh would also check packages, sysctl and the firewall rules.\n");
      else if (result.outcome === "no-changes") process.stdout.write("no changes: the VPS already matches the plan\n");
      else process.stdout.write(`applied to ${result.host}\n`);
      if (result.vpsPublicKey && plan.wireguard.keys === "device" && !plan.vps.publicKey)
        process.stdout.write(`the VPS made its own key: put vps.publicKey: ${result.vpsPublicKey} in ${site}\n`);
    } finally {
      session.close();
    }
  });
}
