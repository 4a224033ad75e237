// A test host in its own network namespace: its own /etc dirs (ip netns exec binds
// /etc/netns/NS/*), its own /run (a tmpfs per exec, with persistent bird and wireguard
// socket dirs), optionally an sshd. Used by the apply tests; the lab has its own.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { tmp } from "./helpers.js";

export const WG_ENV = { WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" };

export class NetnsHost {
  readonly etc: string;
  readonly dir = tmp("relay6-host-");
  private sshd?: ChildProcess;

  constructor(readonly ns: string) {
    this.etc = `/etc/netns/${ns}`;
  }

  create(): this {
    if (process.getuid?.() !== 0) throw new Error("this test needs root (network namespaces)");
    execFileSync("ip", ["netns", "add", this.ns]);
    for (const d of ["wireguard", "bird", "sysctl.d", "systemd", "ssh"]) mkdirSync(join(this.etc, d), { recursive: true });
    cpSync("/etc/ufw", join(this.etc, "ufw"), { recursive: true });
    cpSync("/etc/default", join(this.etc, "default"), { recursive: true });
    for (const d of ["bird", "wireguard"]) mkdirSync(join(this.dir, "run", d), { recursive: true });
    execFileSync("ip", ["-n", this.ns, "link", "set", "lo", "up"]);
    return this;
  }

  /** The shell prefix that gives an exec this host's /run. */
  get runSetup(): string {
    const r = join(this.dir, "run");
    return `mount -t tmpfs relay6 /run && mkdir -p /run/bird /run/wireguard /run/sshd && mount --bind ${r}/bird /run/bird && mount --bind ${r}/wireguard /run/wireguard`;
  }

  sh(script: string, env: Record<string, string> = {}): { code: number; out: string } {
    const r = spawnSync("ip", ["netns", "exec", this.ns, "bash", "-c", `${this.runSetup} && ${script}`], {
      encoding: "utf8",
      env: { ...process.env, ...WG_ENV, ...env },
    });
    return { code: r.status ?? 255, out: (r.stdout ?? "") + (r.stderr ?? "") };
  }

  /** sshd's log (one `Accepted publickey` line per SSH connection). */
  get sshdLog(): string {
    return join(this.dir, "sshd", "sshd.log");
  }

  /** Starts sshd (root login by key) on `address`:22; returns the host key's .pub text. */
  startSshd(address: string, authorizedKey: string): string {
    const d = join(this.dir, "sshd");
    mkdirSync(d, { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(d, "host_ed25519")]);
    writeFileSync(join(d, "authorized_keys"), authorizedKey, { mode: 0o600 });
    writeFileSync(
      join(d, "sshd_config"),
      [
        `ListenAddress ${address}`,
        `HostKey ${join(d, "host_ed25519")}`,
        `AuthorizedKeysFile ${join(d, "authorized_keys")}`,
        `PidFile ${join(d, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        // The lab VPS has no kernel WireGuard: wg-quick uses wireguard-go.
        `SetEnv ${Object.entries(WG_ENV).map(([k, v]) => `${k}=${v}`).join(" ")}`,
        "",
      ].join("\n"),
    );
    this.sshd = spawn("ip", ["netns", "exec", this.ns, "bash", "-c", `${this.runSetup} && exec /usr/sbin/sshd -D -E ${this.sshdLog} -f ${join(d, "sshd_config")}`], { stdio: "ignore" });
    return readFileSync(join(d, "host_ed25519.pub"), "utf8");
  }

  destroy(): void {
    this.sshd?.kill("SIGKILL");
    spawnSync("bash", ["-c", `ip netns pids ${this.ns} | xargs -r kill -9`]);
    spawnSync("ip", ["netns", "del", this.ns]);
    rmSync(this.etc, { recursive: true, force: true });
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
