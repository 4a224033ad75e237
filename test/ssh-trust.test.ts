// SSH host trust as OpenSSH does it, against real sshd: relay6 (`apply vps --dry-run`, which
// connects, runs one command and changes nothing) in a network namespace of its own, with
// sshd instances on its 127.0.0.1. ssh reads ~/.ssh from the account's home directory (not
// $HOME): each relay6 run gets a temp directory mounted over it in a private mount
// namespace, and the namespace's /etc/ssh is /etc/netns/NS/ssh (the global known_hosts
// file), so the machine's own ~/.ssh and /etc/ssh are never read.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, writeSecrets } from "../src/keys/wireguard.js";
import { REPO, tmp } from "./helpers.js";
import { waitUntil, withHome } from "./netns-host.js";

const root = process.getuid?.() === 0;
const NS = `r6t-ssh-${process.pid}`;
const etcSsh = `/etc/netns/${NS}/ssh`;
const work = tmp("relay6-trust-");
const site = join(work, "home.yaml");
const secrets = join(work, "home.secrets.yaml");
const daemons: ChildProcess[] = [];
/** A path under ~ as relay6 and ssh see it (the temp home is mounted over the account's). */
const seen = (p: string) => join(userInfo().homedir, p);

const P = { both: 22901, ed: 22902, cert: 22903, badCert: 22904, silent: 22990, closed: 22999 } as const;
const key = (n: string) => join(work, n);
const pub = (n: string) => readFileSync(`${key(n)}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
const fp = (n: string) => execFileSync("ssh-keygen", ["-lf", `${key(n)}.pub`], { encoding: "utf8" }).split(" ")[1]!;

/** A fresh home directory for one scenario: .ssh (0700) with the files given. */
function home(files: Record<string, string> = {}): string {
  const h = mkdtempSync(join(work, "home-"));
  mkdirSync(join(h, ".ssh"), { mode: 0o700 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(h, ".ssh", name), text, { mode: 0o600 });
  return h;
}

/** relay6 as a user runs it, in the namespace, with `h` as the home directory ssh reads. */
function relay6(h: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("ip", ["netns", "exec", NS, ...withHome(h, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, SSH_AUTH_SOCK: "", ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

/** `apply vps --dry-run` against 127.0.0.1:port with the login key. */
const dry = (h: string, port: number, ...more: string[]) => relay6(h, ["apply", "vps", site, "--secrets", secrets, "--dry-run", "--host", "127.0.0.1", "--port", String(port), "-i", key("id"), ...more]);
const connected = (r: { code: number; out: string }, fingerprint: string) => {
  expect(r.out).toContain(`(host key ${fingerprint})`);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toContain("dry run: nothing changed");
};
/** Does `file` hold an entry for `name` (as ssh-keygen -F finds it)? */
const hasEntry = (file: string, name: string) => existsSync(file) && spawnSync("ssh-keygen", ["-F", name, "-f", file]).status === 0;

function startSshd(port: number, hostKeys: string[], certs: string[] = []): void {
  const conf = join(work, `sshd-${port}.conf`);
  writeFileSync(
    conf,
    [
      `ListenAddress 127.0.0.1:${port}`,
      ...hostKeys.map((k) => `HostKey ${key(k)}`),
      ...certs.map((c) => `HostCertificate ${key(c)}-cert.pub`),
      `AuthorizedKeysFile ${key("id")}.pub`,
      `PidFile ${join(work, `sshd-${port}.pid`)}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "",
    ].join("\n"),
  );
  daemons.push(spawn("ip", ["netns", "exec", NS, "/usr/sbin/sshd", "-D", "-e", "-f", conf], { stdio: "ignore" }));
}

const listening = (port: number) => spawnSync("ip", ["netns", "exec", NS, "bash", "-c", `echo > /dev/tcp/127.0.0.1/${port}`], { stdio: "ignore" }).status === 0;
const nsPids = () => spawnSync("ip", ["netns", "pids", NS], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).sort();

describe.skipIf(!root)("SSH host trust, against real sshd", () => {
  let base: string[] = [];
  beforeAll(async () => {
    execFileSync("ip", ["netns", "add", NS]);
    execFileSync("ip", ["-n", NS, "link", "set", "lo", "up"]);
    mkdirSync(etcSsh, { recursive: true });
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const gen = (n: string, type: string) => execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `relay6-test-${n}`, "-f", key(n)]);
    for (const n of ["id", "other", "host_ed", "ca", "stranger"]) gen(n, "ed25519");
    gen("host_rsa", "rsa");
    // The same host key, signed by the CA for 127.0.0.1, and for another name.
    for (const [n, principal] of [["host_cert", "127.0.0.1"], ["host_badcert", "vps.example"]] as const) {
      for (const ext of ["", ".pub"]) writeFileSync(key(n) + ext, readFileSync(key("host_ed") + ext), { mode: 0o600 });
      execFileSync("ssh-keygen", ["-q", "-s", key("ca"), "-I", n, "-h", "-n", principal, "-V", "-5m:+1h", `${key(n)}.pub`]);
    }
    startSshd(P.both, ["host_ed", "host_rsa"]);
    startSshd(P.ed, ["host_ed"]);
    startSshd(P.cert, ["host_cert"], ["host_cert"]);
    startSshd(P.badCert, ["host_badcert"], ["host_badcert"]);
    // Accepts TCP and never says a word (a firewall or a wedged sshd).
    daemons.push(spawn("ip", ["netns", "exec", NS, process.execPath, "-e", `require("net").createServer(() => {}).listen(${P.silent}, "127.0.0.1")`], { stdio: "ignore" }));
    for (const p of [P.both, P.ed, P.cert, P.badCert, P.silent]) await waitUntil(() => listening(p), 10_000, `port ${p}`);
    writeFileSync(site, readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8"));
    writeSecrets(secrets, { vps: { privateKey: generateKeyPair().privateKey }, router: { privateKey: generateKeyPair().privateKey } });
    base = nsPids();
  });

  afterAll(() => {
    for (const d of daemons) d.kill("SIGKILL");
    spawnSync("bash", ["-c", `ip netns pids ${NS} | xargs -r kill -9`]);
    spawnSync("ip", ["netns", "del", NS]);
    rmSync(`/etc/netns/${NS}`, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  describe("known_hosts lines, matched as ssh matches them", () => {
    it("a plain [host]:port entry matches; a changed key there is refused, even with --accept-new-host-key", () => {
      connected(dry(home({ known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n` }), P.ed), fp("host_ed"));

      const h = home({ known_hosts: `# a comment\n[127.0.0.1]:${P.ed} ${pub("other")}\n` });
      const kh = join(h, ".ssh/known_hosts");
      const r = dry(h, P.ed, "--accept-new-host-key");
      expect(r.code, r.out).toBe(1);
      expect(r.stderr).toContain(`relay6: the host key of [127.0.0.1]:${P.ed} CHANGED`);
      expect(r.stderr).toContain(`${seen(".ssh/known_hosts")}:2:1: error ssh-host-key-changed`);
      expect(r.stderr).toContain(fp("host_ed")); // what the impostor showed
      expect(r.stderr).toContain(`ssh-keygen -f '${seen(".ssh/known_hosts")}' -R '[127.0.0.1]:${P.ed}'`);
      expect(readFileSync(kh, "utf8")).toBe(`# a comment\n[127.0.0.1]:${P.ed} ${pub("other")}\n`); // nothing recorded
      // Also when the user's own config would let ssh through.
      const lax = dry(home({ config: "Host *\n  StrictHostKeyChecking no\n", known_hosts: `[127.0.0.1]:${P.ed} ${pub("other")}\n` }), P.ed);
      expect(lax.code, lax.out).toBe(1);
      expect(lax.stderr).toContain("ssh-host-key-changed");
    });

    it("a hashed [host]:port entry matches; a hashed entry with another key is a change", () => {
      const hashed = (pubkey: string) => {
        const h = home({ known_hosts: `[127.0.0.1]:${P.ed} ${pubkey}\n` });
        execFileSync("ssh-keygen", ["-q", "-H", "-f", join(h, ".ssh/known_hosts")], { stdio: "ignore" });
        rmSync(join(h, ".ssh/known_hosts.old"));
        expect(readFileSync(join(h, ".ssh/known_hosts"), "utf8")).toMatch(/^\|1\|/);
        return h;
      };
      connected(dry(hashed(pub("host_ed")), P.ed), fp("host_ed"));
      const r = dry(hashed(pub("other")), P.ed, "--accept-new-host-key");
      expect(r.code, r.out).toBe(1);
      expect(r.stderr).toContain("ssh-host-key-changed");
    });

    it("patterns and negation: [127.0.0.?] matches, !-negated it does not (and then counts as no entry)", () => {
      connected(dry(home({ known_hosts: `[127.0.0.?]:${P.ed} ${pub("host_ed")}\n` }), P.ed), fp("host_ed"));
      const negated = `[127.0.0.?]:${P.ed},![127.0.0.1]:${P.ed} ${pub("host_ed")}\n`;
      const r = dry(home({ known_hosts: negated }), P.ed);
      expect(r.code, r.out).toBe(1);
      expect(r.stderr).toContain("ssh-host-key-unknown");
      const h = home({ known_hosts: negated });
      const a = dry(h, P.ed, "--accept-new-host-key");
      expect(a.code, a.out).toBe(0);
      expect(readFileSync(join(h, ".ssh/known_hosts"), "utf8").split("\n").filter(Boolean)).toHaveLength(2);
    });

    it("several keys for one host: the one that matches is enough", () => {
      const lines = `[127.0.0.1]:${P.ed} ${pub("other")}\n127.0.0.9,[127.0.0.1]:${P.ed} ${pub("host_ed")}\n[127.0.0.1]:${P.ed} ${pub("stranger")}\n`;
      connected(dry(home({ known_hosts: lines }), P.ed), fp("host_ed"));
    });

    it("a host recorded with rsa that offers ed25519 first does not look changed (known types are preferred)", () => {
      const r = dry(home({ known_hosts: `[127.0.0.1]:${P.both} ${pub("host_rsa")}\n` }), P.both);
      connected(r, fp("host_rsa"));
    });

    it("@revoked is refused always, --accept-new-host-key or not, naming the @revoked line", () => {
      for (const accept of [false, true]) {
        const h = home({ known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n@revoked * ${pub("host_ed")}\n` });
        const r = dry(h, P.ed, ...(accept ? ["--accept-new-host-key"] : []));
        expect(r.code, r.out).toBe(1);
        expect(r.stderr).toContain(`relay6: the host key of [127.0.0.1]:${P.ed} is REVOKED`);
        expect(r.stderr).toContain(`${seen(".ssh/known_hosts")}:2:1: error ssh-host-key-revoked`);
        expect(r.stderr).toContain("ssh-keygen -f");
      }
    });

    it("@cert-authority: a certificate from the CA is trusted; one for another name is refused", () => {
      const ca = `@cert-authority [127.0.0.1]:* ${pub("ca")}\n`;
      const ok = dry(home({ known_hosts: ca }), P.cert);
      connected(ok, fp("host_ed"));
      expect(ok.stderr).toContain('presented a host certificate (ID "host_cert")');
      const bad = dry(home({ known_hosts: ca }), P.badCert);
      expect(bad.code, bad.out).toBe(1);
      expect(bad.stderr).toContain("ssh-host-cert-invalid");
      expect(bad.stderr).toContain("name is not a listed principal");
    });

    it("@cert-authority counts as an entry: --accept-new-host-key never records a plain key for a host the CA vouches for", () => {
      // OpenSSH's own accept-new would record it (the CA line is not a key of the host).
      const h = home({ known_hosts: `@cert-authority [127.0.0.1]:* ${pub("ca")}\n` });
      for (const port of [P.badCert, P.ed]) {
        const r = dry(h, port, "--accept-new-host-key");
        expect(r.code, r.out).toBe(1);
        expect(r.stderr).toContain("ssh-host-cert-invalid");
        expect(r.stderr).toContain("already has an entry");
      }
      expect(readFileSync(join(h, ".ssh/known_hosts"), "utf8")).toBe(`@cert-authority [127.0.0.1]:* ${pub("ca")}\n`);
    });

    it("an entry of another key type blocks --accept-new-host-key", () => {
      const h = home({ known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_rsa")}\n` }); // this sshd has no rsa key
      const r = dry(h, P.ed, "--accept-new-host-key");
      expect(r.code, r.out).toBe(1);
      expect(r.stderr).toContain("ssh-host-key-changed");
      expect(r.stderr).toContain("not the RSA key recorded");
      expect(hasEntry(join(h, ".ssh/known_hosts"), `[127.0.0.1]:${P.ed}`)).toBe(true);
      expect(readFileSync(join(h, ".ssh/known_hosts"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    });

    it("a truly new host: refused with its fingerprint; with --accept-new-host-key recorded, then trusted", () => {
      const h = home();
      const kh = join(h, ".ssh/known_hosts");
      const first = dry(h, P.ed);
      expect(first.code, first.out).toBe(1);
      expect(first.stderr).toContain(`first contact with [127.0.0.1]:${P.ed}: its ssh-ed25519 key fingerprint is ${fp("host_ed")}`);
      expect(existsSync(kh)).toBe(false);
      const accept = dry(h, P.ed, "--accept-new-host-key");
      connected(accept, fp("host_ed"));
      expect(accept.stderr).toContain(`# recorded [127.0.0.1]:${P.ed} ED25519 ${fp("host_ed")} in ${seen(".ssh/known_hosts")}`);
      expect(execFileSync("ssh-keygen", ["-l", "-F", `[127.0.0.1]:${P.ed}`, "-f", kh], { encoding: "utf8" })).toContain(fp("host_ed"));
      connected(dry(h, P.ed), fp("host_ed"));
      // A @revoked line for some other key says nothing about this host: still new.
      const r = home({ known_hosts: `@revoked * ${pub("other")}\n` });
      connected(dry(r, P.ed, "--accept-new-host-key"), fp("host_ed"));
      expect(hasEntry(join(r, ".ssh/known_hosts"), `[127.0.0.1]:${P.ed}`)).toBe(true);
    });
  });

  describe("the files ssh reads", () => {
    it("the global known_hosts file (/etc/ssh/ssh_known_hosts) is read, and its entries count for --accept-new-host-key", () => {
      try {
        writeFileSync(join(etcSsh, "ssh_known_hosts"), `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n`);
        connected(dry(home(), P.ed), fp("host_ed"));
        writeFileSync(join(etcSsh, "ssh_known_hosts"), `[127.0.0.1]:${P.ed} ${pub("other")}\n`);
        const h = home();
        const r = dry(h, P.ed, "--accept-new-host-key");
        expect(r.code, r.out).toBe(1);
        expect(r.stderr).toContain("/etc/ssh/ssh_known_hosts:1:1: error ssh-host-key-changed");
        expect(existsSync(join(h, ".ssh/known_hosts"))).toBe(false);
      } finally {
        rmSync(join(etcSsh, "ssh_known_hosts"), { force: true });
      }
    });

    it("UserKnownHostsFile and GlobalKnownHostsFile from ~/.ssh/config", () => {
      const global = join(work, "relay6_global_known_hosts");
      writeFileSync(global, `[127.0.0.1]:${P.both} ${pub("host_ed")}\n`);
      const config = `Host 127.0.0.1\n  UserKnownHostsFile ~/.ssh/known_hosts.d/%h-%p\n  GlobalKnownHostsFile ${global}\n`;
      // Trusted through the configured global file alone.
      connected(dry(home({ config }), P.both), fp("host_ed"));
      // A new key goes into the configured user file, not ~/.ssh/known_hosts.
      const h = home({ config });
      mkdirSync(join(h, ".ssh/known_hosts.d"), { mode: 0o700 });
      connected(dry(h, P.ed, "--accept-new-host-key"), fp("host_ed"));
      expect(hasEntry(join(h, `.ssh/known_hosts.d/127.0.0.1-${P.ed}`), `[127.0.0.1]:${P.ed}`)).toBe(true);
      expect(existsSync(join(h, ".ssh/known_hosts"))).toBe(false);
      // --known-hosts FILE replaces UserKnownHostsFile (the global files still count).
      const kh = join(work, "explicit_known_hosts");
      connected(dry(home({ config }), P.ed, "--known-hosts", kh, "--accept-new-host-key"), fp("host_ed"));
      expect(hasEntry(kh, `[127.0.0.1]:${P.ed}`)).toBe(true);
    });

    it("the user's LocalCommand is not run on relay6's connection", () => {
      const marker = join(work, "local-command-ran");
      const h = home({ config: `Host *\n  PermitLocalCommand yes\n  LocalCommand touch ${marker}\n`, known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n` });
      connected(dry(h, P.ed), fp("host_ed"));
      expect(existsSync(marker)).toBe(false);
    });

    it("~/.ssh/config resolves the host: HostName, Port, User, IdentityFile; flags and the site file's own values win", () => {
      writeFileSync(key("vps_login"), readFileSync(key("id")), { mode: 0o600 });
      const config = `Host myvps\n  HostName 127.0.0.1\n  Port ${P.ed}\n  User alice\n  IdentityFile ~/.ssh/vps_login\n`;
      const h = home({ config, known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n[127.0.0.1]:${P.both} ${pub("host_ed")}\n` });
      writeFileSync(join(h, ".ssh/vps_login"), readFileSync(key("id")), { mode: 0o600 });
      const withSsh = (ssh: string) => {
        const f = join(work, `site-${Math.abs(hash(ssh))}.yaml`);
        writeFileSync(f, readFileSync(site, "utf8").replace(/^vps:\n/m, `vps:\n  ssh: ${ssh}\n`));
        return f;
      };
      const run = (siteFile: string, ...more: string[]) => relay6(h, ["apply", "vps", siteFile, "--secrets", secrets, "--dry-run", ...more]);
      // The site names the alias; config's User alice has no login there: refused as alice.
      const alice = run(withSsh("{ host: myvps }"));
      expect(alice.code, alice.out).toBe(1);
      expect(alice.stderr).toContain(`SSH login as alice@127.0.0.1 was refused`);
      // --user wins over User; IdentityFile from the config logs in (no -i).
      const flag = run(withSsh("{ host: myvps }"), "--user", "root");
      connected(flag, fp("host_ed"));
      expect(flag.stderr).toContain(`connected to root@127.0.0.1:${P.ed} `);
      // The port came from ~/.ssh/config, not the site file: no warning, the rendered
      // firewall keeps sshd's own ports and this session's open (apply-detached.test.ts).
      expect(flag.stderr).not.toContain("warning: ssh reached the VPS on port");
      // vps.ssh.user written in the site file wins over User too.
      connected(run(withSsh("{ host: myvps, user: root }")), fp("host_ed"));
      // vps.ssh.port written in the site file wins over Port; --port wins over both.
      const sitePort = run(withSsh(`{ host: myvps, user: root, port: ${P.closed} }`));
      expect(sitePort.code, sitePort.out).toBe(1);
      expect(sitePort.stderr).toContain(`cannot reach 127.0.0.1 port ${P.closed} over SSH: connection refused`);
      const flagPort = run(withSsh(`{ host: myvps, user: root, port: ${P.closed} }`), "--port", String(P.both));
      expect(flagPort.stderr).toContain(`connected to root@127.0.0.1:${P.both} `);
      expect(flagPort.code, flagPort.out).toBe(0);
    });
  });

  describe("the agent first", () => {
    it("an encrypted default key whose key the agent holds: connects; without the agent: refused, exit 1, no crash", async () => {
      const h = home({ known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n` });
      const idFile = join(h, ".ssh/id_ed25519");
      writeFileSync(idFile, readFileSync(key("id")), { mode: 0o600 });
      writeFileSync(`${idFile}.pub`, readFileSync(`${key("id")}.pub`));
      execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "a passphrase relay6 never sees", "-f", idFile]);
      expect(readFileSync(idFile, "utf8")).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
      expect(spawnSync("ssh-keygen", ["-y", "-P", "", "-f", idFile]).status).not.toBe(0); // it is encrypted
      const sock = join(work, "agent.sock");
      const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
      try {
        await waitUntil(() => existsSync(sock), 5000, "ssh-agent");
        execFileSync("ssh-add", [key("id")], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
        const noI = (env: Record<string, string>) => relay6(h, ["apply", "vps", site, "--secrets", secrets, "--dry-run", "--host", "127.0.0.1", "--port", String(P.ed)], env);
        connected(noI({ SSH_AUTH_SOCK: sock }), fp("host_ed"));
        const without = noI({ SSH_AUTH_SOCK: "" });
        expect(without.code, without.out).toBe(1);
        expect(without.stderr).toContain("SSH login as root@127.0.0.1 was refused");
        expect(without.stderr).not.toContain("internal error");
      } finally {
        agent.kill("SIGTERM");
      }
    });
  });

  describe("exit statuses: 1 for the remote end or the network, 2 for a bad file or option, one line naming the host and the fix", () => {
    const kh = () => home({ known_hosts: `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n` });
    it("login refused", () => {
      const r = dry(kh(), P.ed, "-i", key("stranger"));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^relay6: SSH login as root@127\.0\.0\.1 was refused\n/);
      expect(r.stderr).toContain("fix: load the key into ssh-agent");
    });
    it("connection refused", () => {
      const r = dry(kh(), P.closed);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^relay6: cannot reach 127\\.0\\.0\\.1 port ${P.closed} over SSH: connection refused\\n`));
      expect(r.stderr).toContain("fix: is sshd running on 127.0.0.1");
    });
    it("DNS failure", () => {
      const r = relay6(kh(), ["apply", "vps", site, "--secrets", secrets, "--dry-run", "--host", "relay6-no-such-host.invalid", "-i", key("id")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^relay6: cannot resolve relay6-no-such-host\.invalid\n/);
      expect(r.stderr).toContain("fix: check the name");
    });
    it("timeout: something accepts TCP and never speaks SSH", () => {
      const t0 = Date.now();
      const r = dry(kh(), P.silent);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^relay6: SSH to root@127\.0\.0\.1:22990 timed out/);
      expect(Date.now() - t0).toBeLessThan(30_000);
    });
    it("a bad -i file, a bad --known-hosts path: exit 2, nothing attempted", () => {
      const missing = dry(kh(), P.ed, "-i", join(work, "no-such-key"));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`relay6: cannot read SSH key ${join(work, "no-such-key")} (-i): ENOENT`);
      writeFileSync(join(work, "not-a-key"), "hello\n");
      const notKey = dry(kh(), P.ed, "-i", join(work, "not-a-key"));
      expect(notKey.code).toBe(2);
      expect(notKey.stderr).toContain("is not an SSH key");
      const dir = dry(kh(), P.ed, "--known-hosts", work);
      expect(dir.code).toBe(2);
      expect(dir.stderr).toContain("not a regular file");
      const noDir = dry(kh(), P.ed, "--known-hosts", join(work, "no-dir/known_hosts"), "--accept-new-host-key");
      expect(noDir.code).toBe(2);
      expect(noDir.stderr).toContain("does not exist");
      for (const r of [missing, notKey, dir, noDir]) expect(r.stderr).not.toContain("connected to");
    });
    it("a bad line in ~/.ssh/config: exit 2, naming the file and line", () => {
      const h = home({ config: "Host *\n  NoSuchOption yes\n" });
      const r = dry(h, P.ed);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${seen(".ssh/config")}:2:1: error ssh-config: Bad configuration option: nosuchoption`);
    });
  });

  it("one session: stdin, stdout, stderr and exit statuses pass through; a connection cut between commands is an exit-1 error, never a hang", async () => {
    const h = home();
    const kh = join(work, "session_known_hosts");
    writeFileSync(kh, `[127.0.0.1]:${P.ed} ${pub("host_ed")}\n`);
    const child = spawn("ip", ["netns", "exec", NS, ...withHome(h, [process.execPath, "--import", "tsx", join(REPO, "test/fixtures/ssh/session.ts"), "127.0.0.1", String(P.ed), key("id"), kh])], { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] });
    const lines: string[] = [];
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
    });
    const next = async (n: number) => {
      await waitUntil(() => lines.length >= n, 20_000, `line ${n} from the session`);
      return JSON.parse(lines[n - 1]!);
    };
    try {
      expect(await next(1)).toEqual({ connected: fp("host_ed") });
      child.stdin!.write("cat; echo to-stderr >&2; exit 3\n");
      expect(await next(2)).toEqual({ code: 3, stdout: "from stdin\n", stderr: "to-stderr\n" });
      // Cut it: kill the sshd processes serving this connection (not the listeners).
      const serving = nsPids().filter((p) => !base.includes(p) && /^sshd: /.test(readFileSync(`/proc/${p}/cmdline`, "utf8")));
      expect(serving.length).toBeGreaterThan(0);
      for (const p of serving) process.kill(Number(p), "SIGKILL");
      child.stdin!.write("true\n");
      const lost = await next(3);
      expect(lost).toMatchObject({ exit: 1, code: "ssh-lost" });
      expect(lost.error).toContain(`the SSH connection to root@127.0.0.1:${P.ed} was lost`);
    } finally {
      child.stdin!.end();
      await new Promise((r) => child.once("close", r));
    }
  });

  it("leaves no ssh process behind (the control master exits with relay6)", () => {
    expect(nsPids()).toEqual(base);
    expect(spawnSync("pgrep", ["-f", "relay6-ssh-[^ ]*/ctl"]).stdout.toString()).toBe("");
  });
});

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
