// Running commands in the lab's namespaces, and the daemons the lab owns.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { EXIT, UserError } from "../errors.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string;
}

/** A step of the lab that did not work (a command failed, a state never came): reported
 *  to the user with what was seen, exit status 1, not as a bug in relay6. */
export class LabError extends UserError {
  constructor(message: string) {
    super(message, [], EXIT.findings);
    this.name = "LabError";
  }
}

/** When set, every command is printed before it runs (`relay6 lab ... --verbose`). */
export let verbose = false;
let verboseStart = 0;
export function setVerbose(v: boolean): void {
  verbose = v;
  verboseStart = Date.now();
}
const stamp = () => `${((Date.now() - verboseStart) / 1000).toFixed(2).padStart(6)} `;

export function run(cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (verbose) process.stderr.write(`${stamp()}[#] ${cmd.join(" ")}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      stdio: [opts.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"],
      env: { ...process.env, ...(opts.env ?? {}) },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            stderr += `\n(timed out after ${opts.timeoutMs} ms)`;
            child.kill("SIGKILL");
          }, opts.timeoutMs)
        : undefined;
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e) });
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** run(), and a LabError with the command's output when it fails. */
export async function must(cmd: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, opts);
  if (r.code !== 0)
    throw new LabError(`command failed (exit ${r.code}): ${cmd.join(" ")}\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** A long-running process in a namespace, started detached in its own process group so
 *  that it outlives `relay6 lab up` and `lab down` can kill the group. */
export function spawnDaemon(cmd: readonly string[], logFile: string, env: Record<string, string> = {}): number {
  if (verbose) process.stderr.write(`${stamp()}[#] ${cmd.join(" ")} &\n`);
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...env },
    });
    if (child.pid === undefined) throw new LabError(`cannot start ${cmd.join(" ")}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Alive and not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined), or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function fileExists(p: string): boolean {
  return existsSync(p);
}
