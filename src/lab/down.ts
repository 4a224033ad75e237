// `relay6 lab down`: removes everything a lab made, from its state file and, when that is
// gone or incomplete (a crashed `lab up`), from the namespaces' names.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { run, isRunning, sleep } from "./exec.js";
import { checkLabName, isLabNamespace, labDir, loadState } from "./state.js";

export interface DownResult {
  namespaces: string[];
  killed: number;
}

export async function labDown(nameIn: string): Promise<DownResult> {
  const name = checkLabName(nameIn);
  const state = loadState(name);
  const listed = (await run(["ip", "netns", "list"])).stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => isLabNamespace(name, n));
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...listed])];

  // Every process in the lab's namespaces: the recorded daemons, wireguard-go (which
  // daemonises itself), and anything a test left running.
  const pids = new Set<number>(state?.daemons.map((d) => d.pid) ?? []);
  for (const ns of namespaces) {
    const r = await run(["ip", "netns", "pids", ns]);
    for (const p of r.stdout.split(/\s+/)) if (/^\d+$/.test(p)) pids.add(Number(p));
  }
  for (const p of processesMentioning(`${labDir(name)}/`)) pids.add(p);
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* not a group leader */
    }
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 100 && [...pids].some(isRunning); i++) await sleep(20);

  for (const ns of namespaces) await run(["ip", "netns", "delete", ns]);
  const etc = new Set(state?.etcDirs ?? []);
  for (const ns of namespaces) etc.add(`/etc/netns/${ns}`);
  for (const d of etc) if (d.startsWith("/etc/netns/r6-") && !d.includes("..")) rmSync(d, { recursive: true, force: true });
  rmSync(labDir(name), { recursive: true, force: true });
  return { namespaces, killed: [...pids].length };
}

/** Live processes whose command line names `text` (a lab's directory). */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8");
      if (cmd.includes(text) && isRunning(Number(e))) out.push(Number(e));
    } catch {
      /* exited */
    }
  }
  return out;
}

export function labExists(name: string): boolean {
  return existsSync(labDir(name));
}
