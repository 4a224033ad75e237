// The daemons of each node, started from the rendered files: wg-quick and bird on the VPS;
// wg-quick, radvd and FRR (or the static gateway check) on the router; the lab records
// every process it starts so that `lab down` can stop it.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../plan/plan.js";
import { LabError, waitFor } from "./exec.js";
import { copyEtcDir } from "./files.js";
import { birdRunDir, daemon, ipIn, nsMust, nsOf } from "./nodes.js";
import type { LabClient, LabState } from "./state.js";
import { radvdConfig, startDrain } from "./drain.js";
import { clientIpv4Routes } from "./ipv4.js";


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

export const frrDir = (state: LabState) => join(state.dir, "frr");

async function startFrr(state: LabState): Promise<void> {
  // FRR's daemons drop to user frr: their socket directory and config must be theirs.
  const d = frrDir(state);
  mkdirSync(d, { recursive: true });
  const frr = execFileSync("id", ["-u", "frr"]).toString().trim();
  const frrGid = execFileSync("id", ["-g", "frr"]).toString().trim();
  chownSync(d, Number(frr), Number(frrGid));
  const etcFrr = `/etc/netns/${nsOf(state, "rtr")}/frr`;
  for (const f of readdirSync(etcFrr)) chownSync(join(etcFrr, f), Number(frr), Number(frrGid));
  chownSync(etcFrr, Number(frr), Number(frrGid));
  const common = (n: string) => ["--vty_socket", d, "-i", join(d, `${n}.pid`), "-A", "127.0.0.1", "--log", "stdout", "--log-level", "info"];
  const zserv = join(d, "zserv.api");
  daemon(state, "rtr", "zebra", ["/usr/lib/frr/zebra", ...common("zebra"), "-z", zserv, "-f", "/etc/frr/frr.conf"]);
  await waitFor("zebra's socket", () => (existsSync(zserv) ? true : undefined), 10_000);
  daemon(state, "rtr", "bfdd", ["/usr/lib/frr/bfdd", ...common("bfdd"), "-z", zserv, "--bfdctl", join(d, "bfdd.sock"), "-f", "/etc/frr/frr.conf"]);
  await waitFor("bfdd's socket", () => (existsSync(join(d, "bfdd.sock")) ? true : undefined), 10_000);
  daemon(state, "rtr", "bgpd", ["/usr/lib/frr/bgpd", ...common("bgpd"), "-z", zserv, "-f", "/etc/frr/frr.conf"]);
}

/** A hand-made VPS side (`lab up --vps-etc`): its etc/ tree, its firewall commands. */
export interface CustomVps {
  etc: string;
  firewall?: string;
  keys: { vpsPrivate: string; routerPublic: string };
}

/** The VPS: sysctl, the firewall (ACTIVE), wg-quick, bird. */
export async function startVps(state: LabState, plan: Plan, artDir: string, custom?: CustomVps): Promise<void> {
  const sysctls = custom
    ? (existsSync(join(custom.etc, "sysctl.d")) ? readdirSync(join(custom.etc, "sysctl.d")).map((f) => join(custom.etc, "sysctl.d", f)) : [])
    : [join(artDir, "vps/files/etc/sysctl.d/99-relay6.conf")];
  for (const f of sysctls) await nsMust(state, "vps", ["sysctl", "-q", "-p", f]);
  const firewall = custom ? custom.firewall : existsSync(join(artDir, "vps/firewall.sh")) ? join(artDir, "vps/firewall.sh") : undefined;
  if (firewall) {
    // ufw keeps its rules and state in /etc/ufw and /etc/default/ufw: per-namespace copies.
    copyEtcDir(state, "vps", "ufw");
    copyEtcDir(state, "vps", "default");
    await nsMust(state, "vps", ["bash", firewall], { timeoutMs: 60_000 });
  }
  await wgUp(state, "vps", "wg0");
  if (plan.failover.mode === "bgp-bfd") startBird(state);
}

/** The router: sysctl, addresses + firewall, radvd, FRR or the gateway check (wg-quick
 *  comes after, when the VPS listens). */
export async function startRouter(state: LabState, plan: Plan, artDir: string, clients: LabClient[]): Promise<void> {
  const dir = state.dir;
  const ip = async (role: string, ...args: string[]) => {
    const r = await ipIn(state, role, args);
    if (r.code !== 0) throw new LabError(`[${nsOf(state, role)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  await nsMust(state, "rtr", ["sysctl", "-q", "-p", join(artDir, "router/files/etc/sysctl.d/99-relay6.conf")]);
  await nsMust(state, "rtr", ["bash", join(artDir, "router/files/usr/local/sbin/relay6-router-net")]);
  // Each client captures its first router advertisement: `lab test` reads RDNSS from it.
  for (const c of clients) await ip(c.role, "link", "set", "eth0", "up");
  await clientIpv4Routes(state, clients);
  for (const c of clients)
    daemon(state, c.role, "ra-capture", ["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-c", "1", "-U", "-w", join(dir, `ra-${c.role}.pcap`), "icmp6 and ip6[40] == 134"]);
  for (const c of clients) await waitFor(`tcpdump in ${c.ns}`, () => (existsSync(join(dir, `ra-${c.role}.pcap`)) ? true : undefined), 5000);
  // radvd runs from the RA drain's copy of radvd.conf (as radvd.service's drop-in has it),
  // the drain's watcher beside it; with --no-drain from the rendered file, alone.
  const drain = state.drain !== false;
  const conf = await radvdConfig(state, drain);
  daemon(state, "rtr", "radvd", ["radvd", "-n", "-C", conf, "-p", join(dir, "radvd.pid"), "-m", "stderr"]);
  if (drain) startDrain(state);
  if (plan.failover.mode === "bgp-bfd") await startFrr(state);
  else daemon(state, "rtr", "gw-check", ["bash", join(artDir, "router/files/usr/local/sbin/relay6-gw-check")]);
}
