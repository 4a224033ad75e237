// relay6 doctor: checks a setup made by hand from the recipe (no site file) for the
// recipe's traps, and offers the site file that describes it. Inputs come from files
// today (fileSource); live sources will hand over the same texts.
import { existsSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import { fileSource, formatReport, redact, runDoctor, secretsIn, type DoctorSource, type InputKey } from "../../doctor/index.js";
import { checkSite } from "../../lint/lint.js";
import { parseSite } from "../../site/load.js";

interface DoctorFlags {
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
}

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");

export function registerDoctor(program: Command): void {
  program
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
    .action(async (opts: DoctorFlags) => {
      const paths: Partial<Record<InputKey, string>> = {};
      for (const k of ["wgConf", "birdConf", "ipRoute", "ipAddr", "routerosExport", "ufwStatus"] as const) if (opts[k] !== undefined) paths[k] = opts[k];
      if (Object.keys(paths).length === 0)
        throw new UserError("doctor needs at least one input: --wg-conf, --bird-conf, --ip-route, --ip-addr, --routeros-export or --ufw-status");
      await doctorFrom(fileSource(paths), opts);
    });
}

/** Runs doctor on any source; the live sources (SSH, REST) will call this too. */
export async function doctorFrom(source: DoctorSource, opts: DoctorFlags): Promise<void> {
  const inputs = await source.read();
  const secrets = secretsIn(inputs);
  const report = runDoctor(inputs, {
    ...(opts.routerosVersion !== undefined ? { routerosVersion: opts.routerosVersion } : {}),
    ...(opts.siteName !== undefined ? { siteName: opts.siteName } : {}),
  });

  let written: string | undefined;
  if (opts.writeSite !== undefined) {
    if (!report.site.yaml) throw new UserError(`no site file written: doctor lacks ${report.site.missing.join("; ")}`, [], EXIT.findings);
    const yaml = redact(report.site.yaml, secrets);
    // The file must load and pass the site checks before it is written.
    const loaded = parseSite(yaml, opts.writeSite);
    const problems = checkSite(loaded.site, opts.writeSite, loaded.locate).filter((d) => d.severity === "error");
    if (problems.length > 0) throw new UserError(`the site file doctor made does not pass lint; not written`, problems, EXIT.findings);
    if (existsSync(opts.writeSite) && !opts.force) throw new UserError(`${opts.writeSite} exists; pass --force to overwrite it`);
    writeFileSync(opts.writeSite, yaml, { mode: 0o644 });
    written = opts.writeSite;
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
  if (hasErrors(report.findings)) process.exitCode = EXIT.findings;
}
