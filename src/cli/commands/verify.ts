// relay6 verify: the recipe's smoke test, run by relay6 against the live hosts.
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import { publicKeyOf } from "../../keys/wireguard.js";
import type { Plan } from "../../plan/plan.js";
import type { Secrets } from "../../render/types.js";
import type { Finding } from "../../verify/findings.js";
import { addRouterRestOptions, addRouterSshOptions, addSshOptions, connectSsh, routerRest, routerSshTarget, sshTarget, type RouterRestFlags, type RouterSshFlags, type SshFlags } from "./remote-options.js";
import { loadAndAnalyse, secretsFor } from "./core.js";

interface VerifyFlags extends SshFlags, RouterRestFlags, RouterSshFlags {
  json?: boolean;
  secrets?: string;
  router?: boolean;
  vps?: boolean;
  vtyshArgs?: string;
}

/** The public keys each end should see for its peer. */
export function expectedKeys(plan: Plan, secrets: Secrets): { router?: string; vps?: string } {
  if (plan.wireguard.keys === "relay6")
    return {
      ...(secrets.routerPrivateKey ? { router: publicKeyOf(secrets.routerPrivateKey) } : {}),
      ...(secrets.vpsPrivateKey ? { vps: publicKeyOf(secrets.vpsPrivateKey) } : {}),
    };
  return { ...(plan.router.publicKey ? { router: plan.router.publicKey } : {}), ...(plan.vps.publicKey ? { vps: plan.vps.publicKey } : {}) };
}

export function registerVerify(program: Command): void {
  addRouterSshOptions(
    addRouterRestOptions(
      addSshOptions(
        program
          .command("verify")
      .description("Check the live relay: tunnel, routes, BGP/BFD, default route, firewall; exit 1 on any failure")
      .argument("<site>", "site file (YAML)")
      .option("--json", "print findings as JSON")
      .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
      .option("--no-vps", "skip the VPS checks")
      .option("--no-router", "skip the router checks")
          .option("--vtysh-args <args>", "extra vtysh arguments on a Linux router (e.g. --vty_socket DIR)", ""),
      ),
    ),
    "root",
  ).action(async (site: string, o: VerifyFlags) => {
    const { plan, findings: lint } = loadAndAnalyse(site);
    if (!plan || hasErrors(lint)) throw new UserError("the site file has lint errors: `relay6 lint` lists them", [], EXIT.findings);
    const keys = expectedKeys(plan, secretsFor(plan, site, o.secrets));
    // Loaded when verify runs, not at start-up (ssh2 and the checks).
    const { formatFindings, summarise } = await import("../../verify/findings.js");
    const { verifyLinuxRouter, verifyRouterOs } = await import("../../verify/router.js");
    const { verifyVps } = await import("../../verify/vps.js");
    const log = (l: string) => {
      if (!o.json) process.stderr.write(`${l}\n`);
    };
    const findings: Finding[] = [];
    if (o.vps !== false) {
      const s = await connectSsh(sshTarget(o, plan.vps.ssh, log));
      try {
        log(`checking the VPS ${s.target.host}`);
        findings.push(...(await verifyVps((script) => s.exec(script, { quiet: true }).then((r) => r.stdout + r.stderr), plan, keys.router)));
      } finally {
        s.close();
      }
    }
    if (o.router !== false) {
      if (plan.router.platform === "routeros") {
        if (!o.routerUrl) findings.push({ check: "router", status: "skip", detail: "no --router-url: RouterOS checks skipped" });
        else {
          const rest = await routerRest(o, o.routerUrl);
          try {
            log(`checking the router ${o.routerUrl}`);
            findings.push(...(await verifyRouterOs(rest, plan, keys.vps)));
          } finally {
            rest.close();
          }
        }
      } else if (!o.routerSsh) findings.push({ check: "router", status: "skip", detail: "no --router-ssh: Linux router checks skipped" });
      else {
        const s = await connectSsh(routerSshTarget(o, log));
        try {
          log(`checking the router ${o.routerSsh}`);
          findings.push(...(await verifyLinuxRouter((script) => s.exec(script, { quiet: true }).then((r) => r.stdout + r.stderr), plan, keys.vps, o.vtyshArgs)));
        } finally {
          s.close();
        }
      }
    }
    if (o.json) process.stdout.write(JSON.stringify({ findings, summary: summarise(findings) }, null, 2) + "\n");
    else process.stdout.write(formatFindings(findings) + "\n");
    if (findings.some((f) => f.status === "fail")) process.exitCode = EXIT.findings;
  });
}
