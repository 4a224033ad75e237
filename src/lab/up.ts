// `relay6 lab up`: the relay built from a site file, in network namespaces, with the real
// daemons running the files relay6 renders.
//
//      internet host 2001:db8:ffff::100 (on inet's lo)
//   ┌──────────── inet ────────────┐  routes the site's prefix to the VPS; IPv4 router
//   │ vps0                 rtr0     │
//   └──┬────────────────────┬──────┘
//      │ IPv4 + IPv6         │ IPv4 only (an IPv4-only ISP)
//   ┌──┴── vps ──┐       ┌───┴──── rtr ─────┐
//   │ <nic>  wg0 ├─ WireGuard over IPv4 ───┤ wg0  <wan>        │
//   │ bird, ufw  │       │ FRR, radvd       │
//   └────────────┘       └──┬────────────┬──┘
//                     <segment 1 if>  <segment 2 if> ...
//                        ┌──┴──┐      ┌──┴──┐
//                        │ c1  │      │ c2  │  SLAAC hosts
//                        └─────┘      └─────┘
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync, chownSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { hasErrors, UserError } from "../errors.js";
import { generateKeyPair, writeSecrets } from "../keys/wireguard.js";
import { startSshd } from "./sshd.js";
import type { Plan } from "../plan/plan.js";
import { analyse, renderPlan } from "../render/render.js";
import type { Artifact } from "../render/types.js";
import { loadSiteFile } from "../site/load.js";
import { VERSION } from "../version.js";
import { containsAddress, isIPv4, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import { LabError, must, spawnDaemon, waitFor } from "./exec.js";
import { labDown } from "./down.js";
import { birdRunDir, inNs, ipIn, nsMust, nsOf, nsRun } from "./nodes.js";
import { checkLabName, isLabNamespace, loadState, newState, saveState, type LabClient, type LabState } from "./state.js";

/** The internet host: documentation space outside the site's prefix. */
export const INTERNET_HOST = "2001:db8:ffff::100";
const INTERNET_HOST_ALT = "3fff:ffff::100";

function internetHostFor(plan: Plan): string {
  const p = parsePrefix6(plan.prefix);
  const a = parseAddress6(INTERNET_HOST)!;
  return p.ok && containsAddress(p.prefix, a) ? INTERNET_HOST_ALT : INTERNET_HOST;
}
/** The router's IPv4 underlay (its "ISP"): shared address space, RFC 6598. */
const ROUTER_UNDERLAY = { address: "100.64.0.2", gateway: "100.64.0.1", length: 24 };

export interface UpOptions {
  name: string;
  siteFile: string;
  /** Run sshd on the VPS and the router (for `relay6 apply` / `relay6 verify`). */
  ssh?: boolean;
  /** Leave the VPS bare (no relay6 files, nothing running but sshd): `relay6 apply vps`
   *  configures it. Implies ssh. */
  bareVps?: boolean;
  log?: (line: string) => void;
}

export interface UpResult {
  state: LabState;
  ms: number;
}

/** Where the bundled lab site lives (lab/sites/lab.yaml beside package.json). */
export function bundledSite(): string {
  return new URL("../../lab/sites/lab.yaml", import.meta.url).pathname;
}

export async function labUp(opts: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const name = checkLabName(opts.name);
  if (process.getuid?.() !== 0) throw new UserError("the lab makes network namespaces: run it as root");
  const { plan, artifacts, keys, secrets } = renderForLab(opts.siteFile);

  if (loadState(name) || (await leftoverNamespaces(name)).length > 0) {
    log(`a lab "${name}" exists: taking it down first`);
    await labDown(name);
  }
  // Absolute: `lab test` re-reads the site (the trap case) from wherever it is run.
  const state = newState(name, resolve(opts.siteFile));
  state.plan = plan;
  state.keys = { vpsPublicKey: keys.vps, routerPublicKey: keys.router };
  saveState(state);
  // The lab's keys as a relay6 secrets file: `relay6 apply|verify SITE --secrets` use them.
  writeSecrets(labSecretsFile(state), { vps: { privateKey: secrets.vps }, router: { privateKey: secrets.router } });
  try {
    await build(state, plan, artifacts, log, { ssh: !!(opts.ssh || opts.bareVps), bareVps: !!opts.bareVps });
  } catch (e) {
    log(`lab up failed: ${(e as Error).message}`);
    log(`logs are in ${state.dir}/logs; \`relay6 lab down${name === "lab" ? "" : ` --name ${name}`}\` removes what was made`);
    throw e;
  }
  state.ready = true;
  saveState(state);
  return { state, ms: Date.now() - t0 };
}

export async function leftoverNamespaces(name: string): Promise<string[]> {
  const out = await must(["ip", "netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => isLabNamespace(name, n));
}

/** The site, checked and rendered exactly as `relay6 render` would, with fresh lab keys. */
export function renderForLab(siteFile: string): { plan: Plan; artifacts: Artifact[]; keys: { vps: string; router: string }; secrets: { vps: string; router: string } } {
  const loaded = loadSiteFile(siteFile);
  const analysis = analyse(loaded);
  if (!analysis.plan || hasErrors(analysis.findings))
    throw new UserError(`${siteFile}: the site file has errors; \`relay6 lint ${siteFile}\` lists them`, analysis.findings.filter((d) => d.severity === "error"));
  const plan = analysis.plan;
  if (plan.router.platform !== "linux")
    throw new UserError(`the lab runs the router with the linux target: set router.platform: linux in ${siteFile} (a copy is fine)`);
  if (!isIPv4(plan.vps.endpoint))
    throw new UserError(`the lab's underlay is IPv4: vps.endpoint must be an IPv4 address in ${siteFile}`);
  if (plan.wireguard.keys !== "relay6")
    throw new UserError(`the lab makes its own keys: use wireguard.keys: relay6 in ${siteFile}`);
  const vps = generateKeyPair();
  const router = generateKeyPair();
  const artifacts = renderPlan(plan, {
    secrets: { vpsPrivateKey: vps.privateKey, routerPrivateKey: router.privateKey },
    version: VERSION,
  });
  return { plan, artifacts, keys: { vps: vps.publicKey, router: router.publicKey }, secrets: { vps: vps.privateKey, router: router.privateKey } };
}

/** Where a lab keeps its keys, as a relay6 secrets file (mode 0600). */
export function labSecretsFile(state: LabState): string {
  return join(state.dir, "secrets.yaml");
}

function underlayOf(plan: Plan): { vps: string; gateway: string; length: number } {
  const octets = plan.vps.endpoint.split(".").map(Number);
  const last = octets[3]!;
  const gw = [...octets.slice(0, 3), last === 1 ? 254 : 1].join(".");
  if (plan.vps.endpoint.startsWith("100.64.0."))
    throw new UserError("the lab uses 100.64.0.0/24 for the router's underlay: pick another vps.endpoint");
  return { vps: plan.vps.endpoint, gateway: gw, length: 24 };
}

/** The address the provider put on the VPS's NIC: upstream.address, or prefix::a/len. */
function vpsNicAddress(plan: Plan): string {
  if (plan.vps.upstream?.address) return plan.vps.upstream.address;
  return `${plan.prefix.split("/")[0]!.replace(/::$/, "")}::a/${plan.prefixLength}`;
}

async function build(state: LabState, plan: Plan, artifacts: Artifact[], log: (l: string) => void, mode: { ssh: boolean; bareVps: boolean }): Promise<void> {
  const dir = state.dir;
  mkdirSync(join(dir, "logs"), { recursive: true });
  const artDir = join(dir, "artifacts");
  writeArtifacts(artDir, artifacts);

  const roles = ["inet", "vps", "rtr", ...plan.segments.map((_, i) => `c${i + 1}`)];
  const clients: LabClient[] = plan.segments.map((s, i) => ({
    role: `c${i + 1}`,
    ns: nsOf(state, `c${i + 1}`),
    segment: s.name,
    prefix: s.prefix,
    routerIf: s.interface,
  }));
  state.nodes = {
    inet: { role: "inet", ns: nsOf(state, "inet") },
    vps: { role: "vps", ns: nsOf(state, "vps") },
    rtr: { role: "rtr", ns: nsOf(state, "rtr") },
    clients,
  };
  const under = underlayOf(plan);
  const wan = plan.router.wan ?? "wan0";
  const nic = plan.vps.nic;
  const vpsNic = vpsNicAddress(plan);
  const vpsNicAddr = vpsNic.split("/")[0]!;
  const gw6 = plan.vps.upstream?.gateway ?? "fe80::1";
  const internetHost = internetHostFor(plan);
  state.addresses = {
    internetHost,
    vpsNic: vpsNicAddr,
    vpsUnderlay: under.vps,
    routerUnderlay: ROUTER_UNDERLAY.address,
  };

  // --- namespaces and links ---------------------------------------------------------
  log(`namespaces: ${roles.map((r) => nsOf(state, r)).join(" ")}`);
  for (const r of roles) {
    state.namespaces.push(nsOf(state, r));
    saveState(state);
    await must(["ip", "netns", "add", nsOf(state, r)]);
    await ipIn(state, r, ["link", "set", "lo", "up"]);
  }
  const sysctl = (role: string, ...kv: string[]) => nsMust(state, role, ["sysctl", "-q", ...kv.flatMap((x) => ["-w", x])]);
  // Clients: SLAAC hosts whose addresses are usable at once (no DAD wait).
  for (const c of clients)
    await sysctl(
      c.role,
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.default.accept_ra=1",
      // The first router solicitation goes out at link up, before radvd runs; the kernel's
      // next one would wait 4 s.
      "net.ipv6.conf.default.router_solicitation_interval=1",
    );
  const veth = (aRole: string, aIf: string, bRole: string, bIf: string) =>
    must(["ip", "link", "add", aIf, "netns", nsOf(state, aRole), "type", "veth", "peer", "name", bIf, "netns", nsOf(state, bRole)]);
  await veth("inet", "vps0", "vps", nic);
  await veth("inet", "rtr0", "rtr", wan);
  for (const c of clients) await veth("rtr", c.routerIf, c.role, "eth0");

  // --- inet: the provider's gateway, the router's ISP and an internet host -------------
  const ip = async (role: string, ...args: string[]) => {
    const r = await ipIn(state, role, args);
    if (r.code !== 0) throw new LabError(`[${nsOf(state, role)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  await sysctl("inet", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.rtr0.disable_ipv6=1");
  // The internet host is an address of inet itself (the kernel here has no dummy links).
  await ip("inet", "addr", "add", `${internetHost}/128`, "dev", "lo");
  await ip("inet", "addr", "add", `${under.gateway}/${under.length}`, "dev", "vps0");
  await ip("inet", "addr", "add", `${ROUTER_UNDERLAY.gateway}/${ROUTER_UNDERLAY.length}`, "dev", "rtr0");
  await ip("inet", "addr", "add", `${gw6}/${gw6.startsWith("fe80") ? 64 : 128}`, "dev", "vps0", "nodad");
  for (const l of ["vps0", "rtr0"]) await ip("inet", "link", "set", l, "up");
  // The provider routes the whole prefix to the VPS's NIC address.
  await ip("inet", "-6", "route", "add", `${vpsNicAddr}/128`, "dev", "vps0");
  await ip("inet", "-6", "route", "add", plan.prefix, "via", vpsNicAddr, "dev", "vps0");

  // --- vps: the provider's part (NIC address with the prefix's own mask, default route) --
  await ip("vps", "addr", "add", `${under.vps}/${under.length}`, "dev", nic);
  await ip("vps", "addr", "add", vpsNic, "dev", nic, "nodad");
  await ip("vps", "link", "set", nic, "up");
  await ip("vps", "route", "add", "default", "via", under.gateway);
  await ip("vps", "-6", "route", "add", "default", "via", gw6, "dev", nic, "onlink");

  // --- rtr: WAN (IPv4 only) and the segments' links ------------------------------------
  await ip("rtr", "addr", "add", `${ROUTER_UNDERLAY.address}/${ROUTER_UNDERLAY.length}`, "dev", wan);
  await ip("rtr", "link", "set", wan, "up");
  await ip("rtr", "route", "add", "default", "via", ROUTER_UNDERLAY.gateway);
  for (const c of clients) await ip("rtr", "link", "set", c.routerIf, "up");

  // --- the rendered files, where `ip netns exec` shows them as /etc/... -----------------
  installEtc(state, "rtr", join(artDir, "router/files/etc"));
  const wgRtr = plan.router.wgInterface;
  copySecret(join(artDir, `router/secrets/${wgRtr}.key`), `/etc/netns/${nsOf(state, "rtr")}/wireguard/${wgRtr}.key`);
  if (mode.bareVps) bareVpsEtc(state);
  else {
    installEtc(state, "vps", join(artDir, "vps/files/etc"));
    copySecret(join(artDir, "vps/secrets/wg0.key"), `/etc/netns/${nsOf(state, "vps")}/wireguard/wg0.key`);
  }
  if (mode.ssh) {
    await startSshd(state, "vps", under.vps);
    await startSshd(state, "rtr", ROUTER_UNDERLAY.address);
  }

  // The two ends come up side by side: nothing in one waits for the other.
  await Promise.all([mode.bareVps ? Promise.resolve() : startVps(state, plan, artDir), startRouter(state, plan, artDir, clients)]);
  if (mode.bareVps) {
    // Nothing to dial yet: `relay6 apply vps` brings the VPS up, the router follows.
    await wgUp(state, "rtr", plan.router.wgInterface);
    return;
  }
  // The router dials only now: a first handshake sent before the VPS listens would be
  // retried 5 s later.
  await wgUp(state, "rtr", plan.router.wgInterface);

  // --- ready when a client reaches the internet host ------------------------------------
  await waitFor("the WireGuard handshake", () => handshakeAge(state, "rtr", wgRtr).then((a) => (a !== undefined ? true : undefined)), 15_000, 50);
  await waitFor("::/0 on the router", () => routerDefault(state).then((r) => r ?? undefined), 20_000, 50);
  // A BGP route whose BFD session never came up is not watched by BFD at all.
  if (plan.failover.mode === "bgp-bfd") await waitFor("BFD up on both ends", () => bfdUp(state), 20_000, 50);
  for (const c of clients) await waitFor(`a SLAAC address on ${c.ns}`, () => slaacAddress(state, c), 15_000, 50);
  const first = clients[0]!;
  await waitFor(
    `${first.ns} to ping the internet host`,
    async () => ((await nsRun(state, first.role, ["ping", "-6", "-n", "-c", "1", "-W", "1", internetHost])).code === 0 ? true : undefined),
    15_000,
    100,
  );
}

async function startVps(state: LabState, plan: Plan, artDir: string): Promise<void> {
  // --- vps: sysctl, firewall (ACTIVE), wg-quick, bird ----------------------------------
  await nsMust(state, "vps", ["sysctl", "-q", "-p", join(artDir, "vps/files/etc/sysctl.d/99-relay6.conf")]);
  if (existsSync(join(artDir, "vps/firewall.sh"))) {
    // ufw keeps its rules and state in /etc/ufw and /etc/default/ufw: per-namespace copies.
    copyEtcDir(state, "vps", "ufw");
    copyEtcDir(state, "vps", "default");
    await nsMust(state, "vps", ["bash", join(artDir, "vps/firewall.sh")], { timeoutMs: 60_000 });
  }
  await wgUp(state, "vps", "wg0");
  if (plan.failover.mode === "bgp-bfd") startBird(state);
}

async function startRouter(state: LabState, plan: Plan, artDir: string, clients: LabClient[]): Promise<void> {
  const dir = state.dir;
  const ip = async (role: string, ...args: string[]) => {
    const r = await ipIn(state, role, args);
    if (r.code !== 0) throw new LabError(`[${nsOf(state, role)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  // --- rtr: sysctl, addresses + firewall, wg-quick, radvd, FRR or the gateway check -----
  await nsMust(state, "rtr", ["sysctl", "-q", "-p", join(artDir, "router/files/etc/sysctl.d/99-relay6.conf")]);
  await nsMust(state, "rtr", ["bash", join(artDir, "router/files/usr/local/sbin/relay6-router-net")]);
  // Each client captures its first router advertisement: `lab test` reads RDNSS from it.
  for (const c of clients) await ip(c.role, "link", "set", "eth0", "up");
  for (const c of clients)
    daemon(state, c.role, "ra-capture", ["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-c", "1", "-U", "-w", join(dir, `ra-${c.role}.pcap`), "icmp6 and ip6[40] == 134"]);
  for (const c of clients) await waitFor(`tcpdump in ${c.ns}`, () => (existsSync(join(dir, `ra-${c.role}.pcap`)) ? true : undefined), 5000);
  daemon(state, "rtr", "radvd", ["radvd", "-n", "-C", join(artDir, "router/files/etc/radvd.conf"), "-p", join(dir, "radvd.pid"), "-m", "stderr"]);
  if (plan.failover.mode === "bgp-bfd") await startFrr(state);
  else daemon(state, "rtr", "gw-check", ["bash", join(artDir, "router/files/usr/local/sbin/relay6-gw-check")]);
}

function writeArtifacts(root: string, artifacts: Artifact[]): void {
  for (const a of artifacts) {
    const p = join(root, a.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, a.content, { mode: a.mode });
    chmodSync(p, a.mode);
  }
}

/** The daemons' own /etc directories, which their packages normally make. */
const DAEMON_ETC_DIRS = new Set(["wireguard", "bird", "frr"]);

/** Copies a rendered etc/ tree into /etc/netns/<ns>/. `ip netns exec` can only bind-mount
 *  over what exists in the host's /etc: a daemon's missing directory is created empty;
 *  anything else missing is left out (the lab passes such files by their path in the
 *  render output). */
function installEtc(state: LabState, role: string, src: string): void {
  if (!existsSync(src)) return;
  const dst = `/etc/netns/${nsOf(state, role)}`;
  if (!state.etcDirs.includes(dst)) {
    state.etcDirs.push(dst);
    saveState(state);
  }
  mkdirSync(dst, { recursive: true });
  for (const top of readdirSync(src, { withFileTypes: true })) {
    if (!existsSync(join("/etc", top.name))) {
      if (!top.isDirectory() || !DAEMON_ETC_DIRS.has(top.name)) continue;
      mkdirSync(join("/etc", top.name), { mode: 0o755 });
    }
    cpSync(join(src, top.name), join(dst, top.name), { recursive: true });
  }
}

/** A bare VPS: the directories its packages would have made, nothing of relay6's in them;
 *  ufw's own files (default policies, rules) as the package ships them. */
function bareVpsEtc(state: LabState): void {
  const dst = `/etc/netns/${nsOf(state, "vps")}`;
  for (const d of ["wireguard", "bird", "sysctl.d", "systemd"]) {
    if (!existsSync(join("/etc", d))) mkdirSync(join("/etc", d), { mode: 0o755 });
    mkdirSync(join(dst, d), { recursive: true, mode: d === "wireguard" ? 0o700 : 0o755 });
  }
  if (!state.etcDirs.includes(dst)) {
    state.etcDirs.push(dst);
    saveState(state);
  }
  copyEtcDir(state, "vps", "ufw");
  copyEtcDir(state, "vps", "default");
}

function copyEtcDir(state: LabState, role: string, name: string): void {
  const dst = `/etc/netns/${nsOf(state, role)}`;
  mkdirSync(dst, { recursive: true });
  if (!state.etcDirs.includes(dst)) {
    state.etcDirs.push(dst);
    saveState(state);
  }
  cpSync(join("/etc", name), join(dst, name), { recursive: true, dereference: false });
}

function copySecret(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true, mode: 0o700 });
  copyFileSync(src, dst);
  chmodSync(dst, 0o600);
}

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

/** BFD Up on the router (FRR) and on the VPS (bird), or undefined. */
export async function bfdUp(state: LabState): Promise<true | undefined> {
  const frr = await nsRun(state, "rtr", ["vtysh", "--vty_socket", frrDir(state), "-c", "show bfd peers brief"]);
  if (!/\bup\b/.test(frr.stdout)) return undefined;
  const bird = await nsRun(state, "vps", ["birdc", "-s", birdSocket(state), "show", "bfd", "sessions"]);
  return /\bUp\b/.test(bird.stdout) ? true : undefined;
}

/** Seconds since the last handshake of the only peer, undefined before the first one. */
export async function handshakeAge(state: LabState, role: string, wg: string): Promise<number | undefined> {
  const r = await nsRun(state, role, ["wg", "show", wg, "latest-handshakes"]);
  const t = Number(r.stdout.trim().split(/\s+/)[1] ?? "0");
  if (r.code !== 0 || !t) return undefined;
  return Math.max(0, Date.now() / 1000 - t);
}

/** The router's ::/0 as `ip -6 route` prints it, or null when there is none. */
export async function routerDefault(state: LabState): Promise<string | null> {
  const r = await ipIn(state, "rtr", ["-6", "route", "show", "default"]);
  const line = r.stdout.trim();
  return line === "" ? null : line;
}

/** The client's global SLAAC address inside its segment's /64, if it has one. */
export async function slaacAddress(state: LabState, c: LabClient): Promise<string | undefined> {
  const r = await ipIn(state, c.role, ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
  const seg = parsePrefix6(c.prefix);
  if (!seg.ok) return undefined;
  for (const line of r.stdout.split("\n")) {
    const m = /inet6 ([0-9a-f:]+)\/64 /.exec(line);
    if (!m || /tentative|dadfailed/.test(line)) continue;
    const a = parseAddress6(m[1]!);
    if (a !== undefined && containsAddress(seg.prefix, a)) return m[1]!;
  }
  return undefined;
}
