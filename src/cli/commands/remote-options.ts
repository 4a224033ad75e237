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

/** The VPS's SSH host, port and user, and the key options. */
export function addSshOptions(cmd: Command): Command {
  return addSshKeyOptions(
    cmd
      .option("--host <host>", "SSH host (default: vps.ssh.host, else vps.endpoint)")
      .option("--port <port>", "SSH port (default: vps.ssh.port)")
      .option("--user <user>", "SSH user (default: vps.ssh.user)"),
  );
}

/** Which key to log in with and how host keys are trusted: the same for every SSH host. */
export function addSshKeyOptions(cmd: Command): Command {
  return cmd
    .option("-i, --identity <file>", "SSH private key (default: ssh-agent, ~/.ssh/id_*)")
    .option("--known-hosts <file>", "known_hosts file (default: ~/.ssh/known_hosts)")
    .option("--accept-new-host-key", "trust and record a host key on first contact (never a changed one)");
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

export interface RouterRestFlags {
  routerUrl?: string;
  routerCa?: string;
  routerFingerprint?: string;
  routerCredentials?: string;
}

/** How to reach a RouterOS router's REST API; the same four options everywhere. */
export function addRouterRestOptions(cmd: Command, urlHelp = "the router's REST base URL, e.g. https://192.168.88.1"): Command {
  return cmd
    .option("--router-url <url>", urlHelp)
    .option("--router-ca <file>", "PEM CA bundle that signed the router's certificate")
    .option("--router-fingerprint <sha256>", "pin the router's certificate by its SHA-256 fingerprint")
    .option("--router-credentials <file>", "YAML file with user: and password: (mode 0600; default: $RELAY6_ROUTER_USER / $RELAY6_ROUTER_PASSWORD)");
}

export interface RouterSshFlags {
  routerSsh?: string;
  routerSshPort?: string;
  routerUser?: string;
}

/** How to reach a router over SSH (a Linux router; RouterOS for doctor's /export). */
export function addRouterSshOptions(cmd: Command, defaultUser: string): Command {
  return cmd
    .option("--router-ssh <host>", "the router's SSH host")
    .option("--router-ssh-port <port>", "the router's SSH port", "22")
    .option("--router-user <user>", "the router's SSH user", defaultUser);
}

/** The router's SSH target from the router flags plus the shared -i/--known-hosts flags. */
export function routerSshTarget(o: RouterSshFlags & SshFlags, log: (l: string) => void): SshTarget {
  if (!o.routerSsh) throw new UserError("no --router-ssh host");
  return sshTarget({ ...o, host: o.routerSsh, port: o.routerSshPort, user: o.routerUser }, { host: o.routerSsh, port: 22, user: o.routerUser ?? "root" }, log);
}

/** A REST client for the router (loaded only now). */
export async function routerRest(o: RouterRestFlags, url: string, log?: (l: string) => void, timeoutMs?: number) {
  const { RouterOsRest, routerCredentials } = await import("../../remote/routeros-rest.js");
  return new RouterOsRest({
    url,
    ...routerCredentials(o.routerCredentials),
    ...(o.routerCa ? { caFile: o.routerCa } : {}),
    ...(o.routerFingerprint ? { fingerprint: o.routerFingerprint } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(log ? { log } : {}),
  });
}
