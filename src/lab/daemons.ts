// The daemons of each node, started from the rendered files: wg-quick and bird on the VPS;
// wg-quick, radvd and FRR (or the static gateway check) on the router; the lab records
// every process it starts so that `lab down` can stop it.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import { LabError, spawnDaemon, waitFor } from "./exec.js";
import { birdRunDir, inNs, ipIn, nsMust, nsOf } from "./nodes.js";
import { saveState, type LabClient, type LabState } from "./state.js";

export function daemon(state: LabState, role: string, name: string, cmd: string[], env: Record<string, string> = {}): number {
  const pid = spawnDaemon(inNs(state, role, cmd), join(state.dir, "logs", `${role}-${name}.log`), env);
  state.daemons.push({ name, ns: nsOf(state, role), pid });
  saveState(state);
  return pid;
}

export async function wgUp(state: LabState, role: string, wg: string): Promise<void> {
  await nsMust(state, role, ["wg-quick", "up", wg], { timeoutMs: 20_000 });
}

export async function wgDown(state: LabState, role: string, wg: string): Promise<void> {
  await nsMust(state, role, ["wg-quick", "down", wg], { timeoutMs: 20_000 });
}

/** bird's control socket: the VPS's default /run/bird/bird.ctl, seen from the host. */
export const birdSocket = (state: LabState) => join(birdRunDir(state), "bird.ctl");

export function startBird(state: LabState): number {
  return daemon(state, "vps", "bird", ["bird", "-f", "-c", "/etc/bird/bird.conf", "-s", birdSocket(state), "-P", join(state.dir, "bird.pid")]);
}

/** The FRR socket directory of a router node (the first site's: <lab>/frr). */
export const frrDir = (state: LabState, role = "rtr") => join(state.dir, role === "rtr" ? "frr" : `frr-${role}`);

async function startFrr(state: LabState, role: string): Promise<void> {
  // FRR's daemons drop to user frr: their socket directory and config must be theirs.
  const d = frrDir(state, role);
  mkdirSync(d, { recursive: true });
  const frr = execFileSync("id", ["-u", "frr"]).toString().trim();
  const frrGid = execFileSync("id", ["-g", "frr"]).toString().trim();
  chownSync(d, Number(frr), Number(frrGid));
  const etcFrr = `/etc/netns/${nsOf(state, role)}/frr`;
  for (const f of readdirSync(etcFrr)) chownSync(join(etcFrr, f), Number(frr), Number(frrGid));
  chownSync(etcFrr, Number(frr), Number(frrGid));
  const common = (n: string) => ["--vty_socket", d, "-i", join(d, `${n}.pid`), "-A", "127.0.0.1", "--log", "stdout", "--log-level", "info"];
  const zserv = join(d, "zserv.api");
  daemon(state, role, "zebra", ["/usr/lib/frr/zebra", ...common("zebra"), "-z", zserv, "-f", "/etc/frr/frr.conf"]);
  await waitFor("zebra's socket", () => (existsSync(zserv) ? true : undefined), 10_000);
  daemon(state, role, "bfdd", ["/usr/lib/frr/bfdd", ...common("bfdd"), "-z", zserv, "--bfdctl", join(d, "bfdd.sock"), "-f", "/etc/frr/frr.conf"]);
  await waitFor("bfdd's socket", () => (existsSync(join(d, "bfdd.sock")) ? true : undefined), 10_000);
  daemon(state, role, "bgpd", ["/usr/lib/frr/bgpd", ...common("bgpd"), "-z", zserv, "-f", "/etc/frr/frr.conf"]);
}

/** The VPS: sysctl, the firewall (ACTIVE), wg-quick, bird. */
export async function startVps(state: LabState, relay: RelayPlan, artDir: string): Promise<void> {
  await nsMust(state, "vps", ["sysctl", "-q", "-p", join(artDir, "vps/files/etc/sysctl.d/99-relay6.conf")]);
  if (existsSync(join(artDir, "vps/firewall.sh"))) {
    // ufw's rules and state are the node's own copies (vpsUfwEtc, before sshd started).
    await nsMust(state, "vps", ["bash", join(artDir, "vps/firewall.sh")], { timeoutMs: 60_000 });
  }
  await wgUp(state, "vps", "wg0");
  if (relay.bgp) startBird(state);
}

/** A router: sysctl, addresses + firewall, radvd, FRR or the gateway check (wg-quick
 *  comes after, when the VPS listens). `role`: its node; `routerDir`: its router/ folder
 *  in the render output. */
export async function startRouter(state: LabState, plan: Plan, routerDir: string, clients: LabClient[], role = "rtr"): Promise<void> {
  const dir = state.dir;
  const ip = async (node: string, ...args: string[]) => {
    const r = await ipIn(state, node, args);
    if (r.code !== 0) throw new LabError(`[${nsOf(state, node)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  await nsMust(state, role, ["sysctl", "-q", "-p", join(routerDir, "files/etc/sysctl.d/99-relay6.conf")]);
  await nsMust(state, role, ["bash", join(routerDir, "files/usr/local/sbin/relay6-router-net")]);
  // Each client captures its first router advertisement: `lab test` reads RDNSS from it.
  for (const c of clients) await ip(c.role, "link", "set", "eth0", "up");
  for (const c of clients)
    daemon(state, c.role, "ra-capture", ["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-c", "1", "-U", "-w", join(dir, `ra-${c.role}.pcap`), "icmp6 and ip6[40] == 134"]);
  for (const c of clients) await waitFor(`tcpdump in ${c.ns}`, () => (existsSync(join(dir, `ra-${c.role}.pcap`)) ? true : undefined), 5000);
  daemon(state, role, "radvd", ["radvd", "-n", "-C", join(routerDir, "files/etc/radvd.conf"), "-p", join(dir, role === "rtr" ? "radvd.pid" : `radvd-${role}.pid`), "-m", "stderr"]);
  if (plan.failover.mode === "bgp-bfd") await startFrr(state, role);
  else daemon(state, role, "gw-check", ["bash", join(routerDir, "files/usr/local/sbin/relay6-gw-check")]);
}
