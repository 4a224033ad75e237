// A test host in its own network namespace AND its own mount namespace, held open by one
// long-lived process: every command (sh, exec, spawn, sshd and the SSH sessions it
// serves) runs inside that same mount namespace, so the host has its own copy of every
// path relay6's scripts write and keeps it between commands:
//   /etc, /var, /usr/local   overlays on the machine's own (reads see the packages'
//                            files, writes stay in this host's upper layer)
//   /etc/wireguard           a fresh, empty 0700 directory
//   /etc/ufw                 its rule files and ufw.conf as the package ships them
//   /run                     a private tmpfs (wireguard-go's sockets, bird's, ufw's lock,
//                            relay6's run dirs)
// /tmp is the machine's (tests hand rendered folders over through it). PID 1 here is not
// systemd: the scripts take their no-systemd paths, as in the lab.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { tmp } from "./helpers.js";

export const WG_ENV = { WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" };

/** The host's own paths: overlay mounts on the machine's directories of the same name. */
const OVERLAYS = ["/etc", "/var", "/usr/local"];

export class NetnsHost {
  readonly dir = tmp("relay6-host-");
  private holderPid?: number;
  private children: ChildProcess[] = [];

  constructor(readonly ns: string) {}

  create(): this {
    if (process.getuid?.() !== 0) throw new Error("this test needs root (network and mount namespaces)");
    execFileSync("ip", ["netns", "add", this.ns]);
    const mounts: string[] = ["mount --make-rprivate /"];
    for (const m of OVERLAYS) {
      const n = m.slice(1).replace(/\//g, "-");
      mkdirSync(join(this.dir, `${n}.up`), { recursive: true });
      mkdirSync(join(this.dir, `${n}.work`), { recursive: true });
      mounts.push(`mount -t overlay relay6-${n} -o lowerdir=${m},upperdir=${this.dir}/${n}.up,workdir=${this.dir}/${n}.work ${m}`);
    }
    mkdirSync(join(this.dir, "wireguard"), { mode: 0o700 });
    mounts.push(
      // ufw's rule files and its enabled flag as the package ships them: the machine's own
      // may hold what something else did there.
      "for f in /usr/share/ufw/*.rules; do install -m 640 -o root -g root \"$f\" /etc/ufw/; done",
      "install -m 644 -o root -g root /usr/share/ufw/ufw.conf /etc/ufw/ufw.conf",
      `mount --bind ${this.dir}/wireguard /etc/wireguard`,
      "mount -t tmpfs -o mode=755 relay6-run /run",
      "mkdir -p /run/sshd /run/lock",
    );
    const pidFile = join(this.dir, "holder.pid");
    // `ip netns exec` enters the network namespace and gives the command a mount namespace
    // of its own; the holder makes the mounts there and then only keeps it open.
    const holder = spawn("ip", ["netns", "exec", this.ns, "bash", "-c", `set -e; ${mounts.join("; ")}; echo $$ > ${pidFile}; exec sleep infinity`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    holder.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    this.children.push(holder);
    const end = Date.now() + 10_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") {
      if (holder.exitCode !== null || Date.now() > end) throw new Error(`the namespace host ${this.ns} did not start: ${err}`);
      spawnSync("sleep", ["0.02"]);
    }
    this.holderPid = Number(readFileSync(pidFile, "utf8").trim());
    execFileSync("ip", ["-n", this.ns, "link", "set", "lo", "up"]);
    return this;
  }

  get pid(): number {
    if (this.holderPid === undefined) throw new Error(`namespace host ${this.ns} not created`);
    return this.holderPid;
  }

  /** A path on this host as the test process sees it (through the holder's root). */
  path(p: string): string {
    return `/proc/${this.pid}/root${p}`;
  }

  /** This host's /etc, seen from the test process. */
  get etc(): string {
    return this.path("/etc");
  }

  /** argv that runs `cmd` on this host (its network and mount namespaces). */
  argv(cmd: readonly string[]): string[] {
    return ["nsenter", "-t", String(this.pid), "-m", "-n", "--", ...cmd];
  }

  sh(script: string, env: Record<string, string> = {}, timeoutMs = 120_000): { code: number; out: string; stdout: string; stderr: string } {
    const [c, ...args] = this.argv(["bash", "-c", script]);
    const r = spawnSync(c!, args, { encoding: "utf8", env: { ...process.env, ...WG_ENV, ...env }, timeout: timeoutMs });
    return { code: r.status ?? 255, out: (r.stdout ?? "") + (r.stderr ?? ""), stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** sh(), without blocking the event loop (long scripts: vitest's worker must stay able
   *  to answer its runner). */
  run(script: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number; out: string; stdout: string; stderr: string }> {
    const [c, ...args] = this.argv(["bash", "-c", script]);
    return new Promise((resolve) => {
      const p = spawn(c!, args, { env: { ...process.env, ...WG_ENV, ...env }, timeout: timeoutMs });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("close", (code) => resolve({ code: code ?? 255, out: stdout + stderr, stdout, stderr }));
    });
  }

  /** Starts a long-running process on this host; destroy() stops it. */
  spawn(cmd: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [c, ...args] = this.argv(cmd);
    const p = spawn(c!, args, { stdio: "ignore", ...opts, env: { ...process.env, ...WG_ENV, ...(opts.env ?? {}) } });
    this.children.push(p);
    return p;
  }

  /** sshd's log (one `Accepted publickey` line per SSH connection). */
  get sshdLog(): string {
    return join(this.dir, "sshd", "sshd.log");
  }

  /** Starts sshd (root login by key) on `address`:`port` with its config where sshd itself
   *  looks for it (/etc/ssh/sshd_config), so that `sshd -T` on this host describes it.
   *  Returns the host key's .pub text. */
  startSshd(address: string, authorizedKey: string, port = 22, env: Record<string, string> = {}): string {
    const d = join(this.dir, "sshd");
    mkdirSync(d, { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(d, "host_ed25519")]);
    writeFileSync(join(d, "authorized_keys"), authorizedKey, { mode: 0o600 });
    mkdirSync(this.path("/etc/ssh"), { recursive: true });
    writeFileSync(
      this.path("/etc/ssh/sshd_config"),
      [
        `Port ${port}`,
        `ListenAddress ${address}`,
        `HostKey ${join(d, "host_ed25519")}`,
        `AuthorizedKeysFile ${join(d, "authorized_keys")}`,
        `PidFile /run/sshd.pid`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        // The namespace host has no kernel WireGuard: wg-quick uses wireguard-go.
        `SetEnv ${Object.entries({ ...WG_ENV, ...env }).map(([k, v]) => `${k}=${v}`).join(" ")}`,
        "",
      ].join("\n"),
    );
    this.sshdProcess = this.spawn(["/usr/sbin/sshd", "-D", "-E", this.sshdLog]);
    return readFileSync(join(d, "host_ed25519.pub"), "utf8");
  }

  /** The sshd started by startSshd. */
  sshdProcess?: ChildProcess;

  /** The pids of the sshd processes serving connections now (children of the sshd that
   *  startSshd started), to cut a connection off from the server side. */
  sshSessionPids(): number[] {
    const listener = this.sshdProcess?.pid;
    if (!listener) return [];
    // nsenter without a PID namespace execs sshd itself: the sessions are its children.
    return spawnSync("ps", ["--ppid", String(listener), "-o", "pid="], { encoding: "utf8" }).stdout.split("\n").map((x) => Number(x.trim())).filter(Boolean);
  }

  destroy(): void {
    for (const c of this.children) c.kill("SIGKILL");
    // Everything started on this host lives in its network namespace: detached runs too.
    spawnSync("bash", ["-c", `ip netns pids ${this.ns} | xargs -r kill -9`]);
    spawnSync("ip", ["netns", "del", this.ns]);
    // The mounts went with the last process of the mount namespace (a process's
    // namespaces are released when it exits, zombie or not).
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** argv run with `home` as the home directory OpenSSH reads (~/.ssh): ssh takes it from
 *  the password database, not $HOME, so the temp dir is mounted over the account's home in
 *  a private mount namespace (root only). Tests never read the machine's own ~/.ssh. */
export function withHome(home: string, argv: string[]): string[] {
  const accountHome = userInfo().homedir;
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && HOME="$0" exec "$@"', accountHome, home, accountHome, ...argv];
}

/** Polls until fn() is true or the time is up. */
export async function waitUntil(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
