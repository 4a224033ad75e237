// `relay6 lab up`: the relay built from a site file, in network namespaces, with the real
// daemons running the files relay6 renders. The network is topology.ts, the files per node
// files.ts, the daemons daemons.ts, what is polled probes.ts; this file puts them in order.
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT, hasErrors, UserError } from "../errors.js";
import { writeArtifacts } from "../io/write.js";
import { generateKeyPair, writeSecrets } from "../keys/wireguard.js";
import { isIPv4 } from "../net/ipv6.js";
import { analyse, labPlatforms, loadSite, renderPlan } from "../pipeline.js";
import type { Plan } from "../plan/plan.js";
import type { Artifact } from "../render/types.js";
import { VERSION } from "../version.js";
import { startRouter, startVps, wgUp, type CustomVps } from "./daemons.js";
import { must, waitFor } from "./exec.js";
import { labDown } from "./down.js";
import { bareVpsEtc, copySecret, installEtc } from "./files.js";
import { nsOf, nsRun } from "./nodes.js";
import { bfdUp, handshakeAge, routerDefault, slaacAddress } from "./probes.js";
import { startSshd } from "./sshd.js";
import { checkLabName, isLabNamespace, loadState, newState, saveState, type LabState } from "./state.js";
import { buildTopology, ROUTER_UNDERLAY } from "./topology.js";

export interface UpOptions {
  name: string;
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
  const { plan, artifacts, keys, secrets } = renderForLab(opts.siteFile);
  if (opts.vpsEtc && opts.bareVps) throw new UserError("--vps-etc and --bare-vps exclude each other", [], EXIT.badInput, "give one of them: --vps-etc for a hand-made VPS side, --bare-vps for apply vps");
  if (opts.vpsEtc && !existsSync(opts.vpsEtc)) throw new UserError(`--vps-etc ${opts.vpsEtc}: no such directory`, [], EXIT.badInput, "give --vps-etc the etc/ tree of the VPS side to run");
  if (opts.vpsFirewall && !existsSync(opts.vpsFirewall)) throw new UserError(`--vps-firewall ${opts.vpsFirewall}: no such file`, [], EXIT.badInput, "give --vps-firewall the bash script of firewall commands to run on the VPS");

  if (loadState(name) || (await leftoverNamespaces(name)).length > 0) {
    log(`a lab "${name}" exists: taking it down first`);
    await labDown(name);
  }
  // Absolute: `lab test` re-reads the site (the trap case) from wherever it is run.
  const state = newState(name, resolve(opts.siteFile));
  state.plan = plan;
  state.drain = !opts.noDrain;
  state.keys = { vpsPublicKey: keys.vps, routerPublicKey: keys.router };
  saveState(state);
  // The lab's keys as a relay6 secrets file: `relay6 apply|verify SITE --secrets` use them.
  writeSecrets(labSecretsFile(state), { vps: { privateKey: secrets.vps }, router: { privateKey: secrets.router } });
  try {
    const custom = opts.vpsEtc ? { etc: resolve(opts.vpsEtc), ...(opts.vpsFirewall ? { firewall: resolve(opts.vpsFirewall) } : {}), keys: { vpsPrivate: secrets.vps, routerPublic: keys.router } } : undefined;
    await build(state, plan, artifacts, log, { ssh: !!(opts.ssh || opts.bareVps), bareVps: !!opts.bareVps, ...(custom ? { custom } : {}) });
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

/** The site, checked and rendered exactly as `relay6 render` would, with fresh lab keys. */
function renderForLab(siteFile: string): { plan: Plan; artifacts: Artifact[]; keys: { vps: string; router: string }; secrets: { vps: string; router: string } } {
  const loaded = loadSite(siteFile);
  const analysis = analyse(loaded);
  if (!analysis.plan || hasErrors(analysis.findings))
    throw new UserError(`${siteFile}: the site file has errors; \`relay6 lint ${siteFile}\` lists them`, analysis.findings.filter((d) => d.severity === "error"));
  const plan = analysis.plan;
  const runnable = labPlatforms();
  if (!runnable.includes(plan.router.platform))
    throw new UserError(`the lab runs the router with the ${runnable.join(" or ")} target, not ${plan.router.platform}`, [], EXIT.badInput, `set router.platform: ${runnable.join(" or ")} in ${siteFile} (a copy is fine)`);
  if (!isIPv4(plan.vps.endpoint))
    throw new UserError(`the lab's underlay is IPv4: vps.endpoint ${plan.vps.endpoint} is not an IPv4 address`, [], EXIT.badInput, `set vps.endpoint to an IPv4 address in ${siteFile} (a copy is fine)`);
  if (plan.wireguard.keys !== "relay6")
    throw new UserError("the lab makes its own keys, and this site has wireguard.keys: device", [], EXIT.badInput, `use wireguard.keys: relay6 in ${siteFile} (a copy is fine)`);
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

async function build(state: LabState, plan: Plan, artifacts: Artifact[], log: (l: string) => void, mode: { ssh: boolean; bareVps: boolean; custom?: CustomVps }): Promise<void> {
  mkdirSync(join(state.dir, "logs"), { recursive: true });
  const artDir = join(state.dir, "artifacts");
  writeArtifacts(artDir, artifacts, { sites: [{ site: plan.site }] });
  const { clients, vpsUnderlay, internetHost } = await buildTopology(state, plan, log);

  // --- the rendered files, where `ip netns exec` shows them as /etc/... -----------------
  installEtc(state, "rtr", join(artDir, "router/files/etc"));
  const wgRtr = plan.router.tunnelInterface;
  copySecret(join(artDir, `router/secrets/${wgRtr}.key`), `/etc/netns/${nsOf(state, "rtr")}/wireguard/${wgRtr}.key`);
  if (mode.bareVps) bareVpsEtc(state);
  else if (mode.custom) installEtc(state, "vps", mode.custom.etc, { "<VPS_PRIVKEY>": mode.custom.keys.vpsPrivate, "<MT_PUBKEY>": mode.custom.keys.routerPublic });
  else {
    installEtc(state, "vps", join(artDir, "vps/files/etc"));
    copySecret(join(artDir, "vps/secrets/wg0.key"), `/etc/netns/${nsOf(state, "vps")}/wireguard/wg0.key`);
  }
  if (mode.ssh) {
    await startSshd(state, "vps", vpsUnderlay);
    await startSshd(state, "rtr", ROUTER_UNDERLAY.address);
  }

  // The two ends come up side by side: nothing in one waits for the other.
  await Promise.all([mode.bareVps ? Promise.resolve() : startVps(state, plan, artDir, mode.custom), startRouter(state, plan, artDir, clients)]);
  if (mode.bareVps) {
    // Nothing to dial yet: `relay6 apply vps` brings the VPS up, the router follows.
    await wgUp(state, "rtr", plan.router.tunnelInterface);
    return;
  }
  // The router dials only now: a first handshake sent before the VPS listens would be
  // retried 5 s later.
  await wgUp(state, "rtr", plan.router.tunnelInterface);

  // --- ready when a client reaches the internet host ------------------------------------
  await waitFor("the WireGuard handshake", () => handshakeAge(state, "rtr", wgRtr).then((a) => (a !== undefined ? true : undefined)), 15_000, 50);
  await waitFor("::/0 on the router", () => routerDefault(state).then((r) => r ?? undefined), 20_000, 50);
  // A BGP route whose BFD session never came up is not watched by BFD at all. A hand-made
  // VPS side may never bring it up (the recipe's ufw drops BFD): that is for `lab failover`
  // to show, not a failed bring-up.
  if (plan.failover.mode === "bgp-bfd" && !mode.custom) await waitFor("BFD up on both ends", () => bfdUp(state), 20_000, 50);
  for (const c of clients) await waitFor(`a SLAAC address on ${c.ns}`, () => slaacAddress(state, c), 15_000, 50);
  const first = clients[0]!;
  await waitFor(
    `${first.ns} to ping the internet host`,
    async () => ((await nsRun(state, first.role, ["ping", "-6", "-n", "-c", "1", "-W", "1", internetHost])).code === 0 ? true : undefined),
    15_000,
    100,
  );
}
