// OpenSSH's sshd in a lab node, so that `relay6 apply` and `relay6 verify` reach the lab's
// VPS and router as they reach real ones: over SSH, host keys checked, keys for login.
// Sessions inherit the node's mount view (its own /run/wireguard and /run/bird) and the
// environment wg-quick needs for wireguard-go.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./exec.js";
import { WG_ENV, nsRun } from "./nodes.js";
import type { LabState } from "./state.js";
import { daemon } from "./nodes.js";

/** The lab's login key (made once per lab): relay6 uses it with `-i`. */
export function labSshKey(state: LabState): string {
  const dir = join(state.dir, "ssh");
  const key = join(dir, "id_ed25519");
  if (!existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `relay6-lab-${state.name}`, "-f", key]);
  }
  return key;
}

export async function startSshd(state: LabState, role: string, listen: string): Promise<void> {
  const dir = join(state.dir, "ssh", role);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, "host_ed25519");
  if (!existsSync(hostKey)) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${labSshKey(state)}.pub`), { mode: 0o600 });
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `ListenAddress ${listen}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      `SetEnv ${Object.entries(WG_ENV).map(([k, v]) => `${k}=${v}`).join(" ")}`,
      "",
    ].join("\n"),
  );
  // sshd wants its privilege-separation directory; the host's package makes it at boot.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  daemon(state, role, "sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")]);
  await waitFor(
    `sshd in ${role}`,
    async () => ((await nsRun(state, "inet", ["bash", "-c", `echo > /dev/tcp/${listen}/22`])).code === 0 ? true : undefined),
    10_000,
    50,
  );
}
