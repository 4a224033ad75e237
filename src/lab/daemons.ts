// The daemons of each node, started from the rendered files: wg-quick and bird on the VPS;
// wg-quick, radvd and FRR (or the static gateway check) on the router; the lab records
// every process it starts so that `lab down` can stop it.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import { LabError, waitFor } from "./exec.js";
import { birdRunDir, daemon, ipIn, nsMust, nsOf } from "./nodes.js";
import type { LabClient, LabState } from "./state.js";
import { radvdConfig, radvdPidFile, startDrain } from "./drain.js";
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

/** A hand-made VPS side (`lab up --vps-etc`): its etc/ tree, its firewall commands. */
export interface CustomVps {
  etc: string;
  firewall?: string;
  keys: { vpsPrivate: string; routerPublic: string };
}

/** The VPS: sysctl, the firewall (ACTIVE), wg-quick, bird. */
export async function startVps(state: LabState, relay: RelayPlan, artDir: string, custom?: CustomVps): Promise<void> {
  const sysctls = custom
    ? (existsSync(join(custom.etc, "sysctl.d")) ? readdirSync(join(custom.etc, "sysctl.d")).map((f) => join(custom.etc, "sysctl.d", f)) : [])
    : [join(artDir, "vps/files/etc/sysctl.d/99-relay6.conf")];
  for (const f of sysctls) await nsMust(state, "vps", ["sysctl", "-q", "-p", f]);
  const firewall = custom ? custom.firewall : existsSync(join(artDir, "vps/firewall.sh")) ? join(artDir, "vps/firewall.sh") : undefined;
  if (firewall) {
    // ufw's rules and state are the node's own copies (vpsUfwEtc, before sshd started).
    // Each site adds its own ufw commands (about a second's worth): a relay of 64 sites ran
    // past a flat minute here.
    await nsMust(state, "vps", ["bash", firewall], { timeoutMs: 60_000 + 3_000 * relay.sites.length });
  }
  await wgUp(state, "vps", "wg0");
  if (relay.bgp) startBird(state);
  // vps.onLink: ndppd by hand (no systemd in a namespace), in the foreground, on the rendered
  // configuration; after wg0, as setup.sh starts it.
  if (relay.vps.onLink) startNdppd(state, join(artDir, NDPPD_ARTIFACT));
}

/** Where the rendered ndppd.conf is in the render output. */
export const NDPPD_ARTIFACT = "vps/files/etc/relay6/ndppd.conf";

export function startNdppd(state: LabState, conf: string): number {
  return daemon(state, "vps", "ndppd", ["ndppd", "-c", conf]);
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
  await clientIpv4Routes(state, clients);
  for (const c of clients)
    daemon(state, c.role, "ra-capture", ["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-c", "1", "-U", "-w", join(dir, `ra-${c.role}.pcap`), "icmp6 and ip6[40] == 134"]);
  for (const c of clients) await waitFor(`tcpdump in ${c.ns}`, () => (existsSync(join(dir, `ra-${c.role}.pcap`)) ? true : undefined), 5000);
  // radvd runs from the RA drain's copy of radvd.conf (as radvd.service's drop-in has it),
  // the drain's watcher beside it; with --no-drain from the rendered file, alone.
  const drain = state.drain !== false;
  const r = { role, routerDir };
  const conf = await radvdConfig(state, r, drain);
  daemon(state, role, "radvd", ["radvd", "-n", "-C", conf, "-p", radvdPidFile(state, role), "-m", "stderr"]);
  if (drain) startDrain(state, r);
  if (plan.failover.mode === "bgp-bfd") await startFrr(state, role);
  else daemon(state, role, "gw-check", ["bash", join(routerDir, "files/usr/local/sbin/relay6-gw-check")]);
}
