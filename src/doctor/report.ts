// doctor as one pure function: texts in, report out. The CLI prints it; nothing here
// reads files or talks to machines.
import { formatDiagnostic, type Diagnostic } from "../errors.js";
import { BIRD_CHECKS } from "./checks/bird.js";
import { missingInputs, ROUTER, type Check } from "./checks/check.js";
import { NDP_CHECKS } from "./checks/ndp.js";
import { UFW_CHECKS } from "./checks/ufw.js";
import { WIREGUARD_CHECKS } from "./checks/wireguard.js";
import { inputOrder, type DoctorInputs, type InputKey } from "./inputs.js";
import type { LoadedRouterDoctor } from "./router.js";
import { parseInputs } from "./setup.js";
import { proposeSite, type SiteProposal } from "./site.js";

/** Doctor's own checks, by input (a router platform's come from its doctor). */
export const CHECKS: readonly Check[] = [...WIREGUARD_CHECKS, ...BIRD_CHECKS, ...NDP_CHECKS, ...UFW_CHECKS];

export interface SkippedCheck {
  codes: string[];
  /** Why: the flags that would let it run, or another reason. */
  reason: string;
}

export interface DoctorReport {
  inputs: { input: InputKey; flag: string; origin: string }[];
  /** Every input flag doctor knows, in report order. */
  flags: string[];
  findings: Diagnostic[];
  skipped: SkippedCheck[];
  site: SiteProposal;
}

export interface DoctorOptions {
  /** The router platforms doctor can read (src/pipeline.ts: routerDoctors()). */
  routers: readonly LoadedRouterDoctor[];
  /** The router platforms' own options (e.g. routerosVersion from --routeros-version). */
  options?: Record<string, string>;
  siteName?: string;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function runDoctor(inputs: DoctorInputs, opts: DoctorOptions): DoctorReport {
  const kinds = inputOrder(opts.routers.map((r) => r.support.input));
  const flagOf = (k: InputKey) => (k === ROUTER ? opts.routers.map((r) => r.support.input.flag).join(" or ") : kinds.find(([key]) => key === k)![1].flag);
  const { parsed, findings } = parseInputs(inputs, opts.routers);
  const skipped: SkippedCheck[] = [];
  for (const check of CHECKS) {
    if (check.relevant && !check.relevant(parsed)) continue;
    const missing = missingInputs(parsed, check);
    if (missing.length > 0) {
      const flags = missing.map((m) => (Array.isArray(m) ? m.map(flagOf).join(" or ") : flagOf(m)));
      skipped.push({ codes: check.codes, reason: `needs ${flags.join(" and ")}` });
      continue;
    }
    findings.push(...check.run(parsed));
  }
  // The router's own checks: its platform's, when its input is there.
  const router = parsed.router;
  const options = opts.options ?? {};
  if (router)
    for (const check of router.doctor.checks) {
      const why = check.skip?.(router.parsed, router.facts, options);
      if (why) skipped.push({ codes: check.codes, reason: why });
      else findings.push(...check.run(router.parsed, router.facts, options));
    }
  else for (const r of opts.routers) for (const check of r.doctor.checks) skipped.push({ codes: check.codes, reason: `needs ${r.support.input.flag}` });
  // Stable order: by severity, then input and line, then code.
  const order = new Map(kinds.map(([k], i) => [inputs[k]?.origin, i]));
  findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (order.get(a.file) ?? 99) - (order.get(b.file) ?? 99) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.code.localeCompare(b.code),
  );
  return {
    inputs: kinds.filter(([k]) => inputs[k]).map(([k, kind]) => ({ input: k, flag: kind.flag, origin: inputs[k]!.origin })),
    flags: kinds.map(([, kind]) => kind.flag),
    findings,
    skipped,
    site: proposeSite(parsed, opts.routers.map((r) => r.support.input.flag), opts.siteName),
  };
}

export function formatReport(r: DoctorReport, written?: string): string {
  const L: string[] = [];
  if (r.inputs.length === 0) L.push("relay6 doctor: no inputs given; pass any of " + r.flags.join(", "));
  else L.push(`relay6 doctor: read ${r.inputs.map((i) => `${i.origin} (${i.flag})`).join(", ")}`);
  L.push("");
  if (r.findings.length === 0) L.push("no findings");
  for (const d of r.findings) L.push(formatDiagnostic(d));
  const count = (s: string) => r.findings.filter((d) => d.severity === s).length;
  L.push("", `${count("error")} error(s), ${count("warning")} warning(s), ${count("info")} info`);
  if (r.skipped.length > 0) {
    L.push("", "skipped checks:");
    for (const s of r.skipped) L.push(`  ${s.codes.join(", ")}: ${s.reason}`);
  }
  L.push("");
  if (!r.site.yaml) {
    L.push(`no site file: doctor lacks ${r.site.missing.join("; ")}`);
  } else if (written) {
    L.push(`wrote the site file describing this setup to ${written}; next: relay6 plan ${written}`);
  } else {
    L.push("the site file describing this setup (pass --write-site FILE to write it):", "", r.site.yaml.trimEnd());
  }
  return L.join("\n") + "\n";
}

// ---- secrets -------------------------------------------------------------------------

/** Every secret value in any input: wg-quick's PrivateKey/PresharedKey, RouterOS's
 *  private-key=/preshared-key= (an export made with show-sensitive). Collected from every
 *  text, whatever flag it came through: a wg0.conf given as --bird-conf is still secret. */
export function secretsIn(inputs: DoctorInputs): string[] {
  const out = new Set<string>();
  for (const input of Object.values(inputs)) {
    const text = input?.text;
    if (!text) continue;
    for (const m of text.matchAll(/^\s*(?:PrivateKey|PresharedKey)\s*=\s*(\S+)/gim)) out.add(m[1]!);
    for (const m of text.matchAll(/\b(?:private-key|preshared-key)=("(?:[^"\\]|\\.)*"|\S+)/g)) out.add(m[1]!.replace(/^"|"$/g, ""));
  }
  return [...out].filter((s) => s.length >= 8);
}

/** The last line of defence: whatever doctor prints or writes passes through here. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("(secret)");
  return out;
}
