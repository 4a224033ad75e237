// The options commands share to reach the hosts (apply, verify, doctor), defined once, and
// what they come to: a RemoteAccess per end. Which of it a target uses is the target's
// business (src/targets/<id>/apply.ts, verify.ts); this file names no platform.
import { Option, type Command } from "commander";
import { EXIT, UserError } from "../../errors.js";
import { routerPlatforms } from "../../pipeline.js";
import type { Plan } from "../../plan/plan.js";
import type { RemoteAccess, SshAccess } from "../../remote/connect.js";
import type { LoadedSite } from "../../site/load.js";
import type { RouterPlatform } from "../../site/platform.js";
import type { SiteFile } from "../../site/schema.js";

export interface VpsSshFlags {
  vpsHost?: string;
  vpsPort?: string;
  vpsUser?: string;
  /** Older spellings, still accepted where they were: --host/--port/--user (apply vps,
   *  verify), --vps-ssh/--vps-ssh-port/--vps-ssh-user (doctor). */
  host?: string;
  port?: string;
  user?: string;
  vpsSsh?: string;
  vpsSshPort?: string;
  vpsSshUser?: string;
}

export interface KeyFlags {
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
}

export interface RouterFlags {
  routerUrl?: string;
  routerCa?: string;
  routerFingerprint?: string;
  routerCredentials?: string;
  routerSsh?: string;
  routerSshPort?: string;
  routerUser?: string;
}

export type AccessFlags = VpsSshFlags & KeyFlags & RouterFlags;

const hidden = (flags: string, help: string) => new Option(flags, help).hideHelp();

/** --vps-host/--vps-port/--vps-user. `legacy`: the older spellings that command had;
 *  "vps-ssh" is doctor's, which has no site file (and reads the VPS live when given a host). */
export function addVpsSshOptions(cmd: Command, legacy: "host" | "vps-ssh"): Command {
  const site = legacy === "host";
  cmd
    .option("--vps-host <host>", site ? "the VPS's SSH host or ~/.ssh/config Host alias (default: vps.ssh.host, else vps.endpoint)" : "read the VPS's files and state live over SSH from this host (or ~/.ssh/config Host alias)")
    .option("--vps-port <port>", `the VPS's SSH port (default: ${site ? "vps.ssh.port, else " : ""}Port in ~/.ssh/config, else 22)`)
    .option("--vps-user <user>", `the VPS's SSH user (default: ${site ? "vps.ssh.user, else " : ""}User in ~/.ssh/config, else root)`);
  if (legacy === "host")
    cmd.addOption(hidden("--host <host>", "older name of --vps-host")).addOption(hidden("--port <port>", "older name of --vps-port")).addOption(hidden("--user <user>", "older name of --vps-user"));
  if (legacy === "vps-ssh")
    cmd
      .addOption(hidden("--vps-ssh <host>", "older name of --vps-host"))
      .addOption(hidden("--vps-ssh-port <port>", "older name of --vps-port"))
      .addOption(hidden("--vps-ssh-user <user>", "older name of --vps-user"));
  return addKeyOptions(cmd);
}

/** Which key to log in with and how host keys are trusted: the same for every SSH host. */
function addKeyOptions(cmd: Command): Command {
  if (cmd.options.some((o) => o.long === "--identity")) return cmd;
  return cmd
    .option("-i, --identity <file>", "SSH private key, tried after ssh-agent's keys (default: IdentityFile in ~/.ssh/config, ~/.ssh/id_*)")
    .option("--known-hosts <file>", "known_hosts file instead of UserKnownHostsFile (default: ~/.ssh/known_hosts; the global files are read too)")
    .option("--accept-new-host-key", "record the host key of a host that has no entry in any known_hosts file (never a changed or revoked one)");
}

/** How to reach the router: its REST API (--router-url ...) and SSH (--router-ssh ...);
 *  each target uses the ones its platform speaks. */
export function addRouterOptions(cmd: Command, urlHelp: string): Command {
  const users = routerPlatforms()
    .map((p) => `${p.sshUser} on ${p.id}`)
    .join(", ");
  cmd
    .option("--router-url <url>", urlHelp)
    .option("--router-ca <file>", "PEM CA bundle that signed the router's certificate")
    .option("--router-fingerprint <sha256>", "pin the router's certificate by its SHA-256 fingerprint")
    .option("--router-credentials <file>", "YAML file with user: and password: (mode 0600; default: $RELAY6_ROUTER_USER / $RELAY6_ROUTER_PASSWORD)")
    .option("--router-ssh <host>", "the router's SSH host")
    .option("--router-ssh-port <port>", "the router's SSH port (default: Port in ~/.ssh/config, else 22)")
    .option("--router-user <user>", `the router's SSH user (default: ${users}) when ~/.ssh/config names no User for the host`);
  return addKeyOptions(cmd);
}

function portOf(text: string | undefined, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`SSH port ${text}: not a port number`, [], EXIT.badInput, "give a port from 1 to 65535");
  return port;
}

/** A value given under its name or an older name (not two different ones). */
function either(o: Record<string, unknown>, name: string, ...older: string[]): string | undefined {
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const given = [name, ...older].filter((k) => o[k] !== undefined);
  const [first, ...rest] = given;
  const clash = rest.find((k) => o[k] !== o[first!]);
  if (clash) throw new UserError(`${flag(first!)} and ${flag(clash)} name the same thing: give one`, [], EXIT.badInput, `give ${flag(first!)} only`);
  return first === undefined ? undefined : (o[first] as string);
}

function keyAccess(o: KeyFlags): Pick<SshAccess, "identityFile" | "knownHostsFile" | "acceptNewHostKey"> {
  return { ...(o.identity ? { identityFile: o.identity } : {}), ...(o.knownHosts ? { knownHostsFile: o.knownHosts } : {}), acceptNewHostKey: !!o.acceptNewHostKey };
}

/** What a command knows of the VPS's SSH beyond its flags: what neither gives, ssh takes
 *  from ~/.ssh/config (Port, then 22; User, then `defaultUser`). */
export interface SshDefaults {
  host?: string;
  /** Only when given (the site file writes it): else ~/.ssh/config decides, then 22. */
  port?: number;
  /** Only when given: else ~/.ssh/config decides, then `defaultUser`. */
  user?: string;
  /** The user when neither a flag, the site file nor ~/.ssh/config names one (root). */
  defaultUser?: string;
}

/** The vps.ssh of the site file (or of the relay file): host (default vps.endpoint); port
 *  and user only when the file writes them, so that ~/.ssh/config's Port and User apply
 *  otherwise. */
export function siteSsh(file: Pick<LoadedSite, "given">, plan: { vps: Pick<Plan["vps"], "ssh"> }): SshDefaults {
  return {
    host: plan.vps.ssh.host,
    ...(file.given(["vps", "ssh", "port"]) ? { port: plan.vps.ssh.port } : {}),
    ...(file.given(["vps", "ssh", "user"]) ? { user: plan.vps.ssh.user } : {}),
  };
}

/** The VPS's SSH access: the flags, else `defaults` (siteSsh, or doctor's none). */
export function vpsAccess(o: VpsSshFlags & KeyFlags, defaults: SshDefaults): SshAccess {
  const r = o as Record<string, unknown>;
  const host = either(r, "vpsHost", "host", "vpsSsh") ?? defaults.host;
  const port = portOf(either(r, "vpsPort", "port", "vpsSshPort"), defaults.port);
  const user = either(r, "vpsUser", "user", "vpsSshUser") ?? defaults.user;
  return {
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(defaults.defaultUser ? { defaultUser: defaults.defaultUser } : {}),
    ...keyAccess(o),
  };
}

/** How long a run against the router may take: per request, and the run as a whole. */
export interface RestTimeouts {
  timeoutMs?: number;
  /** Default: the REST client's run budget plus runExtraMs (apply router's --confirm window). */
  runTimeoutMs?: number;
  runExtraMs?: number;
}

/** The site file that describes the router (a standalone site's, or a relay's site's). */
export interface RouterSite {
  file: string;
  site: { router: Pick<SiteFile["router"], "api"> };
}

/** Where the router's REST URL comes from: --router-url, else $RELAY6_ROUTER_URL, else the
 *  site file's router.api.url (`site`: undefined for doctor, which has none); with the
 *  name of the place, for errors about the URL. */
function routerUrl(o: RouterFlags, site?: RouterSite): { url: string; urlFrom: string } | undefined {
  const [url, urlFrom] =
    o.routerUrl !== undefined
      ? [o.routerUrl, "--router-url"]
      : !site
        ? []
        : process.env.RELAY6_ROUTER_URL !== undefined
          ? [process.env.RELAY6_ROUTER_URL, "RELAY6_ROUTER_URL"]
          : [site.site.router.api?.url, `router.api.url in ${site.file}`];
  return url ? { url, urlFrom: urlFrom! } : undefined;
}

/** The router's access. The REST URL as routerUrl finds it. */
export function routerAccess(o: RouterFlags & KeyFlags, platform: RouterPlatform, site?: RouterSite, timeouts: RestTimeouts = {}): RemoteAccess {
  const url = routerUrl(o, site);
  const port = portOf(o.routerSshPort);
  return {
    ssh: { ...(o.routerSsh ? { host: o.routerSsh } : {}), ...(port !== undefined ? { port } : {}), ...(o.routerUser !== undefined ? { user: o.routerUser } : {}), defaultUser: platform.sshUser, ...keyAccess(o) },
    rest: {
      ...(url ?? {}),
      ...(o.routerCa ? { caFile: o.routerCa } : {}),
      ...(o.routerFingerprint ? { fingerprint: o.routerFingerprint } : {}),
      ...(o.routerCredentials ? { credentialsFile: o.routerCredentials } : {}),
      ...(timeouts.timeoutMs ? { timeoutMs: timeouts.timeoutMs } : {}),
      ...(timeouts.runTimeoutMs ? { runTimeoutMs: timeouts.runTimeoutMs } : {}),
      ...(timeouts.runExtraMs ? { runExtraMs: timeouts.runExtraMs } : {}),
    },
  };
}
