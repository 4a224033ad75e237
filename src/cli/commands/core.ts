// plan, lint, render, keys, schema: the commands of the pure pipeline.
import { resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, formatDiagnostic, hasErrors, UserError, type Diagnostic } from "../../errors.js";
import { checkOutput, isInside, replaceOwnFile, writeArtifacts, type OutputOwner } from "../../io/write.js";
import { ensureKeys, publicKeyOf, readSecrets, rotateKey } from "../../keys/wireguard.js";
import { formatBytes } from "../../plan/bfd.js";
import type { Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { loadInput, renderInput, routerTarget, siteJsonSchema, siteOutputDir, vpsTarget } from "../../pipeline.js";
import type { LoadedInput } from "../../site/relay.js";
import { VERSION } from "../../version.js";
import { loadAndAnalyseInput, pickSite, relaySecretsToRender, secretsFiles, secretsPaths, siteArg } from "./input.js";

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");
const err = (s: string) => process.stderr.write(s.endsWith("\n") ? s : s + "\n");

function printFindings(findings: Diagnostic[], to: (s: string) => void = err): void {
  for (const d of findings) to(formatDiagnostic(d));
}

function blocked(findings: Diagnostic[]): UserError {
  const n = findings.filter((d) => d.severity === "error").length;
  return new UserError(`${n} lint error${n === 1 ? "" : "s"}: nothing rendered`, [], EXIT.findings, "fix what each error above says (`relay6 lint INPUT` lists them again)");
}

export function formatPlan(plan: Plan, findings: Diagnostic[]): string {
  const L: string[] = [];
  const w = (label: string, value: string) => L.push(`  ${label.padEnd(22)} ${value}`);
  const member = plan.relay;
  if (member) L.push(`site ${plan.site} of relay ${member.name}: ${plan.prefix}, a /${plan.prefixLength} of ${member.prefix}`, "");
  else L.push(`site ${plan.site}: ${plan.prefix} ${plan.vps.onLink ? "on-link at" : "routed to"} the VPS (${plan.vps.endpoint}, ${plan.vps.nic})`, "");
  L.push("address plan");
  const transitLabel = member ? "transit /64 (relay's)" : plan.transit.kind === "link-local" ? "transit (link-local)" : plan.transit.kind === "ula" ? "transit /64 (ULA)" : "transit /64 (index 0)";
  w(transitLabel, plan.transit.prefix);
  w("  VPS wg0", plan.transit.vps.cidr + (plan.transit.vpsLinkLocal ? `, ${plan.transit.vpsLinkLocal.cidr}` : ""));
  w(`  router ${plan.router.tunnelInterface}`, plan.transit.router.cidr + (plan.transit.routerLinkLocal ? `, ${plan.transit.routerLinkLocal.cidr}` : ""));
  for (const s of plan.segments) {
    w(`segment ${s.name} (0x${s.index.toString(16)})`, `${s.prefix} on ${s.interface}, router ${s.router.address}${s.global === false ? " (ULA only)" : ""}`);
    if (s.ula) w("  ULA", `${s.ula.prefix}, router ${s.ula.router.address}`);
    if (s.previous) w("  previous", `${s.previous}, advertised deprecated (preferred 0, valid 2 h)`);
  }
  if (plan.vps.ndp) w("ndppd on the VPS", `static rules on ${plan.vps.nic}: ${plan.vps.ndp.rules.join(", ")}`);
  const own = plan.vps.ownAddress;
  if (own) w("VPS's own address", `${own.cidr} in segment ${own.segment}${own.dropPrefixRoute ? ": no connected route (noprefixroute), RA prefixes ignored" : ""}; the router answers for it on ${own.interface}`);
  // A site of a relay: the VPS's routes are the relay's, shown once above.
  if (!member) {
    L.push("", "routes on the VPS (longest first wins)");
    for (const r of plan.vps.routes) w(r.dst, `dev ${r.dev}${r.via ? ` via ${r.via}` : ""}  # ${r.why}`);
  }
  L.push("", `WireGuard: UDP ${plan.wireguard.port}, MTU ${plan.wireguard.mtu}, TCP MSS ${plan.wireguard.mss}, keepalive ${plan.wireguard.keepalive} s, keys: ${plan.wireguard.keys}`);
  L.push(`VPS AllowedIPs${member ? " of this site's peer" : ""}: ${plan.vps.allowedIps.join(", ")}`);
  if (plan.failover.mode === "bgp-bfd") {
    const f = plan.failover;
    L.push(
      `failover: BGP AS${f.vpsAs} (VPS, ${f.vpsRouterId}) <-> AS${f.routerAs} (router, ${f.routerRouterId}), BFD ${f.bfd.intervalMs} ms x ${f.bfd.multiplier}`,
      `  detection ${f.bfd.detectMs} ms; BFD traffic ${formatBytes(f.bfd.bytesPerMonth)}/month`,
    );
  } else {
    const p = plan.failover.probe;
    L.push(
      `failover: static default route, health-checked by a ping of the VPS every ${p.intervalMs / 1000} s, withdrawn after ${p.misses} misses`,
      `  detection ${p.detectMs / 1000}-${(p.detectMs + p.intervalMs) / 1000} s; probe traffic ${formatBytes(p.bytesPerMonth)}/month`,
    );
  }
  L.push(`router: ${plan.router.platform}${plan.router.version ? ` ${plan.router.version}` : ""}, bridge ${plan.router.bridge}`);
  if (findings.length > 0) {
    L.push("", "findings");
    for (const d of findings) L.push(`  ${d.severity.padEnd(7)} ${d.code}${d.path ? ` at ${d.path}` : ""}: ${d.message}`);
  }
  return L.join("\n") + "\n";
}

/** A relay: the relay-wide part, then each site as `relay6 plan SITE` shows it, then the
 *  relay's own findings and the sums. */
export function formatRelayPlan(relay: RelayPlan, findings: Diagnostic[]): string {
  const L: string[] = [];
  const w = (label: string, value: string) => L.push(`  ${label.padEnd(22)} ${value}`);
  L.push(`relay ${relay.relay}: ${relay.prefix} routed to the VPS (${relay.vps.endpoint}, ${relay.vps.nic}); ${relay.sites.length} site${relay.sites.length === 1 ? "" : "s"}`, "");
  w("transit /64 (index 0)", relay.transit.prefix);
  w("  VPS wg0", relay.transit.vps.cidr + (relay.transit.vpsLinkLocal ? `, ${relay.transit.vpsLinkLocal.cidr}` : ""));
  for (const p of relay.sites) w(`  router of ${p.site}`, p.transit.router.address);
  L.push(`WireGuard: one wg0 on UDP ${relay.wireguard.port}, MTU ${relay.wireguard.mtu}, one peer per site; VPS key: ${relay.wireguard.keys}`);
  if (relay.bgp)
    L.push(`BGP: the VPS is AS${relay.bgp.as} (${relay.bgp.routerId}); BFD on wg0 ${relay.bgp.bfd.intervalMs} ms x ${relay.bgp.bfd.multiplier}`);
  L.push("", "routes on the VPS (longest first wins)");
  for (const r of relay.vps.routes) w(r.dst, `dev ${r.dev}${r.via ? ` via ${r.via}` : ""}  # ${r.why}`);
  for (const p of relay.sites) {
    L.push("", "-".repeat(72), formatPlan(p, findings.filter((d) => d.site === p.site)).trimEnd());
  }
  L.push("", "-".repeat(72), "totals");
  const bgp = relay.sites.filter((p) => p.failover.mode === "bgp-bfd").length;
  w("sites", `${relay.sites.length} (${bgp} bgp-bfd, ${relay.sites.length - bgp} static)`);
  w("BFD traffic", `${formatBytes(relay.totals.bfdBytesPerMonth)}/month on the underlay, all sites together`);
  if (relay.totals.failoverBytesPerMonth !== relay.totals.bfdBytesPerMonth) w("failover traffic", `${formatBytes(relay.totals.failoverBytesPerMonth)}/month: BFD and the static sites' probes`);
  if (relay.quota) L.push("", formatQuota(relay).trimEnd());
  const own = findings.filter((d) => d.site === undefined);
  if (own.length > 0) {
    L.push("", "findings");
    for (const d of own) L.push(`  ${d.severity.padEnd(7)} ${d.code}${d.path ? ` at ${d.path}` : ""}: ${d.message}`);
  }
  return L.join("\n") + "\n";
}

/** vps.transfer: the quota, the failover traffic it pays first, the LAN traffic it carries. */
export function formatQuota(relay: RelayPlan): string {
  const q = relay.quota;
  if (!q) return "";
  const L: string[] = [];
  const w = (label: string, value: string) => L.push(`  ${label.padEnd(22)} ${value}`);
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;
  L.push(`transfer quota: ${q.monthlyGB} GB a month from day ${q.resetDay}, the provider counts ${q.counts === "out" ? "what the VPS sends (out)" : "both directions (in+out)"}`);
  w("failover traffic", `${formatBytes(relay.totals.failoverBytesPerMonth)}/month both ways (BFD and probes of ${relay.sites.length === 1 ? "the site" : `all ${relay.sites.length} sites`}); counted: ${formatBytes(q.failoverBytes)} = ${pct(q.failoverShare)} of the quota`);
  if (q.counts === "in+out") w("LAN traffic carried", `${formatBytes(q.lanBytes.downstream)}/month, either direction`);
  else {
    w("LAN traffic carried", `${formatBytes(q.lanBytes.downstream)}/month downstream (internet → LAN)`);
    w("", `or ${formatBytes(q.lanBytes.upstream)}/month upstream (any mix in between)`);
  }
  w("why", q.counts === "in+out" ? "every relayed byte crosses the VPS's NIC twice: plain, and inside WireGuard (o more a packet)" : "every relayed byte leaves the VPS once: downstream inside WireGuard (o more a packet), upstream plain");
  w("formula", q.formula);
  return L.join("\n") + "\n";
}

/** Where render sends the user next: the VPS, then each site's router. */
function nextSteps(relay: RelayPlan, out: string, input: string): string {
  const steps = [vpsTarget().next(relay, out, input)];
  for (const p of relay.sites) {
    const dir = siteOutputDir(relay, p.site);
    steps.push(`${relay.kind === "site" ? "" : `site ${p.site}: `}${routerTarget(p).next(p, dir ? `${out}/${dir.replace(/\/$/, "")}` : out, siteArg(relay, input, p.site))}`);
  }
  return `next: ${steps.join("; ")}.`;
}

const SECRETS_HELP = "secrets file of a site (default: <site>.secrets.yaml beside it); for a relay a directory holding relay.secrets.yaml and sites/<site>.secrets.yaml (default: <file>.secrets.yaml beside each file)";

interface KeysFlags {
  secrets?: string;
  rotate?: boolean;
  site?: string;
  json?: boolean;
}

/** A standalone site: one secrets file, both keys (as always); --rotate: the router's. */
function keysOfSite(loaded: LoadedInput, opts: KeysFlags): void {
  const site = loaded.standalone!.site;
  if (opts.site !== undefined && opts.site !== site.site) throw new UserError(`--site ${opts.site}: ${loaded.file} is the site ${site.site}`, [], EXIT.badInput, `leave --site out, or give --site ${site.site}`);
  if (site.wireguard.keys === "device") {
    if (opts.rotate) throw new UserError("--rotate: with wireguard.keys: device each end makes its own key", [], EXIT.badInput, "make a new key on the router and put its public half in router.publicKey, then render and apply the VPS");
    const keys = { vps: site.vps.publicKey ?? null, router: site.router.publicKey ?? null };
    if (opts.json) out(JSON.stringify(keys));
    else out(`keys: device — each end makes its own key.\n  vps:    ${keys.vps ?? "(not yet: run the rendered vps/setup.sh, step 1)"}\n  router: ${keys.router ?? "(not yet: run the rendered router script, step 1)"}`);
    return;
  }
  const path = secretsPaths(loaded, opts.secrets).vps;
  const { created } = ensureKeys(path);
  const rotated = opts.rotate ? rotateKey(path, "router") : undefined;
  const secrets = readSecrets(path)!;
  const keys = { vps: publicKeyOf(secrets.vps!.privateKey), router: publicKeyOf(secrets.router!.privateKey) };
  if (opts.json) out(JSON.stringify({ secrets: path, created, ...(rotated ? { rotated: ["router"] } : {}), ...keys }));
  else
    out(
      `${created.length ? `made keys for ${created.join(", ")}; ` : ""}${rotated ? "made a new router key; " : ""}private keys in ${path} (0600)\n  vps public key:    ${keys.vps}\n  router public key: ${keys.router}` +
        (rotated ? `\nnext: relay6 apply vps ${loaded.file}, then relay6 apply router ${loaded.file} (the tunnel is down between the two)` : ""),
    );
}

/** A relay: the VPS's key in the relay's secrets file, each router's in its site's. */
function keysOfRelay(loaded: LoadedInput, opts: KeysFlags): void {
  const input = loaded.input;
  const paths = secretsPaths(loaded, opts.secrets);
  const names = input.sites.map((e) => e.site.site);
  const chosen = pickSite({ kind: "relay", relay: input.relay, sites: names.map((n) => ({ site: n })) }, opts.site);
  if (opts.rotate && !chosen) throw new UserError(`--rotate: relay ${input.relay} has ${names.length} sites`, [], EXIT.badInput, `name the site whose router gets a new key with --site (${names.join(", ")})`);
  const rows: { end: string; file: string; publicKey: string | null; made: boolean; rotated: boolean; keys: "relay6" | "device" }[] = [];
  if (input.wireguard.keys === "relay6") {
    const { secrets, created } = ensureKeys(paths.vps, ["vps"]);
    rows.push({ end: "vps", file: paths.vps, publicKey: publicKeyOf(secrets.vps!.privateKey), made: created.length > 0, rotated: false, keys: "relay6" });
  } else rows.push({ end: "vps", file: loaded.file, publicKey: input.vps.publicKey ?? null, made: false, rotated: false, keys: "device" });
  for (const [i, e] of input.sites.entries()) {
    const site = e.site;
    const rotate = !!opts.rotate && chosen?.site === site.site;
    if (site.wireguard.keys === "device") {
      if (rotate) throw new UserError(`--rotate --site ${site.site}: the site has wireguard.keys: device, so its router makes its own key`, [], EXIT.badInput, "make a new key on the router and put its public half in router.publicKey, then render and apply the VPS");
      rows.push({ end: `router of ${site.site}`, file: loaded.siteDocs[i]!.file, publicKey: site.router.publicKey ?? null, made: false, rotated: false, keys: "device" });
      continue;
    }
    const path = paths.sites.get(site.site)!;
    const { secrets, created } = ensureKeys(path, ["router"]);
    const publicKey = rotate ? rotateKey(path, "router") : publicKeyOf(secrets.router!.privateKey);
    rows.push({ end: `router of ${site.site}`, file: path, publicKey, made: created.length > 0, rotated: rotate, keys: "relay6" });
  }
  if (opts.json) {
    out(JSON.stringify({ relay: input.relay, keys: rows }, null, 2));
    return;
  }
  for (const r of rows)
    out(`${(r.end + ":").padEnd(24)} ${r.publicKey ?? "(not yet: keys: device)"}  ${r.keys === "relay6" ? `(${r.made ? "new, " : ""}${r.rotated ? "rotated, " : ""}private key in ${r.file}, 0600)` : `(keys: device, ${r.file})`}`);
  if (opts.rotate && chosen)
    out(`next: relay6 apply vps ${loaded.file} (changes the peer of ${chosen.site} only), then relay6 apply router ${loaded.file} --site ${chosen.site}; ${chosen.site}'s tunnel is down between the two`);
}

export function registerCore(program: Command): void {
  program
    .command("plan")
    .description("Show the address plan, the VPS's routes, lint findings and BFD traffic (a relay: every site, and the sums)")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--json", "print the plan and findings as JSON")
    .action((input: string, opts: { json?: boolean }) => {
      const { relay, findings } = loadAndAnalyseInput(input);
      const solo = relay?.kind === "site";
      if (opts.json) out(JSON.stringify(solo || !relay ? { plan: relay?.sites[0] ?? null, ...(relay?.quota ? { quota: relay.quota } : {}), findings } : { relay, findings }, null, 2));
      else if (relay) out(solo ? formatPlan(relay.sites[0]!, findings) + (relay.quota ? `\n${formatQuota(relay)}` : "") : formatRelayPlan(relay, findings));
      else printFindings(findings);
      if (hasErrors(findings)) process.exitCode = EXIT.findings;
    });

  program
    .command("lint")
    .description("Report lint findings; exit 1 when there are errors")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--json", "print findings as JSON")
    .action((site: string, opts: { json?: boolean }) => {
      const { findings } = loadAndAnalyseInput(site);
      if (opts.json) out(JSON.stringify({ findings }, null, 2));
      else if (findings.length === 0) out(`${site}: no findings`);
      else printFindings(findings, out);
      if (hasErrors(findings)) process.exitCode = EXIT.findings;
    });

  program
    .command("render")
    .description("Render every artifact for both ends into a directory (a relay: vps/ once, each site under sites/<site>/)")
    .argument("<input>", "site file or relay file (YAML)")
    .requiredOption("-o, --out <dir>", "output folder: new, empty, or one relay6 rendered for this site or relay (replaced as a whole)")
    .option("--secrets <path>", SECRETS_HELP)
    .option("--json", "print what was written as JSON")
    .action((site: string, opts: { out: string; secrets?: string; json?: boolean }) => {
      const { loaded, relay, findings } = loadAndAnalyseInput(site);
      if (!opts.json) printFindings(findings.filter((d) => d.severity !== "info"));
      if (!relay || hasErrors(findings)) throw blocked(findings);
      // The output folder is checked before anything is written (the secrets files included).
      const owner: OutputOwner = {
        ...(relay.kind === "relay" ? { relay: { name: relay.relay, file: resolve(site) } } : {}),
        sites: relay.sites.map((p, i) => ({ site: p.site, file: resolve(loaded.siteDocs[i]!.file) })),
      };
      checkOutput(opts.out, owner);
      for (const secretsPath of secretsFiles(relay, loaded, opts.secrets))
        if (isInside(secretsPath, opts.out))
          throw new UserError(`secrets file ${secretsPath} is inside the output folder ${opts.out}`, [
            { code: "secrets-in-output", severity: "error", path: "", file: secretsPath, message: "render replaces the output folder as a whole: the keys would be lost", fix: "keep the secrets files outside the output folder (--secrets), or render into another folder with -o" },
          ]);
      // Keys made now are saved only once the output is written: a refusal saves nothing.
      const { secrets, staged, notes } = relaySecretsToRender(relay, loaded, opts.secrets);
      let artifacts;
      try {
        artifacts = renderInput(relay, { secrets, version: VERSION });
        writeArtifacts(opts.out, artifacts, owner);
        for (const s of staged) s.commit();
      } finally {
        for (const s of staged) s.abort();
      }
      for (const n of notes) err(n);
      if (opts.json) {
        out(JSON.stringify({ out: opts.out, files: artifacts.map((a) => ({ path: a.path, mode: a.mode.toString(8) })), findings }, null, 2));
        return;
      }
      out(`rendered ${artifacts.length} files into ${opts.out}:`);
      for (const a of artifacts) out(`  ${a.mode.toString(8).padStart(4, "0")}  ${a.path}`);
      out(nextSteps(relay, opts.out, site));
    });

  program
    .command("keys")
    .description("Make missing WireGuard keys in the secrets files and print the PUBLIC keys; --rotate gives a site's router a new key")
    .argument("<input>", "site file or relay file (YAML)")
    .option("--secrets <path>", SECRETS_HELP)
    .option("--rotate", "replace the router's key with a new one (then apply the VPS and that router: no other peer changes)")
    .option("--site <name>", "the site whose router key --rotate replaces (required for a relay of several sites)")
    .option("--json", "print public keys as JSON")
    .action((input: string, opts: { secrets?: string; rotate?: boolean; site?: string; json?: boolean }) => {
      const loaded = loadInput(input);
      if (loaded.kind === "site") keysOfSite(loaded, opts);
      else keysOfRelay(loaded, opts);
    });

  program
    .command("schema")
    .description("Print the site file's JSON Schema (for editors), or write it to a file to keep beside the site file")
    .option("-o, --out <file>", "write the schema to FILE (e.g. site.schema.json beside the site file, with `# yaml-language-server: $schema=./site.schema.json`)")
    .action((opts: { out?: string }) => {
      const text = JSON.stringify(siteJsonSchema(), null, 2) + "\n";
      if (!opts.out) return void out(text);
      // Replaces only a schema relay6 wrote (the same $id), never through a symbolic link.
      const id = siteJsonSchema().$id;
      replaceOwnFile(opts.out, text, {
        flag: "-o",
        what: "schema file",
        mode: 0o644,
        ours: (t) => {
          try {
            return (JSON.parse(t) as { $id?: unknown }).$id === id;
          } catch {
            return false;
          }
        },
      });
      err(`wrote ${opts.out}`);
    });
}
