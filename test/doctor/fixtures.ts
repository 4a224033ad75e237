// Fixture setups as doctor inputs, and as CLI flags.
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { runDoctor as run, type DoctorInputs, type DoctorReport, type InputKey } from "../../src/doctor/index.js";
import { routerDoctors } from "../../src/pipeline.js";
import { REPO } from "../helpers.js";

export const FIXTURES = join(REPO, "test/doctor/fixtures");

const FILES: [InputKey, string, string][] = [
  ["wgConf", "wg0.conf", "--wg-conf"],
  ["birdConf", "bird.conf", "--bird-conf"],
  ["ipRoute", "ip-route.txt", "--ip-route"],
  ["ipAddr", "ip-addr.txt", "--ip-addr"],
  ["ndppdConf", "ndppd.conf", "--ndppd-conf"],
  ["sysctl", "sysctl.txt", "--sysctl"],
  ["routerosExport", "routeros-7.22.rsc", "--routeros-export"],
  ["ufwStatus", "ufw-status.txt", "--ufw-status"],
];

/** The fixture's files as inputs; `routeros` picks another export file; `omit` leaves inputs out. */
export function inputsOf(dir: string, opts: { routeros?: string; omit?: InputKey[] } = {}): DoctorInputs {
  const inputs: DoctorInputs = {};
  for (const [key, file] of FILES) {
    if (opts.omit?.includes(key)) continue;
    const name = key === "routerosExport" && opts.routeros ? opts.routeros : file;
    const path = join(FIXTURES, dir, name);
    if (!existsSync(path)) continue;
    inputs[key] = { origin: relative(REPO, path), text: readFileSync(path, "utf8") };
  }
  return inputs;
}

/** The same as CLI flags, with paths relative to the repository (the tests' cwd). */
export function flagsOf(dir: string, opts: { routeros?: string } = {}): string[] {
  const inputs = inputsOf(dir, opts);
  return FILES.flatMap(([key, , flag]) => (inputs[key] ? [flag, inputs[key].origin] : []));
}

/** The router platforms doctor reads, loaded as the CLI loads them. */
export const ROUTERS = await routerDoctors();

/** runDoctor with the registered router doctors; `options`: theirs (routerosVersion...). */
export function runDoctor(inputs: DoctorInputs, options: Record<string, string> = {}): DoctorReport {
  return run(inputs, { routers: ROUTERS, options });
}
