// plan, lint, render, keys, schema: the commands of the pure pipeline.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { EXIT, fileSystemError, formatDiagnostic, hasErrors, UserError, type Diagnostic } from "../../errors.js";
import { checkOutput, isInside, writeArtifacts, type OutputOwner } from "../../io/write.js";
import { defaultSecretsPath, ensureKeys, publicKeyOf, requireKeys, stageSecrets, withMissingKeys, type SecretsFile, type StagedSecrets } from "../../keys/wireguard.js";
import { formatBytes } from "../../plan/bfd.js";
import type { Plan } from "../../plan/plan.js";
import { analyse, loadSite, renderPlan, siteJsonSchema, targetsFor } from "../../pipeline.js";
import type { Secrets } from "../../render/types.js";
import type { LoadedSite } from "../../site/load.js";
import { VERSION } from "../../version.js";

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");
const err = (s: string) => process.stderr.write(s.endsWith("\n") ? s : s + "\n");

function printFindings(findings: Diagnostic[], to: (s: string) => void = err): void {
  for (const d of findings) to(formatDiagnostic(d));
}

export function loadAndAnalyse(file: string): { loaded: LoadedSite; plan?: Plan; findings: Diagnostic[] } {
  const loaded = loadSite(file);
  return { loaded, ...analyse(loaded) };
}

function blocked(findings: Diagnostic[]): UserError {
  const n = findings.filter((d) => d.severity === "error").length;
  return new UserError(`${n} lint error${n === 1 ? "" : "s"}: nothing rendered`, [], EXIT.findings, "fix what each error above says (`relay6 lint SITE` lists them again)");
}

const asSecrets = (s: SecretsFile): Secrets => ({
  ...(s.vps ? { vpsPrivateKey: s.vps.privateKey } : {}),
  ...(s.router ? { routerPrivateKey: s.router.privateKey } : {}),
});

/** The secrets every command but keys, render and init needs: read, never made. With no
 *  secrets file (or a key missing) the error names the file and `relay6 keys SITE`. */
export function secretsFor(plan: Plan, site: string, secretsPath?: string): Secrets {
  if (plan.wireguard.keys === "device") return {};
  return asSecrets(requireKeys(secretsPath ?? defaultSecretsPath(site), site, secretsPath !== undefined));
}

/** render: the secrets file's keys, and new ones for ends that have none, staged but not
 *  yet saved: the caller commits once everything else is written, or aborts. */
function secretsToRender(plan: Plan, site: string, secretsPath?: string): { secrets: Secrets; staged?: StagedSecrets; note?: string } {
  if (plan.wireguard.keys === "device") return { secrets: {} };
  const path = secretsPath ?? defaultSecretsPath(site);
  const { secrets, created } = withMissingKeys(path);
  if (created.length === 0) return { secrets: asSecrets(secrets) };
  return { secrets: asSecrets(secrets), staged: stageSecrets(path, secrets), note: `relay6: made new WireGuard keys for ${created.join(" and ")} in ${path} (mode 0600)` };
}

export function formatPlan(plan: Plan, findings: Diagnostic[]): string {
  const L: string[] = [];
  const w = (label: string, value: string) => L.push(`  ${label.padEnd(22)} ${value}`);
  L.push(`site ${plan.site}: ${plan.prefix} routed to the VPS (${plan.vps.endpoint}, ${plan.vps.nic})`, "");
  L.push("address plan");
  w("transit /64 (index 0)", plan.transit.prefix);
  w("  VPS wg0", plan.transit.vps.cidr + (plan.transit.vpsLinkLocal ? `, ${plan.transit.vpsLinkLocal.cidr}` : ""));
  w(`  router ${plan.router.tunnelInterface}`, plan.transit.router.cidr + (plan.transit.routerLinkLocal ? `, ${plan.transit.routerLinkLocal.cidr}` : ""));
  for (const s of plan.segments) {
    w(`segment ${s.name} (0x${s.index.toString(16)})`, `${s.prefix} on ${s.interface}, router ${s.router.address}`);
    if (s.ula) w("  ULA", `${s.ula.prefix}, router ${s.ula.router.address}`);
  }
  L.push("", "routes on the VPS (longest first wins)");
  for (const r of plan.vps.routes) w(r.dst, `dev ${r.dev}${r.via ? ` via ${r.via}` : ""}  # ${r.why}`);
  L.push("", `WireGuard: UDP ${plan.wireguard.port}, MTU ${plan.wireguard.mtu}, TCP MSS ${plan.wireguard.mss}, keepalive ${plan.wireguard.keepalive} s, keys: ${plan.wireguard.keys}`);
  L.push(`VPS AllowedIPs: ${plan.vps.allowedIps.join(", ")}`);
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

export function registerCore(program: Command): void {
  program
    .command("plan")
    .description("Show the address plan, the VPS's routes, lint findings and BFD traffic")
    .argument("<site>", "site file (YAML)")
    .option("--json", "print the plan and findings as JSON")
    .action((site: string, opts: { json?: boolean }) => {
      const { plan, findings } = loadAndAnalyse(site);
      if (opts.json) out(JSON.stringify({ plan: plan ?? null, findings }, null, 2));
      else if (plan) out(formatPlan(plan, findings));
      else printFindings(findings);
      if (hasErrors(findings)) process.exitCode = EXIT.findings;
    });

  program
    .command("lint")
    .description("Report lint findings; exit 1 when there are errors")
    .argument("<site>", "site file (YAML)")
    .option("--json", "print findings as JSON")
    .action((site: string, opts: { json?: boolean }) => {
      const { findings } = loadAndAnalyse(site);
      if (opts.json) out(JSON.stringify({ findings }, null, 2));
      else if (findings.length === 0) out(`${site}: no findings`);
      else printFindings(findings, out);
      if (hasErrors(findings)) process.exitCode = EXIT.findings;
    });

  program
    .command("render")
    .description("Render every artifact for both ends into a directory")
    .argument("<site>", "site file (YAML)")
    .requiredOption("-o, --out <dir>", "output folder: new, empty, or one relay6 rendered for this site (replaced as a whole)")
    .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
    .option("--json", "print what was written as JSON")
    .action((site: string, opts: { out: string; secrets?: string; json?: boolean }) => {
      const { plan, findings } = loadAndAnalyse(site);
      if (!opts.json) printFindings(findings.filter((d) => d.severity !== "info"));
      if (!plan || hasErrors(findings)) throw blocked(findings);
      // The output folder is checked before anything is written (the secrets file included).
      const owner: OutputOwner = { sites: [{ site: plan.site, file: resolve(site) }] };
      checkOutput(opts.out, owner);
      const secretsPath = opts.secrets ?? defaultSecretsPath(site);
      if (plan.wireguard.keys === "relay6" && isInside(secretsPath, opts.out))
        throw new UserError(`secrets file ${secretsPath} is inside the output folder ${opts.out}`, [
          { code: "secrets-in-output", severity: "error", path: "", file: secretsPath, message: "render replaces the output folder as a whole: the keys would be lost", fix: "keep the secrets file outside the output folder (--secrets FILE), or render into another folder with -o" },
        ]);
      // Keys made now are saved only once the output is written: a refusal saves nothing.
      const { secrets, staged, note } = secretsToRender(plan, site, opts.secrets);
      let artifacts;
      try {
        artifacts = renderPlan(plan, { secrets, version: VERSION });
        writeArtifacts(opts.out, artifacts, owner);
        staged?.commit();
      } finally {
        staged?.abort();
      }
      if (note) err(note);
      if (opts.json) {
        out(JSON.stringify({ out: opts.out, files: artifacts.map((a) => ({ path: a.path, mode: a.mode.toString(8) })), findings }, null, 2));
        return;
      }
      out(`rendered ${artifacts.length} files into ${opts.out}:`);
      for (const a of artifacts) out(`  ${a.mode.toString(8).padStart(4, "0")}  ${a.path}`);
      const { vps, router } = targetsFor(plan);
      out(`next: ${[vps, router].map((t) => t.next(plan, opts.out, site)).join("; ")}.`);
    });

  program
    .command("keys")
    .description("Make missing WireGuard keys in the secrets file and print the PUBLIC keys")
    .argument("<site>", "site file (YAML)")
    .option("--secrets <file>", "secrets file (default: <site>.secrets.yaml beside the site file)")
    .option("--json", "print public keys as JSON")
    .action((site: string, opts: { secrets?: string; json?: boolean }) => {
      const loaded = loadSite(site);
      if (loaded.site.wireguard.keys === "device") {
        const keys = { vps: loaded.site.vps.publicKey ?? null, router: loaded.site.router.publicKey ?? null };
        if (opts.json) out(JSON.stringify(keys));
        else out(`keys: device — each end makes its own key.\n  vps:    ${keys.vps ?? "(not yet: run the rendered vps/setup.sh, step 1)"}\n  router: ${keys.router ?? "(not yet: run the rendered router script, step 1)"}`);
        return;
      }
      const path = opts.secrets ?? defaultSecretsPath(site);
      const { secrets, created } = ensureKeys(path);
      const keys = { vps: publicKeyOf(secrets.vps.privateKey), router: publicKeyOf(secrets.router.privateKey) };
      if (opts.json) out(JSON.stringify({ secrets: path, created, ...keys }));
      else out(`${created.length ? `made keys for ${created.join(", ")}; ` : ""}private keys in ${path} (0600)\n  vps public key:    ${keys.vps}\n  router public key: ${keys.router}`);
    });

  program
    .command("schema")
    .description("Print the site file's JSON Schema (for editors), or write it to a file to keep beside the site file")
    .option("-o, --out <file>", "write the schema to FILE (e.g. site.schema.json beside the site file, with `# yaml-language-server: $schema=./site.schema.json`)")
    .action((opts: { out?: string }) => {
      const text = JSON.stringify(siteJsonSchema(), null, 2) + "\n";
      if (!opts.out) return void out(text);
      try {
        writeFileSync(opts.out, text, { mode: 0o644 });
      } catch (e) {
        throw fileSystemError(e, `schema file ${opts.out}`, { badPath: "give -o a file path whose folders exist" }, "schema-unwritable");
      }
      err(`wrote ${opts.out}`);
    });
}
