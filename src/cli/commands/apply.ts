// relay6 apply vps|router: change real machines, showing what will change first.
// The implementations are imported when a command runs, so that other commands start fast.
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import type { ApplyRouterResult } from "../../apply/router.js";
import type { FileChange } from "../../apply/vps.js";
import type { Plan } from "../../plan/plan.js";
import { renderPlan } from "../../render/render.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyse, secretsFor } from "./core.js";
import {
  addRouterRestOptions,
  addRouterSshOptions,
  addSshKeyOptions,
  addSshOptions,
  connectSsh,
  routerRest,
  routerSshTarget,
  sshTarget,
  type RouterRestFlags,
  type RouterSshFlags,
  type SshFlags,
} from "./remote-options.js";

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
    const { applyVps } = await import("../../apply/vps.js");
    const ctx = { secrets: secretsFor(plan, site, opts.secrets), version: VERSION };
    const artifacts = renderPlan(plan, ctx);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const session = await connectSsh(sshTarget(opts, plan.vps.ssh, log));
    try {
      const result = await applyVps(session, plan, ctx, artifacts, { dryRun: !!opts.dryRun, log });
      await printSshResult(result, "VPS", !!opts.json);
      if (!opts.json && result.vpsPublicKey && plan.wireguard.keys === "device" && !plan.vps.publicKey)
        process.stdout.write(`the VPS made its own key: put vps.publicKey: ${result.vpsPublicKey} in ${site}\n`);
    } finally {
      session.close();
    }
  });

  registerApplyRouter(apply);
}

interface RouterFlags extends RouterRestFlags, RouterSshFlags, SshFlags {
  dryRun?: boolean;
  confirm?: string;
  skipHandshake?: boolean;
  timeout?: string;
  secrets?: string;
  json?: boolean;
}

function registerApplyRouter(apply: Command): void {
  const cmd = apply
    .command("router")
    .description("Configure the router: RouterOS over its REST API (diff, then only relay6's tagged objects change); a Linux router over SSH")
    .argument("<site>", "site file (YAML)");
  addRouterRestOptions(cmd, "the router's REST base URL, e.g. https://192.168.88.1 (default: $RELAY6_ROUTER_URL, else router.api.url)");
  addSshKeyOptions(addRouterSshOptions(cmd, "root"));
  cmd
    .option("--dry-run", "show what would change, change nothing")
    .option("--confirm <seconds>", "schedule a rollback on the router first; cancel it only once the router answers again (and the tunnel has a handshake)")
    .option("--skip-handshake", "with --confirm: do not wait for the WireGuard handshake (e.g. the VPS is not up yet)")
    .option("--timeout <ms>", "per-request timeout in milliseconds (default 10000)")
    .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (site: string, opts: RouterFlags) => {
      const { loaded, plan, findings } = loadAndAnalyse(site);
      if (!plan || hasErrors(findings)) throw new UserError("the site file has lint errors: `relay6 lint` lists them; nothing applied", [], EXIT.findings);
      if (plan.router.platform === "linux") return linuxRouter(site, plan, opts);
      const confirm = opts.confirm === undefined ? undefined : Number(opts.confirm);
      if (confirm !== undefined && (!Number.isInteger(confirm) || confirm < 10 || confirm > 3600))
        throw new UserError(`--confirm ${opts.confirm}: give the rollback delay in whole seconds, 10 to 3600`);
      const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100)) throw new UserError(`--timeout ${opts.timeout}: milliseconds, at least 100`);
      const url = opts.routerUrl ?? process.env.RELAY6_ROUTER_URL ?? loaded.site.router.api?.url;
      if (!url)
        throw new UserError("no router URL", [
          { code: "router-url", severity: "error", path: "", message: "relay6 needs the address of the router's REST API", fix: "pass --router-url https://<router's LAN address>, set RELAY6_ROUTER_URL, or put router.api.url in the site file" },
        ]);
      const { applyRouter, formatRouterChanges } = await import("../../apply/router.js");
      const ctx = { secrets: secretsFor(plan, site, opts.secrets), version: VERSION };
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const rest = await routerRest(opts, url, log, timeoutMs);
      try {
        const result = await applyRouter(rest, plan, ctx, { dryRun: !!opts.dryRun, ...(confirm !== undefined ? { confirmSeconds: confirm } : {}), skipHandshake: !!opts.skipHandshake, log });
        printRouterResult(result, formatRouterChanges, plan.wireguard.keys === "device" && !plan.router.publicKey ? site : undefined, !!opts.json);
        if (!["dry-run", "no-changes", "applied", "confirmed"].includes(result.outcome)) process.exitCode = EXIT.findings;
      } finally {
        rest.close();
      }
    });
}

function printRouterResult(r: ApplyRouterResult, formatRouterChanges: (c: ApplyRouterResult["changes"]) => string, askKeyFor: string | undefined, json: boolean): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (json) {
    out(JSON.stringify(r, null, 2));
    return;
  }
  out(`RouterOS ${r.version} at ${r.router}, site ${r.site}`);
  out(formatRouterChanges(r.changes));
  const rb = r.rollback;
  switch (r.outcome) {
    case "dry-run":
      out("dry run: nothing changed");
      break;
    case "no-changes":
      break;
    case "applied":
      out(`applied ${r.changes.length} change${r.changes.length === 1 ? "" : "s"}`);
      break;
    case "confirmed":
      out(`applied ${r.changes.length} change${r.changes.length === 1 ? "" : "s"} and confirmed: the router answered, the rollback ${rb?.scheduler} is cancelled`);
      break;
    case "rolled-back":
      out(`FAILED: ${r.error}\nthe router was rolled back to the state before this run`);
      break;
    case "rollback-pending":
      out(`NOT CONFIRMED: ${r.error}\nthe rollback ${rb?.scheduler ?? ""} on the router restores the state before this run ${rb ? `${rb.seconds} s after it was scheduled` : ""}`);
      break;
    case "failed":
      out(`FAILED: ${r.error}\nthe router may be half-configured: run again (relay6 only touches its tagged objects), or import the undo script`);
      break;
  }
  if (r.routerPublicKey && askKeyFor) out(`the router made its own key: put router.publicKey: ${r.routerPublicKey} in ${askKeyFor}, then apply the VPS again`);
  else if (r.routerPublicKey) out(`router WireGuard public key: ${r.routerPublicKey}`);
}

/** platform: linux — the router end over SSH with the linux target (src/apply/router-linux.ts). */
async function linuxRouter(site: string, plan: Plan, opts: RouterFlags): Promise<void> {
  if (opts.confirm !== undefined) throw new UserError("--confirm is for RouterOS; the linux router's setup.sh rolls back by itself when a step fails");
  if (!opts.routerSsh)
    throw new UserError("no SSH host for the linux router", [
      { code: "router-ssh-host", severity: "error", path: "", message: "a linux router is applied over SSH", fix: "pass --router-ssh <the router's address> (and --router-user, -i as needed)" },
    ]);
  const { applyLinuxRouter } = await import("../../apply/router-linux.js");
  const ctx = { secrets: secretsFor(plan, site, opts.secrets), version: VERSION };
  const artifacts = renderPlan(plan, ctx);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const session = await connectSsh(routerSshTarget(opts, log));
  try {
    const result = await applyLinuxRouter(session, plan, artifacts, { dryRun: !!opts.dryRun, log });
    await printSshResult(result, "router", !!opts.json);
    if (!opts.json && result.routerPublicKey) process.stdout.write(`router WireGuard public key: ${result.routerPublicKey}\n`);
  } finally {
    session.close();
  }
}

/** What apply over SSH (the VPS, a Linux router) prints: JSON, or the diff and the outcome. */
async function printSshResult(result: { changes: FileChange[]; outcome: string; host: string }, what: string, json: boolean): Promise<void> {
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    return;
  }
  const { formatChanges } = await import("../../apply/vps.js");
  process.stdout.write(formatChanges(result.changes) + "\n");
  if (result.outcome === "dry-run") process.stdout.write(`dry run: nothing changed. setup.sh would also check packages, sysctl and the firewall rules.\n`);
  else if (result.outcome === "no-changes") process.stdout.write(`no changes: the ${what} already matches the plan\n`);
  else process.stdout.write(`applied to ${result.host}\n`);
}
