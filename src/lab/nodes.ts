// Commands inside the lab's namespaces.
//
// wireguard-go keeps its control sockets in /run/wireguard, which `ip netns exec` does not
// separate: a second wg0 in another namespace would fail ("UAPI listen error") and `wg show`
// would see the first. `ip netns exec` gives each command a private mount namespace, so
// every command in the vps and rtr namespaces first bind-mounts that node's own socket
// directory over /run/wireguard. wireguard-go, started by wg-quick under the same mount,
// keeps it; later `wg` commands make the same mount and find its socket. The host's
// /run/wireguard is only used as the mount point, never written.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { must, run, spawnDaemon, type RunOptions, type RunResult } from "./exec.js";
import { nsName, saveState, type LabState } from "./state.js";

export const WG_ENV = {
  WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go",
  WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1",
};

/** The nodes that run WireGuard: the VPS and every site's router. */
const isWgRole = (role: string) => role === "vps" || /^rtr\d*$/.test(role);

export function wgSocketDir(state: LabState, role: string): string {
  return join(state.dir, `wg-${role}`);
}

/** The VPS's own /run/bird: bird's default control socket, as setup.sh (run over SSH by
 *  `relay6 apply vps`) and birdc expect it, without touching the host's. */
export function birdRunDir(state: LabState): string {
  return join(state.dir, "bird-run");
}

/** The node's own copies of the directories relay6's setup.sh keeps state in (its
 *  originals for undo.sh, /var/lib/relay6) and apply's run dirs (/run/relay6): the host's
 *  are only mount points, so that nodes, and labs, never see each other's. */
const RELAY6_DIRS = ["/var/lib/relay6", "/run/relay6"];

/** argv that runs `cmd` in the namespace of node `role`. */
export function inNs(state: LabState, role: string, cmd: readonly string[]): string[] {
  const ns = nsOf(state, role);
  if (!isWgRole(role)) return ["ip", "netns", "exec", ns, ...cmd];
  const dir = wgSocketDir(state, role);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync("/run/wireguard", { recursive: true, mode: 0o755 });
  const own = RELAY6_DIRS.map((d) => {
    const mine = join(state.dir, `${role}${d.replace(/\//g, "-")}`);
    mkdirSync(mine, { recursive: true, mode: 0o700 });
    mkdirSync(d, { recursive: true, mode: 0o755 });
    return `mount --bind ${mine} ${d}`;
  });
  if (role !== "vps") return ["ip", "netns", "exec", ns, "sh", "-c", `mount --bind "$0" /run/wireguard && ${own.join(" && ")} && exec "$@"`, dir, ...cmd];
  const bird = birdRunDir(state);
  mkdirSync(bird, { recursive: true, mode: 0o755 });
  mkdirSync("/run/bird", { recursive: true, mode: 0o755 });
  return ["ip", "netns", "exec", ns, "sh", "-c", `mount --bind "$0" /run/wireguard && mount --bind "$1" /run/bird && ${own.join(" && ")} && shift && exec "$@"`, dir, bird, ...cmd];
}

export function nsOf(state: LabState, role: string): string {
  return nsName(state.name, role);
}

export function nsRun(state: LabState, role: string, cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(inNs(state, role, cmd), { ...opts, env: { ...WG_ENV, ...(opts.env ?? {}) } });
}

export function nsMust(state: LabState, role: string, cmd: readonly string[], opts: RunOptions = {}): Promise<string> {
  return must(inNs(state, role, cmd), { ...opts, env: { ...WG_ENV, ...(opts.env ?? {}) } });
}

/** `ip -n NS ...`: no mount namespace, no fork of a shell: cheap enough to poll. */
export function ipIn(state: LabState, role: string, args: readonly string[]): Promise<RunResult> {
  return run(["ip", "-n", nsOf(state, role), ...args]);
}

/** A long-running process of the lab in node `role`'s namespace, recorded in the state
 *  (its log in the lab's logs/). */
export function daemon(state: LabState, role: string, name: string, cmd: string[], env: Record<string, string> = {}): number {
  const pid = spawnDaemon(inNs(state, role, cmd), join(state.dir, "logs", `${role}-${name}.log`), env);
  state.daemons.push({ name, ns: nsOf(state, role), pid });
  saveState(state);
  return pid;
}
