// `relay6 lab up`: the relay built from a site file or a relay file, in network namespaces,
// with the real daemons running the files relay6 renders: one VPS, and per site a router
// (the linux target) with its clients. The network is topology.ts, the files per node
// files.ts, the daemons daemons.ts, what is polled probes.ts; this file puts them in order.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT, hasErrors, UserError } from "../errors.js";
import { writeArtifacts } from "../io/write.js";
import { generateKeyPair, writeSecrets } from "../keys/wireguard.js";
import { isIPv4 } from "../net/ipv6.js";
import { analyseInput, labPlatforms, loadInput, renderInput, siteOutputDir } from "../pipeline.js";
import type { RelayPlan } from "../plan/relay.js";
import type { Artifact } from "../render/types.js";
import { VERSION } from "../version.js";
import { startRouter, startVps, wgUp, type CustomVps } from "./daemons.js";
import { must, waitFor } from "./exec.js";
import { labDown } from "./down.js";
import { bareVpsEtc, copySecret, installEtc, vpsUfwEtc } from "./files.js";
import { daemon, nsOf, nsRun } from "./nodes.js";
import { bfdUp, handshakeAge, routerDefault, slaacAddress } from "./probes.js";
import { startSshd } from "./sshd.js";
import { checkLabName, isLabNamespace, labSites, loadState, newState, saveState, type LabState } from "./state.js";
import { providerOf } from "./provider.js";
import { buildTopology } from "./topology.js";

export interface UpOptions {
  name: string;
  /** A site file or a relay file. */
  siteFile: string;
  /** Run sshd on the VPS and the router (for `relay6 apply` / `relay6 verify`). */
  ssh?: boolean;
  /** Leave the VPS bare (no relay6 files, nothing running but sshd): `relay6 apply vps`
   *  configures it. Implies ssh. */
  bareVps?: boolean;
  /** Run radvd alone, without the RA drain (the recipe's way; the lab's negative control). */
  noDrain?: boolean;
  /** A hand-made VPS side instead of the rendered one (the recipe's, bench/recipe-vs-relay6.sh):
   *  an etc/ tree (`<VPS_PRIVKEY>` and `<MT_PUBKEY>` in it become the lab's keys) and the
   *  firewall commands to run (a bash script; none: the VPS firewall is left as it is). */
  vpsEtc?: string;
  vpsFirewall?: string;
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
  if (process.getuid?.() !== 0) throw new UserError("the lab makes network namespaces: it needs root", [], EXIT.findings, "run it as root (sudo)");
  const { relay, artifacts, keys, secrets } = renderForLab(opts.siteFile);
  if (opts.vpsEtc && opts.bareVps) throw new UserError("--vps-etc and --bare-vps exclude each other", [], EXIT.badInput, "give one of them: --vps-etc for a hand-made VPS side, --bare-vps for apply vps");
  if (opts.vpsEtc && !existsSync(opts.vpsEtc)) throw new UserError(`--vps-etc ${opts.vpsEtc}: no such directory`, [], EXIT.badInput, "give --vps-etc the etc/ tree of the VPS side to run");
  if (opts.vpsEtc && relay.sites.length > 1) throw new UserError("--vps-etc takes one site: a hand-made VPS side has one router as its peer", [], EXIT.badInput, "give lab up a site file with --vps-etc, not a relay of several sites");
  if (opts.vpsFirewall && !existsSync(opts.vpsFirewall)) throw new UserError(`--vps-firewall ${opts.vpsFirewall}: no such file`, [], EXIT.badInput, "give --vps-firewall the bash script of firewall commands to run on the VPS");

  if (loadState(name) || (await leftoverNamespaces(name)).length > 0) {
    log(`a lab "${name}" exists: taking it down first`);
    await labDown(name);
  }
  // Absolute: `lab test` re-reads the site (the trap case) from wherever it is run.
  const state = newState(name, resolve(opts.siteFile));
  state.plan = relay.sites[0]!;
  state.relay = relay;
  state.drain = !opts.noDrain;
  state.keys = { vpsPublicKey: keys.vps, routerPublicKey: keys.routers[relay.sites[0]!.site]! };
  saveState(state);
  writeLabSecrets(state, secrets);
  try {
    const custom = opts.vpsEtc
      ? { etc: resolve(opts.vpsEtc), ...(opts.vpsFirewall ? { firewall: resolve(opts.vpsFirewall) } : {}), keys: { vpsPrivate: secrets.vps, routerPublic: keys.routers[relay.sites[0]!.site]! } }
      : undefined;
    await build(state, relay, artifacts, keys.routers, log, { ssh: !!(opts.ssh || opts.bareVps), bareVps: !!opts.bareVps, ...(custom ? { custom } : {}) });
  } catch (e) {
    log(`lab up failed: ${(e as Error).message}`);
    log(`logs are in ${state.dir}/logs; \`relay6 lab down${name === "lab" ? "" : ` --name ${name}`}\` removes what was made`);
    throw e;
  }
  state.ready = true;
  saveState(state);
  return { state, ms: Date.now() - t0 };
}

async function leftoverNamespaces(name: string): Promise<string[]> {
  const out = await must(["ip", "netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => isLabNamespace(name, n));
}

type Keys = { vps: string; routers: Record<string, string> };

/** The input, checked and rendered exactly as `relay6 render` would, with fresh lab keys. */
function renderForLab(file: string): { relay: RelayPlan; artifacts: Artifact[]; keys: Keys; secrets: Keys } {
  const loaded = loadInput(file);
  const analysis = analyseInput(loaded);
  if (!analysis.relay || hasErrors(analysis.findings))
    throw new UserError(`${file}: the ${loaded.kind} file has errors; \`relay6 lint ${file}\` lists them`, analysis.findings.filter((d) => d.severity === "error"));
  const relay = analysis.relay;
  const runnable = labPlatforms();
  relay.sites.forEach((plan, i) => {
    const where = loaded.siteDocs[i]!.file;
    if (!runnable.includes(plan.router.platform))
      throw new UserError(`the lab runs the router with the ${runnable.join(" or ")} target, not ${plan.router.platform}`, [], EXIT.badInput, `set router.platform: ${runnable.join(" or ")} in ${where} (a copy is fine)`);
    if (plan.wireguard.keys !== "relay6") throw new UserError(`the lab makes its own keys, and site ${plan.site} has wireguard.keys: device`, [], EXIT.badInput, `use wireguard.keys: relay6 in ${where} (a copy is fine)`);
  });
  if (!isIPv4(relay.vps.endpoint))
    throw new UserError(`the lab's underlay is IPv4: vps.endpoint ${relay.vps.endpoint} is not an IPv4 address`, [], EXIT.badInput, `set vps.endpoint to an IPv4 address in ${file} (a copy is fine)`);
  if (relay.wireguard.keys !== "relay6")
    throw new UserError("the lab makes its own keys, and the VPS has wireguard.keys: device", [], EXIT.badInput, `use wireguard.keys: relay6 in ${file} (a copy is fine)`);
  const vps = generateKeyPair();
  const routers = Object.fromEntries(relay.sites.map((p) => [p.site, generateKeyPair()]));
  const secrets: Keys = { vps: vps.privateKey, routers: Object.fromEntries(Object.entries(routers).map(([s, k]) => [s, k.privateKey])) };
  const artifacts = renderInput(relay, { secrets: { vpsPrivateKey: secrets.vps, routers: secrets.routers }, version: VERSION });
  return { relay, artifacts, keys: { vps: vps.publicKey, routers: Object.fromEntries(Object.entries(routers).map(([s, k]) => [s, k.publicKey])) }, secrets };
}

/** Where a lab keeps its keys, as `relay6 ... --secrets` takes them (mode 0600): a
 *  standalone site's secrets file; for a relay, the directory with relay.secrets.yaml and
 *  sites/<site>.secrets.yaml. */
export function labSecretsFile(state: LabState): string {
  return state.relay?.kind === "relay" ? join(state.dir, "secrets") : join(state.dir, "secrets.yaml");
}

function writeLabSecrets(state: LabState, keys: Keys): void {
  const path = labSecretsFile(state);
  if (state.relay?.kind !== "relay") {
    const site = state.relay!.sites[0]!.site;
    writeSecrets(path, { vps: { privateKey: keys.vps }, router: { privateKey: keys.routers[site]! } });
    return;
  }
  mkdirSync(join(path, "sites"), { recursive: true, mode: 0o700 });
  writeSecrets(join(path, "relay.secrets.yaml"), { vps: { privateKey: keys.vps } });
  for (const [site, key] of Object.entries(keys.routers)) writeSecrets(join(path, "sites", `${site}.secrets.yaml`), { router: { privateKey: key } });
}

async function build(state: LabState, relay: RelayPlan, artifacts: Artifact[], routerKeys: Record<string, string>, log: (l: string) => void, mode: { ssh: boolean; bareVps: boolean; custom?: CustomVps }): Promise<void> {
  mkdirSync(join(state.dir, "logs"), { recursive: true });
  const artDir = join(state.dir, "artifacts");
  writeArtifacts(artDir, artifacts, { ...(relay.kind === "relay" ? { relay: { name: relay.relay } } : {}), sites: relay.sites.map((p) => ({ site: p.site })) });
  const topo = await buildTopology(state, relay, log);
  state.sites = topo.sites.map((x, i) => {
    const plan = relay.sites[i]!;
    return { site: plan.site, plan, ...x, dir: siteOutputDir(relay, plan.site), routerPublicKey: routerKeys[plan.site]! };
  });
  saveState(state);
  const { vpsUnderlay, internetHost } = topo;
  const sites = labSites(state);
  // The provider's router advertisements on the VPS's link (a routed /64's provider).
  const provider = providerOf(relay);
  if (provider.radvd) {
    const conf = join(state.dir, "inet-radvd.conf");
    writeFileSync(conf, provider.radvd);
    daemon(state, "inet", "radvd", ["radvd", "-n", "-C", conf, "-p", join(state.dir, "inet-radvd.pid"), "-m", "stderr"]);
  }

  // --- the rendered files, where `ip netns exec` shows them as /etc/... -----------------
  for (const site of sites) {
    installEtc(state, site.rtr.role, join(artDir, site.dir, "router/files/etc"));
    const wg = site.plan.router.tunnelInterface;
    copySecret(join(artDir, site.dir, `router/secrets/${wg}.key`), `/etc/netns/${site.rtr.ns}/wireguard/${wg}.key`);
  }
  if (mode.bareVps) bareVpsEtc(state);
  else if (mode.custom) installEtc(state, "vps", mode.custom.etc, { "<VPS_PRIVKEY>": mode.custom.keys.vpsPrivate, "<MT_PUBKEY>": mode.custom.keys.routerPublic });
  else {
    installEtc(state, "vps", join(artDir, "vps/files/etc"));
    copySecret(join(artDir, "vps/secrets/wg0.key"), `/etc/netns/${nsOf(state, "vps")}/wireguard/wg0.key`);
  }
  vpsUfwEtc(state);
  if (mode.ssh) {
    await startSshd(state, "vps", vpsUnderlay);
    for (const site of sites) await startSshd(state, site.rtr.role, site.underlay.address);
  }

  // The two ends come up side by side: nothing in one waits for the other.
  await Promise.all([
    mode.bareVps ? Promise.resolve() : startVps(state, relay, artDir, mode.custom),
    ...sites.map((site) => startRouter(state, site.plan, join(artDir, site.dir, "router"), site.clients, site.rtr.role)),
  ]);
  // The routers dial only now: a first handshake sent before the VPS listens would be
  // retried 5 s later. (A bare VPS: nothing to dial yet; `relay6 apply vps` brings it up.)
  for (const site of sites) await wgUp(state, site.rtr.role, site.plan.router.tunnelInterface);
  if (mode.bareVps) return;

  // --- ready when every site's first client reaches the internet host -----------------
  for (const site of sites) {
    const role = site.rtr.role;
    const wg = site.plan.router.tunnelInterface;
    await waitFor(`the WireGuard handshake of ${site.site}`, () => handshakeAge(state, role, wg).then((a) => (a !== undefined ? true : undefined)), 15_000, 50);
    await waitFor(`::/0 on the router of ${site.site}`, () => routerDefault(state, role).then((r) => r ?? undefined), 30_000, 50);
    // A BGP route whose BFD session never came up is not watched by BFD at all. A hand-made
    // VPS side may never bring it up (the recipe's ufw drops BFD): that is for `lab failover`
    // to show, not a failed bring-up.
    if (site.plan.failover.mode === "bgp-bfd" && !mode.custom) await waitFor(`BFD up on both ends (${site.site})`, () => bfdUp(state, role, site.plan.transit.router.address), 20_000, 50);
    for (const c of site.clients) await waitFor(`a SLAAC address on ${c.ns}`, () => slaacAddress(state, c), 15_000, 50);
    const first = site.clients.find((c) => c.global !== false) ?? site.clients[0]!;
    await waitFor(
      `${first.ns} to ping the internet host`,
      async () => ((await nsRun(state, first.role, ["ping", "-6", "-n", "-c", "1", "-W", "1", internetHost])).code === 0 ? true : undefined),
      15_000,
      100,
    );
  }
}
