// SSH to the VPS (or a Linux router) with OpenSSH's own client: ssh resolves ~/.ssh/config
// (HostName, Port, User, IdentityFile, ProxyJump, known_hosts files...), tries ssh-agent
// first and checks the host key exactly as `ssh` does. relay6 adds two things: it never
// prompts (BatchMode) and it records a new host key only for a host that has no entry at
// all (checked with `ssh-keygen -F` in every known_hosts file `ssh -G` names). One
// connection per run: a ControlMaster that every command runs through; every command is
// shown before it runs.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UserError, type Diagnostic } from "../errors.js";
import { InputFileError, MAX_KEY_BYTES, readInputFile } from "../io/read.js";
import {
  configQuote,
  explainFailure,
  knownHostsName,
  parseKeygenFind,
  parseSshG,
  readConnectLog,
  READY_LINE,
  sessionConfig,
  type ConnectFailure,
  type KnownHostsEntry,
  type SshConfig,
} from "./openssh.js";

export interface SshTarget {
  /** The name given to ssh: a host name, an address or a Host alias of ~/.ssh/config. */
  host: string;
  /** Given explicitly (a flag or the site file): wins over ~/.ssh/config. Else Port, then 22. */
  port?: number;
  /** Given explicitly: wins over ~/.ssh/config. Else User, then `defaultUser`. */
  user?: string;
  /** The user when neither `user` nor ~/.ssh/config's User is given (default root). */
  defaultUser?: string;
  /** A private key file, tried after the agent's keys and with ~/.ssh/config's IdentityFile. */
  identityFile?: string;
  /** Used instead of UserKnownHostsFile (for every connection of the run, jump hosts too). */
  knownHostsFile?: string;
  /** Trust and record the key of a host with no entry at all in any known_hosts file. */
  acceptNewHostKey?: boolean;
  /** Called with each remote command before it runs (and with notes). */
  log?: (line: string) => void;
  connectTimeoutMs?: number;
}

/** The target as ssh resolved it. */
export interface ResolvedTarget extends SshTarget {
  port: number;
  user: string;
  /** HostName: the address or name ssh connects to. */
  hostname: string;
  proxyJump?: string;
  /** The name known_hosts knows the host by. */
  knownHostsName: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Don't show the command (the caller showed a description instead). */
  quiet?: boolean;
  /** What to show instead of the command (e.g. when the command carries a file body). */
  show?: string;
  /** Output as it arrives, for long commands. */
  onOutput?: (chunk: string) => void;
}

/** relay6's default user when neither a flag, the site file nor ~/.ssh/config names one. */
const DEFAULT_USER = "root";
/** Stands for "no User in any ssh_config" in the `ssh -G` probe. */
const NO_USER = "relay6-no-user-configured";

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of live) p.kill("SIGTERM");
});

export class SshSession {
  private masterExited = false;
  private readonly masterDone: Promise<void>;
  /** The end of the master's log: why it ended, if it does. */
  private masterTail = "";

  private constructor(
    private readonly master: ChildProcess,
    private readonly dir: string,
    readonly target: ResolvedTarget,
    readonly hostKeyFingerprint: string,
    /** `user@host:port`, and `via JUMP` when there is one. */
    readonly describe: string,
  ) {
    this.masterDone = new Promise((resolve) =>
      master.once("exit", () => {
        this.masterExited = true;
        live.delete(master);
        resolve();
      }),
    );
    master.stderr!.on("data", (d: Buffer) => {
      this.masterTail = (this.masterTail + d.toString("utf8")).slice(-4000);
    });
  }

  static async connect(given: SshTarget): Promise<SshSession> {
    checkTarget(given);
    // ssh reads relative paths against its working directory, and so would a jump host's
    // ssh: make them absolute once.
    const target: SshTarget = {
      ...given,
      ...(given.identityFile ? { identityFile: resolve(given.identityFile) } : {}),
      ...(given.knownHostsFile ? { knownHostsFile: resolve(given.knownHostsFile) } : {}),
    };
    if (target.identityFile) checkIdentity(target.identityFile);
    if (target.knownHostsFile) checkKnownHostsPath(target.knownHostsFile);
    const dir = mkdtempSync(join(tmpdir(), "relay6-ssh-"));
    try {
      const config = join(dir, "config");
      writeFileSync(config, sessionConfig(target.knownHostsFile ? { knownHostsFile: target.knownHostsFile } : {}), { mode: 0o600 });
      const common = ["-F", config, ...(target.port !== undefined ? ["-p", String(target.port)] : []), ...(target.identityFile ? ["-i", target.identityFile] : [])];

      // What ssh will use for this host, and whether ~/.ssh/config names a user.
      const probe = join(dir, "probe");
      writeFileSync(probe, `Include ${configQuote(config)}\nHost *\n  User ${NO_USER}\n`, { mode: 0o600 });
      const g = runTool("ssh", ["-G", "-F", probe, ...common.slice(2), ...(target.user ? ["-l", target.user] : []), "--", target.host]);
      if (g.code !== 0) throw failure(explainFailure(readConnectLog(g.stderr), minimalContext(target)));
      const cfg = parseSshG(g.stdout);
      const user = cfg.user === NO_USER ? (target.defaultUser ?? DEFAULT_USER) : cfg.user;
      const name = knownHostsName(cfg);
      const files = [...cfg.userKnownHostsFiles, ...cfg.globalKnownHostsFiles];

      // Every line that names the host, in every file ssh reads (for accept-new and for
      // the messages): ssh-keygen -F matches exactly as ssh does (hashed, patterns, !negation).
      const { entries, unreadable } = lookupKnownHosts(name, files);
      const vouching = entries.filter((e) => e.marker !== "revoked");
      if (target.acceptNewHostKey && unreadable.length > 0)
        throw new UserError(`cannot tell whether ${name} is known: ${unreadable.map((u) => `${u.file} (${u.why})`).join(", ")} cannot be read`, [
          { code: "ssh-known-hosts-unreadable", severity: "error", path: "", file: unreadable[0]!.file, message: "relay6 records a new host key only for a host with no entry in any known_hosts file", fix: `make ${unreadable[0]!.file} readable, or run without --accept-new-host-key` },
        ]);
      const acceptNew = !!target.acceptNewHostKey && vouching.length === 0;
      if (target.acceptNewHostKey && !acceptNew)
        target.log?.(`# ${name} already has ${vouching.length === 1 ? "an entry" : "entries"} (${vouching.map((e) => `${e.file}:${e.line}`).join(", ")}): --accept-new-host-key does not apply, the key must match`);

      const resolved: ResolvedTarget = {
        ...target,
        port: cfg.port,
        user,
        hostname: cfg.hostname,
        ...(cfg.proxyJump ? { proxyJump: cfg.proxyJump } : {}),
        knownHostsName: name,
      };
      const describe = `${user}@${cfg.hostname}:${cfg.port}${cfg.proxyJump ? ` via ${cfg.proxyJump}` : cfg.proxyCommand ? " via ProxyCommand" : ""}`;
      const ctl = join(dir, "ctl");
      const timeout = Math.max(1, Math.ceil((target.connectTimeoutMs ?? 10_000) / 1000));
      const args = [
        ...common,
        "-l", user,
        "-M", "-S", ctl, "-N", "-T",
        "-o", "ControlPersist=no",
        "-o", "LogLevel=DEBUG1",
        "-o", `StrictHostKeyChecking=${acceptNew ? "accept-new" : "yes"}`,
        "-o", `ConnectTimeout=${timeout}`,
        "-o", "ServerAliveInterval=15",
        "-o", "ServerAliveCountMax=4",
        // relay6 runs commands: none of the user's forwardings, agent or X11 forwarding.
        "-o", "ClearAllForwardings=yes",
        "-o", "ForwardAgent=no",
        "-o", "ForwardX11=no",
        "-o", "PermitLocalCommand=no",
        "-o", "Tunnel=no",
        "--", target.host,
      ];
      const master = spawnTool("ssh", args, ["ignore", "ignore", "pipe"]);
      live.add(master);
      const log = await waitReady(master, timeout * 1000 + 30_000);
      if (!log.ready) {
        master.kill("SIGTERM");
        throw failure(
          explainFailure(log, {
            name,
            display: describe,
            hostname: cfg.hostname,
            port: cfg.port,
            user,
            entries,
            ...(cfg.userKnownHostsFiles[0] ? { userKnownHosts: cfg.userKnownHostsFiles[0] } : {}),
            knownHostsFiles: files,
            acceptNew,
            ...(cfg.proxyJump ? { jump: cfg.proxyJump } : {}),
          }),
        );
      }

      const fp = log.hostKey?.fingerprint ?? "";
      if (log.added) target.log?.(`# recorded ${log.added.name} ${log.added.type} ${fp} in ${cfg.userKnownHostsFiles[0] ?? "known_hosts"}`);
      if (log.notAdded) target.log?.(`# warning: ssh could not record ${name}'s key in ${log.notAdded}: it is trusted for this run only`);
      if (log.hostKey?.certificate) target.log?.(`# ${name} presented a host certificate (ID "${log.hostKey.certificate.id}") signed by the CA ${log.hostKey.certificate.ca}`);
      return new SshSession(master, dir, resolved, fp, describe);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Runs a command (shown first, unless `quiet` because the caller showed it). */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!opts.quiet) this.target.log?.(`[${this.target.host}]# ${opts.show ?? command}`);
    if (this.masterExited) return Promise.reject(this.lost(opts.show ?? command));
    // A client of the master connection only: -F /dev/null (no SendEnv, no forwarding from
    // the user's config) and ProxyCommand=false, so that it can never open a second
    // connection of its own if the master is gone.
    const args = ["-F", "/dev/null", "-S", join(this.dir, "ctl"), "-o", "ControlMaster=no", "-o", "ProxyCommand=false", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-T", "--", this.target.host, command];
    return new Promise((resolve, reject) => {
      const child = spawnTool("ssh", args, [opts.stdin !== undefined ? "pipe" : "ignore", "pipe", "pipe"]);
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        opts.onOutput?.(d);
      });
      child.stderr!.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        opts.onOutput?.(d);
      });
      child.once("error", reject);
      child.once("close", async (code: number | null) => {
        // 255 is ssh's own failure: if the master is (about to be) gone, say so.
        if (code === 255 || code === null) await Promise.race([this.masterDone, new Promise((r) => setTimeout(r, 1000))]);
        if ((code === 255 || code === null) && this.masterExited) reject(this.lost(opts.show ?? command));
        else resolve({ code: code ?? 255, stdout, stderr });
      });
      if (opts.stdin !== undefined) {
        child.stdin!.on("error", () => {}); // the remote command may exit before reading it all
        child.stdin!.end(opts.stdin);
      }
    });
  }

  /** exec, and a UserError naming the command when it fails. */
  async run(command: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0)
      throw new UserError(`on ${this.target.host}: \`${opts.show ?? command}\` failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`, [], 1, "the host's message above says why; relay6 changed nothing after it");
    return r.stdout;
  }

  close(): void {
    if (!this.masterExited) {
      spawnSync("ssh", ["-F", "/dev/null", "-S", join(this.dir, "ctl"), "-O", "exit", "--", this.target.host], { stdio: "ignore", timeout: 5000 });
      this.master.kill("SIGTERM");
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private lost(command: string): UserError {
    const why = readConnectLog(this.masterTail).messages.filter((l) => !/^(Transferred|Bytes per second):/.test(l)).slice(-2).join(" / ");
    return new UserError(`the SSH connection to ${this.describe} was lost (running \`${command}\`)`, [
      { code: "ssh-lost", severity: "error", path: "", message: why || "the ssh master connection ended", fix: "check the network path to the host and run again (apply is safe to repeat)" },
    ], 1);
  }
}

/** Host and user go to ssh as arguments: refuse anything it could read as an option. */
function checkTarget(t: SshTarget): void {
  if (!t.host || t.host.startsWith("-") || /[\s\x00-\x1f\x7f'"`$\\%@/]/.test(t.host))
    throw new UserError(`SSH host ${JSON.stringify(t.host)}: not a host name, address or ssh_config Host alias`, [], 2, "give the host's name or address (a user goes in --vps-user or --router-user, a port in the port option)");
  if (t.user !== undefined && (!t.user || t.user.startsWith("-") || !/^[A-Za-z0-9._][A-Za-z0-9._@-]*$/.test(t.user)))
    throw new UserError(`SSH user ${JSON.stringify(t.user)}: not a user name`, [], 2, "give a login name of letters, digits, '.', '_', '-'");
  if (t.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)) throw new UserError(`SSH port ${t.port}: not a port number`, [], 2, "give a port from 1 to 65535");
}

/** -i FILE must be a key ssh can use (`ssh-keygen -l` reads it; an encrypted one too). */
function checkIdentity(path: string): void {
  let text: Buffer;
  try {
    text = readInputFile(path, "-i", MAX_KEY_BYTES);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw new UserError(`cannot read SSH key ${path} (-i): ${e.why}`, [
      { code: "ssh-identity", severity: "error", path: "", file: path, message: "the file given with -i cannot be read", fix: "pass -i with the private key file that logs in to the host (or leave -i out: ssh-agent and ~/.ssh/config's IdentityFile are tried)" },
    ]);
  }
  if (runTool("ssh-keygen", ["-l", "-f", path]).code === 0) return;
  // A legacy PEM key with a passphrase: ssh-keygen -l cannot read it without the .pub.
  if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED/m.test(text.toString("latin1"))) return;
  throw new UserError(`${path} is not an SSH key`, [
    { code: "ssh-identity", severity: "error", path: "", file: path, message: "ssh-keygen -l cannot read it as a private or public key", fix: "pass -i with the private key file (id_ed25519, not a certificate or a WireGuard key)" },
  ]);
}

/** --known-hosts FILE: a readable file, or one ssh can create (its directory exists). */
function checkKnownHostsPath(path: string): void {
  const bad = (why: string, fix: string) =>
    new UserError(`known_hosts file ${path}: ${why}`, [{ code: "ssh-known-hosts", severity: "error", path: "", file: path, message: why, fix }]);
  if (/["\n\r]/.test(path)) throw bad("a path with a double quote or newline", "use another path");
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw bad(String((e as NodeJS.ErrnoException).code), "pass --known-hosts with a readable file");
    try {
      if (statSync(dirname(path)).isDirectory()) return;
    } catch {
      /* below */
    }
    throw bad(`its directory ${dirname(path)} does not exist`, "create the directory, or pass --known-hosts with another path");
  }
  if (!isFile) throw bad("not a regular file", "pass --known-hosts with a known_hosts file");
  try {
    closeSync(openSync(path, "r"));
  } catch (e) {
    throw bad(`cannot be read (${(e as NodeJS.ErrnoException).code})`, `fix its permissions (chmod 600 ${path})`);
  }
}

function lookupKnownHosts(name: string, files: readonly string[]): { entries: KnownHostsEntry[]; unreadable: { file: string; why: string }[] } {
  const entries: KnownHostsEntry[] = [];
  const unreadable: { file: string; why: string }[] = [];
  for (const file of files) {
    try {
      closeSync(openSync(file, "r"));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") unreadable.push({ file, why: code ?? String(e) });
      continue;
    }
    const r = runTool("ssh-keygen", ["-l", "-F", name, "-f", file]);
    if (r.code === 0) entries.push(...parseKeygenFind(file, r.stdout));
    else if (r.code !== 1) unreadable.push({ file, why: r.stderr.trim() || `ssh-keygen exit ${r.code}` });
  }
  return { entries, unreadable };
}

function minimalContext(t: SshTarget) {
  const port = t.port ?? 22;
  return { name: knownHostsName({ hostname: t.host, port }), display: `${t.user ?? ""}${t.user ? "@" : ""}${t.host}:${port}`, hostname: t.host, port, user: t.user ?? t.defaultUser ?? DEFAULT_USER, entries: [], knownHostsFiles: [], acceptNew: false };
}

function failure(f: ConnectFailure): UserError {
  const d: Diagnostic = { code: f.code, severity: "error", path: "", message: f.message, fix: f.fix, ...(f.file ? { file: f.file } : {}), ...(f.line ? { line: f.line } : {}) };
  return new UserError(f.summary, [d], f.exit);
}

/** Collects the master's stderr until it says the session is up, or exits, or time is up. */
function waitReady(master: ChildProcess, ms: number): Promise<ReturnType<typeof readConnectLog>> {
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      master.stderr!.off("data", onData);
      resolve(readConnectLog(text));
    };
    const onData = (d: Buffer) => {
      text += d.toString("utf8");
      if (text.includes(READY_LINE)) finish();
    };
    const timer = setTimeout(() => {
      text += `\nssh did not finish connecting within ${Math.round(ms / 1000)} s\n`;
      finish();
    }, ms);
    master.stderr!.on("data", onData);
    master.once("close", finish);
    master.once("error", (e: NodeJS.ErrnoException) => {
      text += `\nssh: ${e.code === "ENOENT" ? "not found" : e.message}\n`;
      finish();
    });
  });
}

function spawnTool(cmd: string, args: string[], stdio: ("pipe" | "ignore")[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: stdio as ["pipe" | "ignore", "pipe" | "ignore", "pipe" | "ignore"] });
  child.once("error", () => {});
  return child;
}

function runTool(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")
    throw new UserError(`relay6 needs OpenSSH's ${cmd}, and it is not in PATH`, [
      { code: "ssh-missing", severity: "error", path: "", message: `${cmd} not found`, fix: "install the OpenSSH client (Debian/Ubuntu: apt install openssh-client)" },
    ], 1);
  return { code: r.status ?? 255, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
