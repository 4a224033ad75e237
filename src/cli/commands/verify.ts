// relay6 verify: the recipe's smoke test, run by relay6 against the live hosts. Each end's
// target judges its host (src/targets/<id>/verify.ts, loaded when the command runs).
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import { platformOf, targetsFor } from "../../pipeline.js";
import type { Finding } from "../../verify/findings.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyse, secretsFor } from "./core.js";
import { addRouterOptions, addVpsSshOptions, routerAccess, siteSsh, vpsAccess, type AccessFlags } from "./remote-options.js";

interface VerifyFlags extends AccessFlags {
  json?: boolean;
  secrets?: string;
  router?: boolean;
  vps?: boolean;
  vtyshArgs?: string;
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command("verify")
    .description("Check the live relay: tunnel, routes, BGP/BFD, default route, firewall; exit 1 on any failure, or when nothing could be checked")
    .argument("<site>", "site file (YAML)")
    .option("--json", "print findings as JSON")
    .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
    .option("--no-vps", "skip the VPS checks")
    .option("--no-router", "skip the router checks")
    .option("--vtysh-args <args>", "extra vtysh arguments on a router that runs FRR (e.g. --vty_socket DIR)", "");
  addVpsSshOptions(cmd, "host");
  addRouterOptions(cmd, "the router's REST base URL (default: $RELAY6_ROUTER_URL, else router.api.url)");
  cmd.action(async (site: string, o: VerifyFlags) => {
    const { loaded, plan, findings: lint } = loadAndAnalyse(site);
    if (!plan || hasErrors(lint)) throw new UserError(`${site} has lint errors: nothing verified`, [], EXIT.findings, `\`relay6 lint ${site}\` lists them with their fixes`);
    const ctx = { secrets: secretsFor(plan, site, o.secrets), version: VERSION };
    const log = (l: string) => {
      if (!o.json) process.stderr.write(`${l}\n`);
    };
    const targets = targetsFor(plan);
    const findings: Finding[] = [];
    if (o.vps !== false) {
      const mod = await targets.vps.verify();
      findings.push(...(await mod.verify({ plan, ctx, access: { ssh: vpsAccess(o, siteSsh(loaded, plan)), rest: {} }, log })));
    }
    if (o.router !== false) {
      const mod = await targets.router.verify();
      const access = routerAccess(o, platformOf(plan.router.platform), loaded);
      findings.push(...(await mod.verify({ plan, ctx, access, ...(o.vtyshArgs ? { vtyshArgs: o.vtyshArgs } : {}), log })));
    }
    const { formatFindings, summarise } = await import("../../verify/findings.js");
    if (o.json) process.stdout.write(JSON.stringify({ findings, summary: summarise(findings) }, null, 2) + "\n");
    else process.stdout.write(formatFindings(findings) + "\n");
    if (findings.every((f) => f.status === "skip"))
      throw new UserError(
        `nothing was checked${findings.length ? `: ${findings.map((f) => f.detail).join("; ")}` : " (--no-vps and --no-router)"}`,
        [],
        EXIT.findings,
        "give verify a way to each end: --vps-host (or vps.ssh in the site file), --router-url or --router-ssh",
      );
    if (findings.some((f) => f.status === "fail")) process.exitCode = EXIT.findings;
  });
}
