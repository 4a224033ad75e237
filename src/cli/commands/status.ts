// relay6 status: per site what the VPS sees (handshake, transfer, BGP, BFD, the last
// failover events) in one SSH round trip, plus the router's view where access is given
// (its target's verify module reads it, as `relay6 verify` does), and this period's
// transfer against the quota. --watch redraws in place on a terminal and prints a new
// block each interval elsewhere; --check prints one line per failure and exits 1.
import type { Command } from "commander";
import { EXIT, UserError } from "../../errors.js";
import type { RelayPlan } from "../../plan/relay.js";
import { platformOf, routerTarget, vpsTarget } from "../../pipeline.js";
import { siteContext } from "../../render/types.js";
import type { RouterView, VpsView } from "../../status/status.js";
import type { Finding } from "../../verify/findings.js";
import { VERSION } from "../../version.js";
import { existingSecretsFor, loadAndAnalyseInput, pickSite, requirePlan, type Analysed } from "./input.js";
import { addRouterOptions, addVpsSshOptions, routerAccess, siteSsh, vpsAccess, type AccessFlags } from "./remote-options.js";
import { splitVtyshArgs } from "./verify.js";

interface StatusFlags extends AccessFlags {
  site?: string;
  watch?: boolean;
  interval: string;
  count?: string;
  json?: boolean;
  check?: boolean;
  secrets?: string;
  router?: boolean;
  vtyshArgs?: string;
}

/** How the terminal takes the output: ANSI colours only on a terminal and without
 *  NO_COLOR; redrawing in place only on a terminal that is not dumb. */
export function terminalOf(env: NodeJS.ProcessEnv, isTTY: boolean): { color: boolean; redraw: boolean } {
  const ansi = isTTY && env.TERM !== "dumb";
  return { color: ansi && !env.NO_COLOR, redraw: ansi };
}

/** ESC [H ESC [2J: cursor home, clear the screen. */
export const REDRAW = "\u001b[H\u001b[2J";

function positive(text: string | undefined, what: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new UserError(`${what} ${text}: not a number of at least ${min}`, [], EXIT.badInput, `give ${what} a number of at least ${min}`);
  return n;
}

export function registerStatus(program: Command): void {
  const cmd = program
    .command("status")
    .description("What the VPS sees of each site (handshake, transfer, BGP, BFD, last failover events), the router's view where access is given, this period's transfer; --check exits 1 on a failure")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--site <name>", "a relay: this site only (and its router, with the router's access options)")
    .option("--watch", "read again every --interval seconds: redrawn in place on a terminal, a new block each time elsewhere")
    .option("--interval <seconds>", "seconds between two reads with --watch", "5")
    .option("--count <n>", "with --watch: stop after n reads")
    .option("--json", "print JSON (with --watch: one object per line)")
    .option("--check", "print one line per failure, nothing when all pass; exit 1 on a failure (for cron and systemd timers)")
    .option("--secrets <path>", "secrets file of a site, or a relay's secrets directory (read only: status makes no keys)")
    .option("--no-router", "do not read the router, even where its access is known")
    .option("--vtysh-args <args>", "extra vtysh arguments on a router that runs FRR", "");
  addVpsSshOptions(cmd, "host");
  addRouterOptions(cmd, "the router's REST base URL (default: $RELAY6_ROUTER_URL, else router.api.url)");
  cmd.action(async (input: string, o: StatusFlags) => {
    const a = loadAndAnalyseInput(input);
    const relay = requirePlan(a, "no status read");
    const chosen = o.site !== undefined ? pickSite(relay, o.site) : undefined;
    splitVtyshArgs(o.vtyshArgs ?? ""); // bad words: exit 2 before anything is read
    const interval = positive(o.interval, "--interval", 1)!;
    const count = positive(o.count, "--count", 1);
    if (o.check && o.watch) throw new UserError("--check and --watch together: --check reads once (for cron and timers)", [], EXIT.badInput, "drop --watch (or --check)");
    const shown: RelayPlan = chosen ? { ...relay, sites: [chosen] } : relay;
    const log = (l: string) => {
      if (!o.json && !o.check) process.stderr.write(`${l}\n`);
    };
    const { formatStatus, failureLines, statusChecks } = await import("../../status/status.js");
    const mod = await vpsTarget().verify();
    let reader: Awaited<ReturnType<typeof mod.statusReader>>;
    try {
      reader = await mod.statusReader({ relay: shown, access: { ssh: vpsAccess(o, siteSsh(a.loaded.relayDoc, relay)), rest: {} }, log });
    } catch (e) {
      if (!o.check || !(e instanceof UserError)) throw e;
      process.stdout.write(`FAIL vps: ${e.message}\n`);
      process.exitCode = EXIT.findings;
      return;
    }
    const term = terminalOf(process.env, !!process.stdout.isTTY);
    try {
      for (let i = 0; ; i++) {
        const view = await reader.read();
        const checks = statusChecks(shown, view);
        const router = o.router === false ? undefined : await routerView(a, relay, chosen ?? (relay.sites.length === 1 ? relay.sites[0] : undefined), o);
        const all = [...checks, ...(router?.findings ?? [])];
        if (o.check) {
          const lines = failureLines(all);
          if (lines.length > 0) process.stdout.write(lines.join("\n") + "\n");
          if (lines.length > 0) process.exitCode = EXIT.findings;
          return;
        }
        if (o.json) {
          const doc = jsonOf(shown, view, checks, router);
          process.stdout.write(o.watch ? JSON.stringify(doc) + "\n" : JSON.stringify(doc, null, 2) + "\n");
        } else {
          const text = formatStatus(shown, view, checks, router, { color: term.color });
          if (o.watch && term.redraw) process.stdout.write(REDRAW + text);
          else process.stdout.write((o.watch ? `--- ${new Date(view.now * 1000).toISOString()}\n` : "") + text);
        }
        if (!o.watch) {
          if (all.some((f) => f.status === "fail")) process.exitCode = EXIT.findings;
          return;
        }
        if (count !== undefined && i + 1 >= count) return;
        await new Promise((r) => setTimeout(r, interval * 1000));
      }
    } finally {
      reader.close();
    }
  });
}

function jsonOf(relay: RelayPlan, view: VpsView, checks: Finding[], router: RouterView | undefined) {
  const all = [...checks, ...(router?.findings ?? [])];
  return {
    relay: relay.relay,
    kind: relay.kind,
    vps: view,
    checks,
    ...(router ? { router } : {}),
    ...(relay.quota ? { quota: { monthlyGB: relay.quota.monthlyGB, resetDay: relay.quota.resetDay, counts: relay.quota.counts, alertPercent: relay.quota.alertPercent, quotaBytes: relay.quota.quotaBytes } } : {}),
    failed: all.filter((f) => f.status === "fail").map((f) => f.check),
  };
}

/** The router's view, read by its target's verify module as `relay6 verify` reads it; only
 *  where the operator gave its access (a REST URL, or --router-ssh). */
async function routerView(a: Analysed, relay: RelayPlan, plan: RelayPlan["sites"][number] | undefined, o: StatusFlags): Promise<RouterView | undefined> {
  if (!plan) return undefined;
  const i = relay.sites.indexOf(plan);
  const site = { file: a.loaded.siteDocs[i]!.file, site: a.loaded.standalone?.site ?? a.loaded.input.sites[i]!.site };
  const access = routerAccess(o, platformOf(plan.router.platform), site);
  if (!access.rest.url && !access.ssh.host) return { site: plan.site, findings: [], skipped: "give --router-url or --router-ssh, as for relay6 verify" };
  const ctx = { secrets: existingSecretsFor(relay, a.loaded, o.secrets), version: VERSION };
  const mod = await routerTarget(plan).verify();
  const vtyshArgs = splitVtyshArgs(o.vtyshArgs ?? "");
  const findings = await mod.verify({ plan, ctx: siteContext(ctx, plan.site), access, ...(vtyshArgs.length ? { vtyshArgs } : {}), log: () => {} });
  const skipped = findings.length > 0 && findings.every((f) => f.status === "skip");
  return skipped ? { site: plan.site, findings: [], skipped: findings.map((f) => f.detail).join("; ") } : { site: plan.site, findings };
}
