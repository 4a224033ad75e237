// The SSH options commands share (apply, verify, doctor), and the connection they make.
import type { Command } from "commander";
import { UserError } from "../../errors.js";
import type { SshSession, SshTarget } from "../../remote/ssh.js";

export interface SshFlags {
  host?: string;
  port?: string;
  user?: string;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
}

export function addSshOptions(cmd: Command): Command {
  return cmd
    .option("--host <host>", "SSH host (default: vps.ssh.host, else vps.endpoint)")
    .option("--port <port>", "SSH port (default: vps.ssh.port)")
    .option("--user <user>", "SSH user (default: vps.ssh.user)")
    .option("-i, --identity <file>", "SSH private key (default: ssh-agent, ~/.ssh/id_*)")
    .option("--known-hosts <file>", "known_hosts file (default: ~/.ssh/known_hosts)")
    .option("--accept-new-host-key", "trust and record the host key on first contact (never a changed one)");
}

/** host/port/user from the flags, else the defaults given (the site file's vps.ssh). */
export function sshTarget(o: SshFlags, defaults: { host: string; port: number; user: string }, log: (l: string) => void): SshTarget {
  const port = o.port !== undefined ? Number(o.port) : defaults.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`SSH port ${o.port}: not a port number`);
  return {
    host: o.host ?? defaults.host,
    port,
    user: o.user ?? defaults.user,
    ...(o.identity ? { identityFile: o.identity } : {}),
    ...(o.knownHosts ? { knownHostsFile: o.knownHosts } : {}),
    acceptNewHostKey: !!o.acceptNewHostKey,
    log,
  };
}

/** Connects (ssh2 is loaded only now: commands that need no SSH start faster). */
export async function connectSsh(target: SshTarget): Promise<SshSession> {
  const { SshSession } = await import("../../remote/ssh.js");
  const session = await SshSession.connect(target);
  target.log?.(`connected to ${session.target.user}@${session.target.host} (host key ${session.hostKeyFingerprint})`);
  return session;
}
