// What every command does with its input file first: load it (a site file or a relay
// file), analyse it, find the secrets, pick a site. A standalone site file behaves exactly
// as it always did; a relay file is the same thing for several sites.
import { join } from "node:path";
import { EXIT, hasErrors, UserError, type Diagnostic } from "../../errors.js";
import { defaultSecretsPath, readSecrets, requireKeys, stageSecrets, withMissingKeys, type End, type SecretsFile, type StagedSecrets } from "../../keys/wireguard.js";
import type { Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { analyseInput, loadInput, siteOutputDir } from "../../pipeline.js";
import type { Artifact, RelaySecrets } from "../../render/types.js";
import type { LoadedInput } from "../../site/relay.js";


export interface Analysed {
  loaded: LoadedInput;
  relay?: RelayPlan;
  findings: Diagnostic[];
}

export function loadAndAnalyseInput(file: string): Analysed {
  const loaded = loadInput(file);
  return { loaded, ...analyseInput(loaded) };
}

/** The relay's plan, or exit 1 with what to run. */
export function requirePlan(a: Analysed, what: string): RelayPlan {
  if (!a.relay || hasErrors(a.findings)) throw new UserError(`${a.loaded.file} has lint errors: ${what}`, [], EXIT.findings, `\`relay6 lint ${a.loaded.file}\` lists them with their fixes`);
  return a.relay;
}

/** Where the keys are. A standalone site: one file with both keys (default beside the
 *  site file). A relay: the VPS's key in the relay's file, each router's in its site's
 *  (default beside each file; with --secrets DIR: DIR/relay.secrets.yaml and
 *  DIR/sites/<site>.secrets.yaml). */
export interface SecretsPaths {
  vps: string;
  sites: Map<string, string>;
}

export function secretsPaths(loaded: LoadedInput, option?: string): SecretsPaths {
  if (loaded.kind === "site") {
    const path = option ?? defaultSecretsPath(loaded.file);
    return { vps: path, sites: new Map([[loaded.input.sites[0]!.site.site, path]]) };
  }
  const sites = new Map<string, string>();
  loaded.input.sites.forEach((e, i) => sites.set(e.site.site, option ? join(option, "sites", `${e.site.site}.secrets.yaml`) : defaultSecretsPath(loaded.siteDocs[i]!.file)));
  return { vps: option ? join(option, "relay.secrets.yaml") : defaultSecretsPath(loaded.file), sites };
}

/** Each secrets file of the input with the ends whose keys it holds, and where the keys
 *  go in a render context. Only ends relay6 makes a key for (keys: relay6). */
function keyFiles(relay: RelayPlan, loaded: LoadedInput, option?: string): { path: string; ends: End[]; who?: string; put(s: SecretsFile, into: RelaySecrets): void }[] {
  const paths = secretsPaths(loaded, option);
  if (relay.kind === "site") {
    const plan = relay.sites[0]!;
    if (plan.wireguard.keys === "device") return [];
    return [{ path: paths.vps, ends: ["vps", "router"], put: (s, into) => ((into.vpsPrivateKey = s.vps?.privateKey), (into.routers[plan.site] = s.router?.privateKey)) }];
  }
  const files: ReturnType<typeof keyFiles> = [];
  if (relay.wireguard.keys === "relay6") files.push({ path: paths.vps, ends: ["vps"], who: "the VPS", put: (s, into) => void (into.vpsPrivateKey = s.vps?.privateKey) });
  for (const plan of relay.sites)
    if (plan.wireguard.keys === "relay6")
      files.push({ path: paths.sites.get(plan.site)!, ends: ["router"], who: `the router of site ${plan.site}`, put: (s, into) => void (into.routers[plan.site] = s.router?.privateKey) });
  return files;
}

/** The secrets files a render of this input reads or makes. */
export function secretsFiles(relay: RelayPlan, loaded: LoadedInput, option?: string): string[] {
  return keyFiles(relay, loaded, option).map((f) => f.path);
}

const clean = (s: RelaySecrets): RelaySecrets => ({ ...(s.vpsPrivateKey ? { vpsPrivateKey: s.vpsPrivateKey } : {}), routers: s.routers });

/** The keys that exist, made nowhere and with no error for a missing one (relay6 status
 *  reads; it writes no file): the VPS's key checks which peer the router holds. */
export function existingSecretsFor(relay: RelayPlan, loaded: LoadedInput, option?: string): RelaySecrets {
  const out: RelaySecrets = { routers: {} };
  for (const f of keyFiles(relay, loaded, option)) {
    const s = readSecrets(f.path);
    if (s) f.put(s, out);
  }
  return clean(out);
}

/** The keys every command but keys, render and init needs: read, never made. A missing
 *  file or key is an error naming the file and `relay6 keys INPUT`. */
export function relaySecretsFor(relay: RelayPlan, loaded: LoadedInput, option?: string): RelaySecrets {
  const out: RelaySecrets = { routers: {} };
  for (const f of keyFiles(relay, loaded, option)) f.put(requireKeys(f.path, loaded.file, option !== undefined, f.ends), out);
  return clean(out);
}

/** render: the keys, and new ones where there are none, staged but not yet saved: the
 *  caller commits once everything else is written, or aborts. */
export function relaySecretsToRender(relay: RelayPlan, loaded: LoadedInput, option?: string): { secrets: RelaySecrets; staged: StagedSecrets[]; notes: string[] } {
  const out: RelaySecrets = { routers: {} };
  const staged: StagedSecrets[] = [];
  const notes: string[] = [];
  try {
    for (const f of keyFiles(relay, loaded, option)) {
      const { secrets, created } = withMissingKeys(f.path, f.ends);
      f.put(secrets, out);
      if (created.length === 0) continue;
      staged.push(stageSecrets(f.path, secrets));
      notes.push(`relay6: made new WireGuard keys for ${f.who ?? created.join(" and ")} in ${f.path} (mode 0600)`);
    }
  } catch (e) {
    for (const s of staged) s.abort();
    throw e;
  }
  return { secrets: clean(out), staged, notes };
}

/** The site a command acts on: --site NAME, or the only one (undefined: a relay of several
 *  sites and no --site). */
export function pickSite<T extends { site: string }>(relay: { kind: RelayPlan["kind"]; relay: string; sites: readonly T[] }, site: string | undefined): T | undefined {
  if (site === undefined) {
    if (relay.sites.length === 1) return relay.sites[0]!;
    return undefined;
  }
  const plan = relay.sites.find((p) => p.site === site);
  if (!plan)
    throw new UserError(
      `--site ${site}: ${relay.kind === "site" ? `the site is ${relay.sites[0]!.site}` : `relay ${relay.relay} has no such site (its sites: ${relay.sites.map((p) => p.site).join(", ")})`}`,
      [],
      EXIT.badInput,
      `give --site one of ${relay.sites.map((p) => p.site).join(", ")}`,
    );
  return plan;
}

/** --site NAME, required when the relay has more than one site. */
export function requireSite(relay: RelayPlan, site: string | undefined, command: string): Plan {
  const plan = pickSite(relay, site);
  if (!plan)
    throw new UserError(`relay ${relay.relay} has ${relay.sites.length} sites: name one with --site (${relay.sites.map((p) => p.site).join(", ")})`, [
      { code: "site-required", severity: "error", path: "", message: `${command} acts on one site's router`, fix: `add --site ${relay.sites[0]!.site} (or another of ${relay.sites.map((p) => p.site).join(", ")})` },
    ], EXIT.badInput);
  return plan;
}

/** One site's artifacts as its router target rendered them (paths under router/). */
export function siteArtifacts(relay: RelayPlan, site: string, artifacts: readonly Artifact[]): Artifact[] {
  const dir = siteOutputDir(relay, site);
  if (dir === "") return [...artifacts];
  return artifacts.filter((a) => a.path.startsWith(dir)).map((a) => ({ ...a, path: a.path.slice(dir.length) }));
}

/** How a command names a site of the input for the user ("relay.yaml --site home"). */
export function siteArg(relay: RelayPlan, input: string, site: string): string {
  return relay.kind === "site" ? input : `${input} --site ${site}`;
}
