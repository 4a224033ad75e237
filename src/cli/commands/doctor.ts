// relay6 doctor: checks a setup made by hand from the recipe (no site file) for the
// recipe's traps, and offers the site file that describes it. Inputs come from files
// (fileSource) or live from the hosts (doctor/live.ts): the same texts either way.
import { existsSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import type { DoctorSource, InputKey } from "../../doctor/index.js";
import type { SshTarget } from "../../remote/ssh.js";
import {
  addRouterRestOptions,
  addRouterSshOptions,
  addSshKeyOptions,
  connectSsh,
  routerRest,
  routerSshTarget,
  sshTarget,
  type RouterRestFlags,
  type RouterSshFlags,
  type SshFlags,
} from "./remote-options.js";
import { checkSite } from "../../lint/lint.js";
import { parseSite } from "../../site/load.js";


interface DoctorFlags extends RouterRestFlags, RouterSshFlags, SshFlags {
  wgConf?: string;
  birdConf?: string;
  ipRoute?: string;
  ipAddr?: string;
  routerosExport?: string;
  ufwStatus?: string;
  routerosVersion?: string;
  siteName?: string;
  writeSite?: string;
  force?: boolean;
  json?: boolean;
  vpsSsh?: string;
  vpsSshPort?: string;
  vpsSshUser?: string;
}

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");

export function registerDoctor(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("Check a relay set up by hand from the recipe for its known traps; offer a site file that describes it")
    .option("--wg-conf <file>", "the VPS's /etc/wireguard/wg0.conf")
    .option("--bird-conf <file>", "the VPS's /etc/bird/bird.conf")
    .option("--ip-route <file>", "output of `ip -6 route` on the VPS")
    .option("--ip-addr <file>", "output of `ip -6 addr` on the VPS")
    .option("--routeros-export <file>", "the router's `/export` (or the script pasted into it)")
    .option("--ufw-status <file>", "output of `ufw status verbose` on the VPS")
    .option("--routeros-version <version>", "the router's RouterOS version, when the export has no header (e.g. 7.18.2)")
    .option("--site-name <name>", "name for the site file's `site:`", "home")
    .option("--write-site <file>", "write the site file describing this setup")
    .option("--force", "overwrite the --write-site file if it exists")
    .option("--json", "print the report as JSON")
    .option("--vps-ssh <host>", "read the VPS's files and state live over SSH")
    .option("--vps-ssh-port <port>", "the VPS's SSH port", "22")
    .option("--vps-ssh-user <user>", "the VPS's SSH user", "root");
  // Live sources for the router: REST (or its /export over SSH), with the same options as
  // apply and verify.
  addSshKeyOptions(addRouterSshOptions(addRouterRestOptions(cmd, "read the router live over its REST API (RouterOS), e.g. https://192.168.88.1"), "admin"));
  cmd.action(async (opts: DoctorFlags) => {
      const paths: Partial<Record<InputKey, string>> = {};
      for (const k of ["wgConf", "birdConf", "ipRoute", "ipAddr", "routerosExport", "ufwStatus"] as const) if (opts[k] !== undefined) paths[k] = opts[k];
      const live = opts.vpsSsh !== undefined || opts.routerSsh !== undefined || opts.routerUrl !== undefined;
      if (Object.keys(paths).length === 0 && !live)
        throw new UserError("doctor needs at least one input: --wg-conf, --bird-conf, --ip-route, --ip-addr, --routeros-export or --ufw-status, or a live host: --vps-ssh, --router-ssh, --router-url");
      // Loaded when doctor runs, not at start-up.
      const { fileSource } = await import("../../doctor/index.js");
      const { combinedSource, restRouterOsSource, sshRouterOsSource, sshVpsSource } = await import("../../doctor/live.js");
      const closers: (() => void)[] = [];
      try {
        const sources: DoctorSource[] = Object.keys(paths).length > 0 ? [fileSource(paths)] : [];
        const log = (l: string) => {
          if (!opts.json) process.stderr.write(`${l}\n`);
        };
        const open = async (target: SshTarget) => {
          const session = await connectSsh(target);
          closers.push(() => session.close());
          return session;
        };
        if (opts.vpsSsh !== undefined)
          sources.push(sshVpsSource(await open(sshTarget({ ...opts, host: opts.vpsSsh, port: opts.vpsSshPort, user: opts.vpsSshUser }, { host: opts.vpsSsh, port: 22, user: "root" }, log))));
        if (opts.routerSsh !== undefined) sources.push(sshRouterOsSource(await open(routerSshTarget(opts, log))));
        if (opts.routerUrl !== undefined) {
          const rest = await routerRest(opts, opts.routerUrl);
          closers.push(() => rest.close());
          sources.push(restRouterOsSource(rest));
        }
        await doctorFrom(sources.length === 1 ? sources[0]! : combinedSource(sources), opts);
      } finally {
        for (const c of closers) c();
      }
    });
}

/** Runs doctor on any source; the live sources (SSH, REST) will call this too. */
export async function doctorFrom(source: DoctorSource, opts: DoctorFlags): Promise<void> {
  const { formatReport, redact, runDoctor, secretsIn } = await import("../../doctor/index.js");
  const inputs = await source.read();
  const secrets = secretsIn(inputs);
  const report = runDoctor(inputs, {
    ...(opts.routerosVersion !== undefined ? { routerosVersion: opts.routerosVersion } : {}),
    ...(opts.siteName !== undefined ? { siteName: opts.siteName } : {}),
  });

  let written: string | undefined;
  let refused: UserError | undefined;
  if (opts.writeSite !== undefined) {
    try {
      written = writeSite(report.site.yaml && redact(report.site.yaml, secrets), report.site.missing, opts.writeSite, opts.force === true);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      refused = e; // the report is still printed; the refusal decides the exit status
    }
  }

  const text = opts.json
    ? JSON.stringify(
        {
          inputs: report.inputs,
          findings: report.findings,
          skipped: report.skipped,
          site: { yaml: report.site.yaml ?? null, missing: report.site.missing, notes: report.site.notes, written: written ?? null },
        },
        null,
        2,
      )
    : formatReport(report, written);
  out(redact(text, secrets));
  if (refused) throw refused;
  if (hasErrors(report.findings)) process.exitCode = EXIT.findings;
}

/** Writes the proposed site file only if it loads and passes the site checks, and never
 *  over an existing file without --force. */
function writeSite(yaml: string | undefined, missing: string[], file: string, force: boolean): string {
  if (!yaml) throw new UserError(`no site file written: doctor lacks ${missing.join("; ")}`, [], EXIT.findings);
  const loaded = parseSite(yaml, file);
  const problems = checkSite(loaded.site, file, loaded.locate).filter((d) => d.severity === "error");
  if (problems.length > 0) throw new UserError("the site file doctor made does not pass lint; not written", problems, EXIT.findings);
  if (existsSync(file) && !force) throw new UserError(`${file} exists; pass --force to overwrite it`);
  writeFileSync(file, yaml, { mode: 0o644 });
  return file;
}
