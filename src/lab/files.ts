// The rendered files, per node: `ip netns exec` shows /etc/netns/<ns>/X as /etc/X inside
// the namespace, so each node's etc/ tree is copied there.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { nsOf } from "./nodes.js";
import { saveState, type LabState } from "./state.js";

/** The daemons' own /etc directories, which their packages normally make. */
const DAEMON_ETC_DIRS = new Set(["wireguard", "bird", "frr", "relay6"]);

function recordEtcDir(state: LabState, dst: string): void {
  if (!state.etcDirs.includes(dst)) {
    state.etcDirs.push(dst);
    saveState(state);
  }
}

/** Copies a rendered etc/ tree into /etc/netns/<ns>/. `ip netns exec` can only bind-mount
 *  over what exists in the host's /etc: a daemon's missing directory is created empty;
 *  anything else missing is left out (the lab passes such files by their path in the
 *  render output). */
export function installEtc(state: LabState, role: string, src: string, substitute: Record<string, string> = {}): void {
  if (!existsSync(src)) return;
  const dst = `/etc/netns/${nsOf(state, role)}`;
  recordEtcDir(state, dst);
  mkdirSync(dst, { recursive: true });
  for (const top of readdirSync(src, { withFileTypes: true })) {
    if (!existsSync(join("/etc", top.name))) {
      if (!top.isDirectory() || !DAEMON_ETC_DIRS.has(top.name)) continue;
      mkdirSync(join("/etc", top.name), { mode: 0o755 });
    }
    cpSync(join(src, top.name), join(dst, top.name), { recursive: true });
  }
  // Placeholders of a hand-made tree (the recipe's <VPS_PRIVKEY>): filled in the copies.
  if (Object.keys(substitute).length === 0) return;
  for (const e of readdirSync(dst, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = join(e.parentPath, e.name);
    const text = readFileSync(f, "utf8");
    let out = text;
    for (const [k, v] of Object.entries(substitute)) out = out.split(k).join(v);
    if (out !== text) writeFileSync(f, out);
  }
}

/** A bare VPS: the directories its packages would have made, nothing of relay6's in them;
 *  ufw's own files (default policies, rules) as the package ships them. */
export function bareVpsEtc(state: LabState): void {
  const dst = `/etc/netns/${nsOf(state, "vps")}`;
  for (const d of ["wireguard", "bird", "sysctl.d", "systemd", "relay6"]) {
    if (!existsSync(join("/etc", d))) mkdirSync(join("/etc", d), { mode: 0o755 });
    mkdirSync(join(dst, d), { recursive: true, mode: d === "wireguard" ? 0o700 : 0o755 });
  }
  recordEtcDir(state, dst);
}

/** The VPS's own ufw: /etc/ufw and /etc/default as the node's copies, its rule files and
 *  its enabled flag as the package ships them (the machine's may hold what something else
 *  did there). Made before any process starts in the node: `ip netns exec` bind-mounts
 *  /etc/netns/<ns>/ufw only for the processes it starts after the folder exists, so an sshd
 *  started earlier would let `relay6 apply vps` write the machine's /etc/ufw. */
export function vpsUfwEtc(state: LabState): void {
  copyEtcDir(state, "vps", "ufw");
  copyEtcDir(state, "vps", "default");
  const ufw = `/etc/netns/${nsOf(state, "vps")}/ufw`;
  for (const f of readdirSync("/usr/share/ufw")) {
    if (f.endsWith(".rules") || f === "ufw.conf") {
      copyFileSync(join("/usr/share/ufw", f), join(ufw, f));
      chmodSync(join(ufw, f), f === "ufw.conf" ? 0o644 : 0o640);
    }
  }
}

/** The host's /etc/<name> as the node's own copy (ufw keeps its state in /etc/ufw). */
function copyEtcDir(state: LabState, role: string, name: string): void {
  const dst = `/etc/netns/${nsOf(state, role)}`;
  mkdirSync(dst, { recursive: true });
  recordEtcDir(state, dst);
  cpSync(join("/etc", name), join(dst, name), { recursive: true, dereference: false });
}

export function copySecret(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true, mode: 0o700 });
  copyFileSync(src, dst);
  chmodSync(dst, 0o600);
}
