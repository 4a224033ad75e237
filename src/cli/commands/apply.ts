// relay6 apply vps|router: change real machines, showing what will change first. Each
// end's target does the work (src/targets/<id>/apply.ts, loaded when the command runs);
// this file turns flags into a request and prints the report.
// A relay: apply vps configures the whole relay (every site's peer, session and rules);
// apply router configures one site's router (--site NAME when the relay has several).
import type { Command } from "commander";
import { EXIT, UserError } from "../../errors.js";
import { platformOf, renderInput, routerTarget, vpsTarget } from "../../pipeline.js";
import { siteContext } from "../../render/types.js";
import type { ApplyReport, ApplyRequest } from "../../targets/types.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyseInput, relaySecretsFor, requirePlan, requireSite, siteArtifacts } from "./input.js";
import { addRouterOptions, addVpsSshOptions, routerAccess, siteSsh, vpsAccess, type AccessFlags } from "./remote-options.js";

interface ApplyFlags extends AccessFlags {
  dryRun?: boolean;
  confirm?: string;
  skipHandshake?: boolean;
  timeout?: string;
  runTimeout?: string;
  secrets?: string;
  site?: string;
  json?: boolean;
}

const SECRETS_HELP = "secrets file of a site; for a relay the directory with relay.secrets.yaml and sites/<site>.secrets.yaml (default: beside each file)";

const log = (line: string) => process.stderr.write(`${line}\n`);

export function registerApply(program: Command): void {
  const apply = program.command("apply").description("Apply the plan to the live VPS or router");
  addVpsSshOptions(
    apply
      .command("vps")
      .description("Configure the VPS over SSH: diff, then setup.sh (live reloads, rollback on failure); a relay: every site's peer, session and rules")
      .argument("<input>", "site file or relay file (YAML)")
      .option("--dry-run", "show what would change, change nothing")
      .option("--secrets <path>", SECRETS_HELP)
      .option("--json", "print the result as JSON (progress goes to stderr)"),
    "host",
  ).action((site: string, opts: ApplyFlags) => run("vps", site, opts));

  const router = apply
    .command("router")
    .description("Configure the router with its platform's target: RouterOS over its REST API (diff, then only relay6's tagged objects change); a Linux router over SSH")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--site <name>", "the site whose router to configure (required for a relay of several sites)");
  addRouterOptions(router, "the router's REST base URL, e.g. https://192.168.88.1 (default: $RELAY6_ROUTER_URL, else router.api.url)")
    .option("--dry-run", "show what would change, change nothing")
    .option("--confirm <seconds>", "schedule a rollback on the router first; cancel it only once the router answers again (and the tunnel has a handshake)")
    .option("--skip-handshake", "with --confirm: do not wait for the WireGuard handshake (e.g. the VPS is not up yet)")
    .option("--timeout <ms>", "deadline of each REST request as a whole (connect, TLS, answer) in milliseconds (default 10000)")
    .option("--run-timeout <ms>", "time budget of the whole run against the router in milliseconds (default 120000, plus the --confirm window)")
    .option("--secrets <path>", SECRETS_HELP)
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action((site: string, opts: ApplyFlags) => run("router", site, opts));
}

async function run(end: "vps" | "router", input: string, opts: ApplyFlags): Promise<void> {
  const a = loadAndAnalyseInput(input);
  const relay = requirePlan(a, "nothing applied");
  const confirm = opts.confirm === undefined ? undefined : Number(opts.confirm);
  if (confirm !== undefined && (!Number.isInteger(confirm) || confirm < 10 || confirm > 3600))
    throw new UserError(`--confirm ${opts.confirm}: not a rollback delay relay6 takes`, [], EXIT.badInput, "give --confirm in whole seconds, 10 to 3600");
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100)) throw new UserError(`--timeout ${opts.timeout}: not a deadline relay6 takes`, [], EXIT.badInput, "give --timeout in whole milliseconds, at least 100");
  const runTimeoutMs = opts.runTimeout === undefined ? undefined : Number(opts.runTimeout);
  if (runTimeoutMs !== undefined && (!Number.isInteger(runTimeoutMs) || runTimeoutMs < 1000 || runTimeoutMs <= (confirm ?? 0) * 1000))
    throw new UserError(`--run-timeout ${opts.runTimeout}: not a time budget relay6 takes`, [], EXIT.badInput, `give --run-timeout in whole milliseconds, at least 1000${confirm !== undefined ? ` and more than the --confirm window (${confirm * 1000})` : ""}`);
  const timeouts = { ...(timeoutMs ? { timeoutMs } : {}), ...(runTimeoutMs ? { runTimeoutMs } : {}), runExtraMs: (confirm ?? 0) * 1000 };
  const plan = end === "router" ? requireSite(relay, opts.site, "apply router") : undefined;
  const ctx = { secrets: relaySecretsFor(relay, a.loaded, opts.secrets), version: VERSION };
  const artifacts = renderInput(relay, ctx);
  if (end === "vps") {
    const mod = await vpsTarget().apply();
    const access = { ssh: vpsAccess(opts, siteSsh(a.loaded.relayDoc, relay)), rest: {} };
    printReport(await mod.apply({ relay, ctx, artifacts, input, access, dryRun: !!opts.dryRun, log }), !!opts.json);
    return;
  }
  const i = relay.sites.indexOf(plan!);
  const siteFile = a.loaded.siteDocs[i]!.file;
  const site = { file: a.loaded.siteDocs[i]!.file, site: a.loaded.standalone?.site ?? a.loaded.input.sites[i]!.site };
  const access = routerAccess(opts, platformOf(plan!.router.platform), site, timeouts);
  const mod = await routerTarget(plan!).apply();
  const req: ApplyRequest = {
    plan: plan!,
    ctx: siteContext(ctx, plan!.site),
    artifacts: siteArtifacts(relay, plan!.site, artifacts),
    site: siteFile,
    access,
    dryRun: !!opts.dryRun,
    ...(confirm !== undefined ? { confirmSeconds: confirm } : {}),
    skipHandshake: !!opts.skipHandshake,
    log,
  };
  printReport(await mod.apply(req), !!opts.json);
}

function printReport(r: ApplyReport, json: boolean): void {
  process.stdout.write(`${json ? JSON.stringify(r.json, null, 2) : r.text}\n`);
  if (r.failed) process.exitCode = EXIT.findings;
}
