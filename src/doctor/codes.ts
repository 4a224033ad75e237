// Doctor's finding codes. Where a trap means the same as a lint finding on a site file,
// doctor reuses the lint code (and its severity) from LINT_CODES; the codes below exist
// only for setups made by hand. A router platform's doctor adds its own (RouterDoctor.codes).
// Codes are stable: docs/doctor.md lists them.
import type { Diagnostic } from "../errors.js";
import { LINT_CODES, type LintCode } from "../lint/lint.js";

export const DOCTOR_CODES: readonly LintCode[] = [
  { code: "bird-bgp-bfd-off", severity: "error", summary: "bird's BGP protocol has no `bfd on`: its session ignores BFD and stays Established on a dead tunnel." },
  { code: "bird-bfd-passive", severity: "error", summary: "bird's `protocol bfd` has no explicit neighbor: bird only answers, and after an outage neither end restarts BFD until bird is restarted." },
  { code: "bird-slow-timers", severity: "warning", summary: "bird's BGP keeps the default error wait (60-300 s) or connect delay: after a BFD drop the session takes about a minute to come back." },
  { code: "ufw-blocks-bgp-bfd", severity: "error", summary: "ufw is active with default deny incoming and does not allow both BGP (TCP 179) and BFD (UDP 3784) in on the tunnel: the router loses its default route within seconds." },
  { code: "ufw-route-allows-inbound", severity: "error", summary: "`ufw route allow out on wg0`: any internet host can open connections to every LAN host." },
  { code: "wg-link-local-missing", severity: "error", summary: "wg0 has no link-local Address, and bird sends `next hop self` over BGP: bird needs one (wg-quick adds none)." },
  { code: "on-link-setup", severity: "info", summary: "The on-link /64 recipe (Vultr's reserved /64), recognised by its elements: ndppd.conf, proxy_ndp sysctls, a ULA transit on wg0, a router tunnel named wg-cloud." },
  { code: "ndppd-rule-not-static", severity: "error", summary: "An ndppd rule uses `iface` or `auto`: toward WireGuard nobody answers the solicitation it forwards, and every packet to the LAN is lost. Only `static` works." },
  { code: "ndppd-rule-missing", severity: "error", summary: "A /64 AllowedIPs sends into the tunnel has no ndppd rule on the VPS's NIC: the provider's solicitations for its hosts go unanswered." },
  { code: "proxy-ndp-unneeded", severity: "info", summary: "proxy_ndp = 1: ndppd does not need it, and the kernel's own proxy answers only addresses listed one by one." },
  { code: "wg-ula-source", severity: "warning", summary: "A preferred ULA on wg0: the VPS can pick it as the source of its own internet traffic when its global is deprecated or missing." },
  { code: "input-unreadable", severity: "error", summary: "An input does not parse (e.g. bird.conf with an unclosed brace): checks that need it were skipped." },
  { code: "input-not-recognised", severity: "warning", summary: "An input does not look like what its flag says (no [Interface] in wg0.conf, no protocol in bird.conf, ...)." },
];

/** The lint codes doctor emits, with the same meaning as for a site file. */
export const REUSED_LINT_CODES = ["allowed-ips-covers-prefix", "allowed-ips-missing-segment", "allowed-ips-missing-transit", "static-failover-slow", "vps-address-proxied"] as const;

/** Doctor's own codes and the lint codes it reuses. */
export const CORE_CODES: readonly LintCode[] = [...LINT_CODES.filter((c) => (REUSED_LINT_CODES as readonly string[]).includes(c.code)), ...DOCTOR_CODES];

/**
 * Every code doctor can emit with these router doctors (docs/doctor.md lists them).
 * @testonly test/doctor/docs.test.ts holds the docs to it
 */
export function allDoctorCodes(routers: readonly { codes: readonly LintCode[] }[]): LintCode[] {
  return [...CORE_CODES, ...routers.flatMap((r) => r.codes)];
}

type Diag = (code: string, message: string, fix: string, file?: string, line?: number) => Diagnostic;

/** A finding maker for these codes: the severity comes from the table, an unknown code is a bug. */
export function diagnostics(codes: readonly LintCode[]): Diag {
  const table = new Map(codes.map((c) => [c.code, c]));
  return (code, message, fix, file, line) => {
    const c = table.get(code);
    if (!c) throw new Error(`internal: doctor code ${code} is not in its code table`);
    return { code, severity: c.severity, message, fix, path: "", ...(file ? { file, ...(line ? { line } : {}) } : {}) };
  };
}

export const diag = diagnostics(CORE_CODES);
