// How to reach a host, as a command's flags give it, and the connections made from that.
// The clients are loaded only when a connection is made: commands that need none start fast.
import type { RouterOsRest } from "./routeros-rest.js";
import type { SshSession } from "./ssh.js";

export interface SshAccess {
  /** Unset when the command was given no host for this end. A host name, an address or a
   *  Host alias of ~/.ssh/config. */
  host?: string;
  /** Given explicitly (a flag or the site file): wins over ~/.ssh/config. Else Port, then 22. */
  port?: number;
  /** Given explicitly: wins over ~/.ssh/config. Else User, then `defaultUser`. */
  user?: string;
  /** The user when neither `user` nor ~/.ssh/config's User is given (default root). */
  defaultUser?: string;
  /** Private key file, tried after the agent's keys and with ~/.ssh/config's IdentityFile. */
  identityFile?: string;
  /** Used instead of UserKnownHostsFile (jump hosts too). */
  knownHostsFile?: string;
  /** Record the key of a host with no entry in any known_hosts file (never a changed or revoked one). */
  acceptNewHostKey: boolean;
}

export interface RestAccess {
  /** The router's REST base URL; unset when none was given. */
  url?: string;
  /** PEM CA bundle that signed the router's certificate. */
  caFile?: string;
  /** SHA-256 fingerprint the router's certificate must have. */
  fingerprint?: string;
  /** YAML file with user: and password: (mode 0600); default $RELAY6_ROUTER_USER/_PASSWORD. */
  credentialsFile?: string;
  /** Where the URL came from ("--router-url", "RELAY6_ROUTER_URL", "router.api.url in
   *  SITE"), for errors about it. */
  urlFrom?: string;
  /** Deadline of each request as a whole (default: the client's, 10 s). */
  timeoutMs?: number;
  /** Budget of the whole run against the router (default: the client's 120 s plus
   *  runExtraMs, apply router's --confirm window). */
  runTimeoutMs?: number;
  runExtraMs?: number;
}

/** Every way the command's flags say to reach one end; each target takes what it needs. */
export interface RemoteAccess {
  ssh: SshAccess;
  rest: RestAccess;
}

/** Connects with OpenSSH's ssh (host key checked by ssh itself) and says so. */
export async function connectSsh(a: SshAccess, log: (line: string) => void): Promise<SshSession> {
  if (a.host === undefined) throw new Error("internal: connectSsh without a host");
  const { SshSession } = await import("./ssh.js");
  const session = await SshSession.connect({
    host: a.host,
    ...(a.port !== undefined ? { port: a.port } : {}),
    ...(a.user !== undefined ? { user: a.user } : {}),
    ...(a.defaultUser !== undefined ? { defaultUser: a.defaultUser } : {}),
    ...(a.identityFile ? { identityFile: a.identityFile } : {}),
    ...(a.knownHostsFile ? { knownHostsFile: a.knownHostsFile } : {}),
    acceptNewHostKey: a.acceptNewHostKey,
    log,
  });
  log(`connected to ${session.describe} (host key ${session.hostKeyFingerprint})`);
  return session;
}

/** A REST client for a RouterOS router; credentials from the file or the environment. The
 *  URL is checked (src/site/router-url.ts) before the credentials are read. */
export async function openRest(a: RestAccess, log?: (line: string) => void): Promise<RouterOsRest> {
  if (a.url === undefined) throw new Error("internal: openRest without a URL");
  const { DEFAULT_RUN_TIMEOUT_MS, RouterOsRest, routerBaseUrl, routerCredentials } = await import("./routeros-rest.js");
  const urlFrom = a.urlFrom ?? "--router-url";
  routerBaseUrl(a.url, urlFrom);
  return new RouterOsRest({
    url: a.url,
    urlFrom,
    ...routerCredentials(a.credentialsFile),
    ...(a.caFile ? { caFile: a.caFile } : {}),
    ...(a.fingerprint ? { fingerprint: a.fingerprint } : {}),
    ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
    runTimeoutMs: a.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS + (a.runExtraMs ?? 0),
    ...(log ? { log } : {}),
  });
}
