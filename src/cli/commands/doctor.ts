// relay6 doctor: checks a setup made by hand from the recipe (no site file) for the
// recipe's traps, and offers the site file that describes it. Inputs come from files
// (fileSource) or live from the hosts (doctor/live.ts, the router's own sources): the same
// texts either way. The router's input and its options are its platform's (the targets
// that declare `doctor`); this file names none.
import { existsSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT, hasErrors, UserError } from "../../errors.js";
import type { DoctorSource, InputKey, LoadedRouterDoctor } from "../../doctor/index.js";
import { checkSite, doctorPlatforms, parseSite, routerDoctors } from "../../pipeline.js";
import { connectSsh, openRest, type SshAccess } from "../../remote/connect.js";
import { addRouterOptions, addVpsSshOptions, routerAccess, vpsAccess, type AccessFlags } from "./remote-options.js";

interface DoctorFlags extends AccessFlags {
  siteName?: string;
  writeSite?: string;
  force?: boolean;
  json?: boolean;
  routerPlatform: string;
  [input: string]: unknown;
}

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");

/** The VPS's inputs: [option key, flag, help]. */
const VPS_FLAGS: [InputKey, string, string][] = [
  ["wgConf", "--wg-conf", "the VPS's /etc/wireguard/wg0.conf"],
  ["birdConf", "--bird-conf", "the VPS's /etc/bird/bird.conf"],
  ["ipRoute", "--ip-route", "output of `ip -6 route` on the VPS"],
  ["ipAddr", "--ip-addr", "output of `ip -6 addr` on the VPS"],
  ["ndppdConf", "--ndppd-conf", "the VPS's /etc/ndppd.conf (an on-link /64 setup)"],
  ["sysctl", "--sysctl", "output of `sysctl -a` on the VPS (or its sysctl.d files): proxy_ndp, accept_ra"],
  ["ufwStatus", "--ufw-status", "output of `ufw status verbose` on the VPS"],
];

export function registerDoctor(program: Command): void {
  const routers = doctorPlatforms();
  const cmd = program
    .command("doctor")
    .description("Check a relay set up by hand from the recipe for its known traps; offer a site file that describes it");
  for (const [, flag, help] of VPS_FLAGS) cmd.option(`${flag} <file>`, help);
  for (const r of routers) {
    cmd.option(`${r.support.input.flag} <file>`, `${r.support.input.what} (router.platform ${r.platform.id})`);
    for (const o of r.support.options ?? []) cmd.option(o.flags, o.help);
  }
  cmd
    .option("--site-name <name>", "name for the site file's `site:`", "home")
    .option("--write-site <file>", "write the site file describing this setup")
    .option("--force", "overwrite the --write-site file if it exists")
    .option("--json", "print the report as JSON");
  // Live sources: the VPS over SSH, the router over its platform's sources (REST, or SSH),
  // with the same options as apply and verify.
  addVpsSshOptions(cmd, "vps-ssh");
  addRouterOptions(cmd, "read the router live over its REST API, e.g. https://192.168.88.1");
  cmd.option("--router-platform <platform>", `the platform of the router --router-ssh/--router-url read (${routers.map((r) => r.platform.id).join(", ")})`, routers[0]?.platform.id);
  cmd.action(async (opts: DoctorFlags) => {
    const keys: InputKey[] = [...VPS_FLAGS.map(([k]) => k), ...routers.map((r) => r.support.input.key)];
    const paths: Partial<Record<InputKey, string>> = {};
    for (const k of keys) if (typeof opts[k] === "string") paths[k] = opts[k] as string;
    const platform = routers.find((r) => r.platform.id === opts.routerPlatform);
    if (!platform) throw new UserError(`--router-platform ${opts.routerPlatform}: not a platform doctor reads`, [], EXIT.badInput, `give one of ${routers.map((r) => r.platform.id).join(", ")}`);
    const vps = vpsAccess(opts, { defaultUser: "root" });
    const router = routerAccess(opts, platform.platform);
    const live = vps.host !== undefined || router.ssh.host !== undefined || router.rest.url !== undefined;
    if (Object.keys(paths).length === 0 && !live) {
      const flags = [...VPS_FLAGS.slice(0, 4).map(([, f]) => f), ...routers.map((r) => r.support.input.flag)];
      throw new UserError("doctor needs at least one input", [], EXIT.badInput, `give ${flags.join(", ")} or --ufw-status, or a live host: --vps-host, --router-ssh, --router-url`);
    }
    // Loaded when doctor runs, not at start-up.
    const { fileSource, inputOrder } = await import("../../doctor/index.js");
    const { combinedSource, sshVpsSource } = await import("../../doctor/live.js");
    const loaded = await routerDoctors();
    const mine = loaded.find((r) => r.platform === platform.platform.id)!;
    const closers: (() => void)[] = [];
    try {
      const sources: DoctorSource[] = Object.keys(paths).length > 0 ? [fileSource(paths, inputOrder(routers.map((r) => r.support.input)))] : [];
      const log = (l: string) => {
        if (!opts.json) process.stderr.write(`${l}\n`);
      };
      const open = async (access: SshAccess) => {
        const session = await connectSsh(access, log);
        closers.push(() => session.close());
        return session;
      };
      if (vps.host !== undefined) sources.push(sshVpsSource(await open(vps)));
      if (router.ssh.host !== undefined) {
        if (!mine.doctor.sshSource) throw new UserError(`doctor cannot read a ${mine.platform} router over SSH`, [], EXIT.badInput, "give the router's files instead (docs/doctor.md), or --router-url");
        sources.push(mine.doctor.sshSource(await open(router.ssh)));
      }
      if (router.rest.url !== undefined) {
        if (!mine.doctor.restSource) throw new UserError(`doctor cannot read a ${mine.platform} router over REST`, [], EXIT.badInput, "give the router's files instead (docs/doctor.md), or --router-ssh");
        const rest = await openRest(router.rest);
        closers.push(() => rest.close());
        sources.push(mine.doctor.restSource(rest));
      }
      await doctorFrom(sources.length === 1 ? sources[0]! : combinedSource(sources), opts, loaded);
    } finally {
      for (const c of closers) c();
    }
  });
}

/** Runs doctor on any source: files, live, or both. */
async function doctorFrom(source: DoctorSource, opts: DoctorFlags, routers: LoadedRouterDoctor[]): Promise<void> {
  const { formatReport, redact, runDoctor, secretsIn } = await import("../../doctor/index.js");
  const inputs = await source.read();
  const secrets = secretsIn(inputs);
  const options: Record<string, string> = {};
  for (const r of routers) for (const o of r.support.options ?? []) if (typeof opts[o.key] === "string") options[o.key] = opts[o.key] as string;
  const report = runDoctor(inputs, { routers, options, ...(opts.siteName !== undefined ? { siteName: opts.siteName } : {}) });

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
  if (!yaml) throw new UserError(`no site file written: doctor lacks ${missing.join("; ")}`, [], EXIT.findings, "give doctor the inputs that hold those (docs/doctor.md)");
  const loaded = parseSite(yaml, file);
  const problems = checkSite(loaded.site, file, loaded.locate).filter((d) => d.severity === "error");
  if (problems.length > 0) throw new UserError("the site file doctor made does not pass lint; not written", problems, EXIT.findings);
  if (existsSync(file) && !force) throw new UserError(`${file} exists; pass --force to overwrite it`, [], EXIT.badInput, "pass --force to overwrite it, or --write-site another file");
  writeFileSync(file, yaml, { mode: 0o644 });
  return file;
}
