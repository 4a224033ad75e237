// SSH to the VPS (or a Linux router) with the ssh2 package: the host key is checked
// against known_hosts before anything is sent; every command is shown before it runs.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Client, type ConnectConfig } from "ssh2";
import { UserError } from "../errors.js";
import { addKnownHost, blobType, fingerprint, knownHostsName, lookupKnownHosts } from "./known-hosts.js";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Private key file; default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFile?: string;
  knownHostsFile?: string;
  /** Trust and record a host key seen for the first time (never a changed one). */
  acceptNewHostKey?: boolean;
  /** Called with each remote command before it runs (and with notes). */
  log?: (line: string) => void;
  connectTimeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa"];

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Don't show the command (the caller showed a description instead). */
  quiet?: boolean;
  /** What to show instead of the command (e.g. when the command carries a file body). */
  show?: string;
  /** Output as it arrives, for long commands. */
  onOutput?: (chunk: string) => void;
}

export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    readonly hostKeyFingerprint: string,
  ) {}

  static async connect(target: SshTarget): Promise<SshSession> {
    const knownHosts = target.knownHostsFile ?? join(homedir(), ".ssh", "known_hosts");
    const name = knownHostsName(target.host, target.port);
    const client = new Client();
    let seen: Buffer | undefined;
    let refusal: UserError | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutMs ?? 10_000,
      hostVerifier: (key: Buffer) => {
        seen = Buffer.from(key);
        const known = lookupKnownHosts(knownHosts, name);
        const fp = fingerprint(seen);
        if (known.some((k) => k.blob.equals(seen!))) return true;
        const sameType = known.filter((k) => k.type === blobType(seen!));
        if (sameType.length > 0 || known.length > 0) {
          refusal = new UserError(`the host key of ${name} CHANGED: refusing to connect`, [
            { code: "ssh-host-key-changed", severity: "error", path: "", file: knownHosts, line: (sameType[0] ?? known[0])!.line, message: `${name} now presents ${blobType(seen)} ${fp}, not the key recorded here: someone may be intercepting, or the host was reinstalled`, fix: `if you know why it changed, remove line ${(sameType[0] ?? known[0])!.line} of ${knownHosts} (ssh-keygen -R '${name}') and connect again` },
          ]);
          return false;
        }
        if (!target.acceptNewHostKey) {
          refusal = new UserError(`${name} is not in ${knownHosts}`, [
            { code: "ssh-host-key-unknown", severity: "error", path: "", message: `first contact with ${name}: its ${blobType(seen)} key fingerprint is ${fp}`, fix: "compare the fingerprint with the provider's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run again with --accept-new-host-key" },
          ]);
          return false;
        }
        addKnownHost(knownHosts, name, seen);
        target.log?.(`# recorded ${name} ${blobType(seen)} ${fp} in ${knownHosts}`);
        return true;
      },
    };
    if (target.identityFile) config.privateKey = readKey(target.identityFile);
    else {
      if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
      const found = DEFAULT_IDENTITIES.map((n) => join(homedir(), ".ssh", n)).find((p) => existsSync(p));
      if (found) config.privateKey = readKey(found);
    }
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (e: Error & { level?: string }) => {
        if (refusal) reject(refusal);
        else if (e.level === "client-authentication")
          reject(new UserError(`SSH login as ${target.user}@${name} was refused`, [
            { code: "ssh-auth", severity: "error", path: "", message: "no key was accepted", fix: "pass --identity FILE with a key in the VPS's authorized_keys, or load it into ssh-agent" },
          ]));
        else reject(new UserError(`cannot reach ${name} over SSH: ${e.message}`, [], 1));
      });
      client.connect(config);
    });
    return new SshSession(client, target, seen ? fingerprint(seen) : "");
  }

  /** Runs a command (shown first, unless `quiet` because the caller showed it). */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!opts.quiet) this.target.log?.(`[${this.target.host}]# ${opts.show ?? command}`);
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => {
          stdout += d.toString();
          opts.onOutput?.(d.toString());
        });
        stream.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
          opts.onOutput?.(d.toString());
        });
        stream.on("close", (code: number | null) => resolve({ code: code ?? 255, stdout, stderr }));
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
  }

  /** exec, and a UserError naming the command when it fails. */
  async run(command: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0)
      throw new UserError(`on ${this.target.host}: \`${opts.show ?? command}\` failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`, [], 1);
    return r.stdout;
  }

  close(): void {
    this.client.end();
  }
}

function readKey(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read SSH key ${path}: ${(e as NodeJS.ErrnoException).code}`, [], 2);
  }
}
