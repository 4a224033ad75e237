// What OpenSSH's own tools print, read: `ssh -G HOST` (the configuration ssh uses for a
// host), `ssh-keygen -l -F NAME -f FILE` (the known_hosts lines for a host), and what the
// ssh client prints while it connects (the host key it was shown, the key it recorded,
// why it gave up). Pure: test/openssh.test.ts feeds it recorded outputs.

/** What `ssh -G` says about a host: the values ssh itself will use. */
export interface SshConfig {
  hostname: string;
  port: number;
  user: string;
  hostKeyAlias?: string;
  /** UserKnownHostsFile, expanded by ssh (~, %h, %p...); new keys go into the first. */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  identityFiles: string[];
}

export function parseSshG(text: string): SshConfig {
  const values = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.indexOf(" ");
    const key = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    values.set(key, [...(values.get(key) ?? []), sp < 0 ? "" : line.slice(sp + 1)]);
  }
  const one = (k: string) => {
    const v = values.get(k)?.[0];
    return v === undefined || v === "" || v === "none" ? undefined : v;
  };
  const files = (k: string) => (one(k) ?? "").split(" ").filter((f) => f && f !== "none");
  const hostname = one("hostname");
  const user = one("user");
  const port = Number(one("port"));
  if (!hostname || !user || !Number.isInteger(port)) throw new Error(`internal: \`ssh -G\` printed no hostname, user or port:\n${text.slice(0, 400)}`);
  const alias = one("hostkeyalias");
  const jump = one("proxyjump");
  const proxy = one("proxycommand");
  return {
    hostname,
    port,
    user,
    ...(alias ? { hostKeyAlias: alias } : {}),
    userKnownHostsFiles: files("userknownhostsfile"),
    globalKnownHostsFiles: files("globalknownhostsfile"),
    ...(jump ? { proxyJump: jump } : {}),
    ...(proxy ? { proxyCommand: proxy } : {}),
    identityFiles: values.get("identityfile") ?? [],
  };
}

/** The name ssh looks a host up by in known_hosts (sshconnect.c): the HostKeyAlias as
 *  is, else the host name, as `[host]:port` off port 22. */
export function knownHostsName(c: Pick<SshConfig, "hostname" | "port" | "hostKeyAlias">): string {
  if (c.hostKeyAlias) return c.hostKeyAlias;
  return c.port === 22 ? c.hostname : `[${c.hostname}]:${c.port}`;
}

/** One known_hosts line that names a host, as `ssh-keygen -l -F` reports it. */
export interface KnownHostsEntry {
  file: string;
  line: number;
  marker: "" | "cert-authority" | "revoked";
  /** ED25519, RSA, ECDSA... (the CA's key type on a @cert-authority line). */
  type: string;
  fingerprint: string;
}

/** `ssh-keygen -l -F NAME -f FILE`: pairs of `# Host NAME found: line N [CA|REVOKED]` and
 *  `NAME TYPE SHA256:... [comment]`. */
export function parseKeygenFind(file: string, text: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = /^# Host .* found: line (\d+) ?(CA|REVOKED)?\s*$/.exec(lines[i]!);
    if (!head) continue;
    const key = /^\S+ (\S+) (\S+)/.exec(lines[i + 1] ?? "");
    out.push({
      file,
      line: Number(head[1]),
      marker: head[2] === "CA" ? "cert-authority" : head[2] === "REVOKED" ? "revoked" : "",
      type: key?.[1] ?? "?",
      fingerprint: key?.[2] ?? "?",
    });
  }
  return out;
}

export interface HostKeySeen {
  /** ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512, ssh-ed25519-cert-v01@openssh.com... */
  type: string;
  fingerprint: string;
  /** A host certificate: its ID and the CA that signed it. */
  certificate?: { id: string; ca: string };
}

/** What the ssh client printed while connecting (LogLevel DEBUG1, as relay6 runs it). */
export interface ConnectLog {
  /** The key the target showed: the last one in the log, after any jump host's. */
  hostKey?: HostKeySeen;
  /** `Warning: Permanently added 'NAME' (TYPE) to the list of known hosts.` */
  added?: { name: string; type: string };
  /** `Failed to add the host to the list of known hosts (FILE).` */
  notAdded?: string;
  /** The connection is up and the control socket listens. */
  ready: boolean;
  /** Every line that is not debug output, in order. */
  messages: string[];
}

export const READY_LINE = "debug1: Entering interactive session.";

export function readConnectLog(text: string): ConnectLog {
  const log: ConnectLog = { ready: false, messages: [] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("debug1: ")) {
      const key = /^debug1: Server host key: (\S+) (SHA256:[A-Za-z0-9+/=]+)/.exec(line);
      if (key) log.hostKey = { type: key[1]!, fingerprint: key[2]! };
      const cert = /^debug1: Server host certificate: (\S+) (SHA256:[A-Za-z0-9+/=]+), serial \d+ ID "(.*)" CA (\S+ SHA256:[A-Za-z0-9+/=]+)/.exec(line);
      if (cert) log.hostKey = { type: cert[1]!, fingerprint: cert[2]!, certificate: { id: cert[3]!, ca: cert[4]! } };
      if (line === READY_LINE) log.ready = true;
      continue;
    }
    if (!line.trim()) continue;
    log.messages.push(line);
    const added = /^Warning: Permanently added '(.+)' \((\S+)\) to the list of known hosts\.$/.exec(line);
    if (added) log.added = { name: added[1]!, type: added[2]! };
    const failed = /^Failed to add the host to the list of known hosts \((.+)\)\.$/.exec(line);
    if (failed) log.notAdded = failed[1]!;
  }
  return log;
}

/** Why a connection failed, in relay6's terms: one code, what happened, the fix. */
export interface ConnectFailure {
  code: string;
  /** The one line relay6 prints first. */
  summary: string;
  message: string;
  fix: string;
  file?: string;
  line?: number;
  /** 2 when a file or option the user gave is wrong, else 1. */
  exit: 1 | 2;
}

export interface FailureContext {
  /** The known_hosts name of the target (`[host]:port`, or the HostKeyAlias). */
  name: string;
  /** user@host:port as the user would recognise it (via the jump host, if any). */
  display: string;
  hostname: string;
  port: number;
  user: string;
  /** The known_hosts lines that name the target, from every file ssh reads. */
  entries: readonly KnownHostsEntry[];
  /** Where ssh records a new key (the first UserKnownHostsFile). */
  userKnownHosts?: string;
  knownHostsFiles: readonly string[];
  acceptNew: boolean;
  /** ProxyJump, when the target is reached through jump hosts. */
  jump?: string;
}

const where = (e: KnownHostsEntry) => `${e.file}:${e.line}`;
const describeEntry = (e: KnownHostsEntry) => `${where(e)} (${e.marker ? `@${e.marker} ` : ""}${e.type} ${e.fingerprint})`;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Reads the log of a connection that did not come up. */
export function explainFailure(log: ConnectLog, ctx: FailureContext): ConnectFailure {
  const m = log.messages;
  const find = (re: RegExp) => {
    for (const l of m) {
      const r = re.exec(l);
      if (r) return r;
    }
    return undefined;
  };
  const seen = log.hostKey ? `${log.hostKey.type} ${log.hostKey.fingerprint}` : "a key";
  const isTarget = (host: string) => host === ctx.name;
  const jumpNote = (host: string) => (isTarget(host) ? "" : ` (a jump host on the way to ${ctx.display})`);

  // ~/.ssh/config (or a file it includes) is wrong: the user's file, exit 2.
  const conf = find(/^(.+?):? line (\d+): (.+)$/);
  if (conf && m.some((l) => /terminating, \d+ bad configuration options$/.test(l)))
    return { code: "ssh-config", summary: `ssh cannot use its configuration: ${conf[1]} line ${conf[2]}: ${conf[3]}`, message: conf[3]!, fix: `correct line ${conf[2]} of ${conf[1]} (\`ssh -G ${ctx.hostname}\` shows what ssh makes of it)`, file: conf[1]!, line: Number(conf[2]), exit: 2 };

  // The host key changed (a key of another type counts: OpenSSH's check_host_key).
  const offending = find(/^Offending (\S+) key in (.+):(\d+)$/);
  const changedHost = find(/^Host key for (.+) has changed and you have requested strict checking\.$/);
  if (offending || changedHost || m.some((l) => l.includes("REMOTE HOST IDENTIFICATION HAS CHANGED"))) {
    const host = changedHost?.[1] ?? ctx.name;
    const idx = m.findIndex((l) => /^The fingerprint for the \S+ key sent by the remote host is$/.test(l));
    const sentType = idx >= 0 ? /^The fingerprint for the (\S+) key/.exec(m[idx]!)![1] : undefined;
    const sentFp = idx >= 0 ? /^(SHA256:\S+?)\.?$/.exec(m[idx + 1] ?? "")?.[1] : undefined;
    const file = offending?.[2];
    const line = offending ? Number(offending[3]) : undefined;
    const sent = sentType && sentFp ? `${sentType} ${sentFp}` : seen;
    return {
      code: "ssh-host-key-changed",
      summary: `the host key of ${host}${jumpNote(host)} CHANGED: refusing to connect`,
      message: `${host} now presents ${sent}, not the ${offending?.[1] ?? ""} key recorded${file ? ` at ${file}:${line}` : ""}: someone may be intercepting, or the host was reinstalled`.replace("the  key", "the key"),
      fix: `if you know why it changed: ssh-keygen -f ${q(file ?? ctx.userKnownHosts ?? "~/.ssh/known_hosts")} -R ${q(host)}, then connect again${isTarget(host) ? " with --accept-new-host-key" : ` with ssh ${host} once`} after comparing the fingerprint with the host's console`,
      ...(file ? { file, line: line! } : {}),
      exit: 1,
    };
  }

  // A revoked key (@revoked or RevokedHostKeys): refused whatever the options.
  const revoked = find(/^The (\S+) host key for (.+) is marked as revoked\.$/);
  if (revoked) {
    const host = revoked[2]!;
    const line = isTarget(host) && log.hostKey ? ctx.entries.find((e) => e.marker === "revoked" && e.fingerprint === log.hostKey!.fingerprint) : undefined;
    return {
      code: "ssh-host-key-revoked",
      summary: `the host key of ${host}${jumpNote(host)} is REVOKED: refusing to connect`,
      message: `${host} presents ${isTarget(host) ? seen : `a ${revoked[1]} key`}, which ${line ? `${where(line)} marks @revoked` : "a revocation list (@revoked line or RevokedHostKeys) marks revoked"}: a stolen key may be impersonating the host`,
      fix: `do not connect until the host has a new key; then ssh-keygen -f ${q(ctx.userKnownHosts ?? "~/.ssh/known_hosts")} -R ${q(host)} removes its old entries (the @revoked line stays) and --accept-new-host-key records the new one`,
      ...(line ? { file: line.file, line: line.line } : {}),
      exit: 1,
    };
  }

  // Not in known_hosts (strict checking), or a certificate that does not validate.
  const unknown = find(/^No (\S+) host key is known for (.+) and you have requested strict checking\.$/);
  const certInvalid = find(/^Certificate invalid: (.+)$/);
  if (unknown || certInvalid) {
    const host = unknown?.[2] ?? ctx.name;
    if (!isTarget(host))
      return {
        code: "ssh-host-key-unknown",
        summary: `${host}${jumpNote(host)} is not in known_hosts`,
        message: `the jump host ${host} has no entry in ${ctx.knownHostsFiles.join(", ") || "known_hosts"}; relay6 records new keys only for the host it applies to`,
        fix: `connect to it once yourself (ssh ${host}), compare its fingerprint with its console, and accept it; then run relay6 again`,
        exit: 1,
      };
    const vouching = ctx.entries.filter((e) => e.marker !== "revoked");
    const ca = vouching.filter((e) => e.marker === "cert-authority");
    if (certInvalid || ca.length > 0)
      return {
        code: "ssh-host-cert-invalid",
        summary: `${ctx.name} is not vouched for by its @cert-authority entry: refusing to connect`,
        message: `${ctx.name} presents ${certInvalid ? `a host certificate that does not validate (${certInvalid[1]})` : `a plain ${seen}, no certificate`}${ca.length > 0 ? `; ${ca.map(describeEntry).join(", ")} expects a certificate signed by that CA` : ""}`,
        fix: `sign the host's key with the CA for the name ${ctx.hostname} (ssh-keygen -s CA -h -n ${ctx.hostname}) and set HostCertificate in its sshd_config, or, if you trust this key, record it yourself (ssh-keyscan is not a check: compare with the host's console)`,
        ...(ca[0] ? { file: ca[0].file, line: ca[0].line } : {}),
        exit: 1,
      };
    if (vouching.length > 0)
      // Cannot happen with OpenSSH (a known key of any type makes the key "changed"), but
      // say what is there rather than suggest recording a new key.
      return {
        code: "ssh-host-key-changed",
        summary: `the host key of ${ctx.name} CHANGED: refusing to connect`,
        message: `${ctx.name} presents ${seen}; the keys recorded for it are ${vouching.map(describeEntry).join(", ")}`,
        fix: `if you know why it changed: ssh-keygen -f ${q(vouching[0]!.file)} -R ${q(ctx.name)}, then connect again with --accept-new-host-key`,
        file: vouching[0]!.file,
        line: vouching[0]!.line,
        exit: 1,
      };
    return {
      code: "ssh-host-key-unknown",
      summary: `${ctx.name} is not in known_hosts (${ctx.knownHostsFiles.join(", ") || "none"})`,
      message: `first contact with ${ctx.name}: its ${log.hostKey?.type ?? "host"} key fingerprint is ${log.hostKey?.fingerprint ?? "unknown"}`,
      fix: "compare the fingerprint with the provider's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run again with --accept-new-host-key",
      exit: 1,
    };
  }
  if (m.includes("Host key verification failed."))
    return { code: "ssh-host-key-unknown", summary: `the host key of ${ctx.display} could not be verified`, message: m.slice(-3).join(" / "), fix: `run ssh -v ${ctx.name} to see why, and fix its known_hosts entry`, exit: 1 };

  // Login refused. The target's own ssh got as far as its host key before; a jump host's
  // refusal comes first (and the target's ssh then sees its connection closed).
  const denied = find(/^(\S+): Permission denied \((.+)\)\.$/);
  if (denied) {
    const who = denied[1]!;
    const jump = !!ctx.jump && !log.hostKey;
    const notes = m.filter((l) => /^(Warning: Identity file|Load key|no such identity|sign_and_send_pubkey)/.test(l));
    return {
      code: "ssh-auth",
      summary: `SSH login as ${who}${jump ? ` (a jump host on the way to ${ctx.display})` : ""} was refused`,
      message: `no key was accepted (${denied[2]}); ssh tried the agent's keys first, then the identity files${notes.length ? `; ${notes.join("; ")}` : ""}`,
      fix: `load the key into ssh-agent (ssh-add), or pass -i KEY (or IdentityFile in ~/.ssh/config) with a key in ${who}'s authorized_keys`,
      exit: 1,
    };
  }

  // The network.
  const dns = find(/^ssh: Could not resolve hostname (\S+): (.+)$/);
  if (dns)
    return { code: "ssh-dns", summary: `cannot resolve ${dns[1]}${ctx.jump && dns[1] !== ctx.hostname ? ` (a jump host on the way to ${ctx.display})` : ""}`, message: `${dns[1]}: ${dns[2]}`, fix: "check the name (--vps-host or --router-ssh, vps.ssh.host or vps.endpoint, HostName in ~/.ssh/config) and your DNS", exit: 1 };
  const conn = find(/^ssh: connect to host (\S+) port (\d+): (.+)$/);
  if (conn) {
    const why = conn[3]!;
    const refused = /refused/i.test(why);
    const timedOut = /timed out/i.test(why);
    const jump = !!ctx.jump && !(conn[1] === ctx.hostname && Number(conn[2]) === ctx.port);
    return {
      code: refused ? "ssh-refused" : timedOut ? "ssh-timeout" : "ssh-unreachable",
      summary: `cannot reach ${conn[1]} port ${conn[2]} over SSH${jump ? ` (a jump host on the way to ${ctx.display})` : ""}: ${why.toLowerCase()}`,
      message: why,
      fix: refused
        ? `is sshd running on ${conn[1]} and listening on port ${conn[2]}? (the port comes from --vps-port or --router-ssh-port, vps.ssh.port or Port in ~/.ssh/config)`
        : timedOut
          ? `is ${conn[1]} up, and is TCP port ${conn[2]} open in its firewall and the provider's? (a jump host: ProxyJump in ~/.ssh/config)`
          : `check the address and the route to ${conn[1]}`,
      exit: 1,
    };
  }
  const slow = find(/^ssh did not finish connecting within (\d+) s$/);
  if (slow)
    return { code: "ssh-timeout", summary: `SSH to ${ctx.display} did not come up within ${slow[1]} s`, message: m.slice(-3).join(" / "), fix: `is ${ctx.hostname} overloaded, or a jump host slow to reach it? Try ssh -v ${ctx.hostname}`, exit: 1 };
  const banner = find(/^Connection timed out during banner exchange$/) ?? find(/^Connection to (\S+) port (\d+) timed out$/);
  if (banner)
    return { code: "ssh-timeout", summary: `SSH to ${ctx.display} timed out before the server said hello`, message: m.slice(-2).join(" / "), fix: `something answers on port ${ctx.port} but is not a working sshd (or a firewall stalls it): check the port and the host`, exit: 1 };
  const closed = find(/^(kex_exchange_identification: .+|Connection closed by .+|Connection reset by .+|ssh_exchange_identification: .+)$/);
  if (closed)
    return { code: "ssh-closed", summary: `the SSH connection to ${ctx.display} was closed while it was set up`, message: m.slice(-3).join(" / "), fix: `is port ${ctx.port} an sshd that lets this machine in (MaxStartups, fail2ban, AllowUsers)? A jump host: does it reach ${ctx.hostname}?`, exit: 1 };
  return { code: "ssh-failed", summary: `SSH to ${ctx.display} failed`, message: m.slice(-3).join(" / ") || "ssh exited without a message", fix: `run ssh -v ${ctx.name} to see why`, exit: 1 };
}

/** The ssh_config relay6 passes with -F: its own options first (first value wins in
 *  ssh_config, and -F is passed on to jump hosts where -o is not), then the user's and
 *  the system's files exactly as ssh would read them. */
export function sessionConfig(o: { knownHostsFile?: string }): string {
  const L = [
    "# relay6: the options of this run's SSH connections, jump hosts included; then yours.",
    "BatchMode yes",
    "StrictHostKeyChecking yes",
  ];
  if (o.knownHostsFile) L.push(`UserKnownHostsFile ${configQuote(o.knownHostsFile)}`);
  L.push("Include ~/.ssh/config", "Include /etc/ssh/ssh_config", "");
  return L.join("\n");
}

/** A path as an ssh_config argument (double quotes; ssh_config has no escape for `"`). */
export function configQuote(path: string): string {
  if (/["\n\r]/.test(path)) throw new Error(`a path with a double quote or newline cannot go into ssh_config: ${JSON.stringify(path)}`);
  return `"${path}"`;
}
