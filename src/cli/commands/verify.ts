// relay6 verify: the recipe's smoke test, run by relay6 against the live hosts. Each end's
// target judges its host (src/targets/<id>/verify.ts, loaded when the command runs). A
// relay: the VPS's side of every site (or of --site NAME), and the router of --site NAME.
import type { Command } from "commander";
import { EXIT, UserError } from "../../errors.js";
import { platformOf, routerTarget, vpsTarget } from "../../pipeline.js";
import { siteContext } from "../../render/types.js";
import type { Finding } from "../../verify/findings.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyseInput, pickSite, relaySecretsFor, requirePlan } from "./input.js";
import { addRouterOptions, addVpsSshOptions, routerAccess, siteSsh, vpsAccess, type AccessFlags } from "./remote-options.js";

interface VerifyFlags extends AccessFlags {
  json?: boolean;
  secrets?: string;
  router?: boolean;
  vps?: boolean;
  vtyshArgs?: string;
  site?: string;
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command("verify")
    .description("Check the live relay: tunnel, routes, BGP/BFD, default route, firewall; exit 1 on any failure, or when nothing could be checked")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--site <name>", "a relay: check this site only, and its router (default: the VPS's side of every site)")
    .option("--json", "print findings as JSON")
    .option("--secrets <path>", "secrets file of a site; for a relay the directory with relay.secrets.yaml and sites/<site>.secrets.yaml (default: beside each file)")
    .option("--no-vps", "skip the VPS checks")
    .option("--no-router", "skip the router checks")
    .option("--vtysh-args <args>", "extra vtysh arguments on a router that runs FRR (e.g. --vty_socket DIR)", "");
  addVpsSshOptions(cmd, "host");
  addRouterOptions(cmd, "the router's REST base URL (default: $RELAY6_ROUTER_URL, else router.api.url)");
  cmd.action(async (input: string, o: VerifyFlags) => {
    const vtyshArgs = splitVtyshArgs(o.vtyshArgs ?? "");
    const a = loadAndAnalyseInput(input);
    const relay = requirePlan(a, "nothing verified");
    const chosen = pickSite(relay, o.site);
    const ctx = { secrets: relaySecretsFor(relay, a.loaded, o.secrets), version: VERSION };
    const log = (l: string) => {
      if (!o.json) process.stderr.write(`${l}\n`);
    };
    const findings: Finding[] = [];
    if (o.vps !== false) {
      const mod = await vpsTarget().verify();
      const sites = o.site !== undefined ? [chosen!.site] : undefined;
      findings.push(...(await mod.verify({ relay, ctx, access: { ssh: vpsAccess(o, siteSsh(a.loaded.relayDoc, relay)), rest: {} }, ...(sites ? { sites } : {}), log })));
    }
    if (o.router !== false) {
      if (!chosen) {
        if (o.routerSsh || o.routerUrl) throw new UserError(`relay ${relay.relay} has ${relay.sites.length} sites: which router do --router-ssh/--router-url reach?`, [], EXIT.badInput, `name the router's site with --site (${relay.sites.map((p) => p.site).join(", ")})`);
        for (const p of relay.sites) findings.push({ check: `router.${p.site}`, status: "skip", detail: `the router of site ${p.site} was not checked: give --site ${p.site} with its access options` });
      } else {
        const i = relay.sites.indexOf(chosen);
        const site = { file: a.loaded.siteDocs[i]!.file, site: a.loaded.standalone?.site ?? a.loaded.input.sites[i]!.site };
        const mod = await routerTarget(chosen).verify();
        const access = routerAccess(o, platformOf(chosen.router.platform), site);
        findings.push(...(await mod.verify({ plan: chosen, ctx: siteContext(ctx, chosen.site), access, ...(vtyshArgs.length ? { vtyshArgs } : {}), log })));
      }
    }
    const { formatFindings, summarise } = await import("../../verify/findings.js");
    if (o.json) process.stdout.write(JSON.stringify({ findings, summary: summarise(findings) }, null, 2) + "\n");
    else process.stdout.write(formatFindings(findings) + "\n");
    if (findings.every((f) => f.status === "skip"))
      throw new UserError(
        `nothing was checked${findings.length ? `: ${findings.map((f) => f.detail).join("; ")}` : " (--no-vps and --no-router)"}`,
        [],
        EXIT.findings,
        "give verify a way to each end: --vps-host (or vps.ssh in the file), --router-url or --router-ssh (with --site for a relay)",
      );
    if (findings.some((f) => f.status === "fail")) process.exitCode = EXIT.findings;
  });
}

/** --vtysh-args: plain words separated by spaces, each passed to vtysh as one argument
 *  (quoted for the router's shell). Quotes and shell characters are refused rather than
 *  guessed at (exit 2): no word can mean more than itself there. */
export function splitVtyshArgs(raw: string): string[] {
  const words = raw.split(/[ \t]+/).filter((w) => w !== "");
  const bad = words.find((w) => !/^[A-Za-z0-9_./:=,@%+-]+$/.test(w));
  if (bad !== undefined || /[\n\r]/.test(raw))
    throw new UserError("--vtysh-args: holds a quote, a shell character or a line break", [], EXIT.badInput, "give plain words separated by spaces (letters, digits and _ . / : = , @ % + -), e.g. --vtysh-args '--vty_socket /run/frr'");
  return words;
}
