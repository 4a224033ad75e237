// The RouterOS v7 target: the router end of the relay as RouterOS scripts (.rsc).
import type { Diagnostic } from "../../errors.js";
import type { Plan } from "../../plan/plan.js";
import type { RouterTarget } from "../types.js";
import { FEATURES, SUPPORTED, compareRelease, formatRelease, isSupported, parseRelease, type Feature, type FeatureId, type Release } from "./capabilities.js";
import { routerScriptPaths } from "./objects.js";
import { renderAll } from "./render.js";

/** The features of the table this plan relies on, and the site-file path that asks. */
export function requirementsOf(plan: Plan): { feature: FeatureId; path: string }[] {
  const needs: { feature: FeatureId; path: string }[] = [{ feature: "wg-peer-name", path: "router" }];
  if (plan.failover.mode === "bgp-bfd")
    needs.push({ feature: "bgp-instance", path: "failover.mode" }, { feature: "bgp-afi-arg", path: "failover.mode" });
  if (plan.dns.advertise === "self") needs.push({ feature: "nd-advertise-dns-self", path: "dns.advertise" });
  // A /64 site's tunnel holds no global: a static ::/0 names the source of the router's own traffic.
  if (plan.transit.kind && plan.failover.mode === "static") needs.push({ feature: "route-pref-src", path: "transit" });
  if (plan.vps.ownAddress) needs.push({ feature: "nd-proxy", path: "vps.upstream.address" });
  return needs;
}

/** For each needed feature the release lacks: a warning when relay6 renders an
 *  equivalent (the feature's `before`), an error when it cannot. */
export function featureDiagnostics(
  release: Release,
  needs: { feature: FeatureId; path: string }[],
  table: readonly Feature[] = FEATURES,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const v = formatRelease(release);
  for (const n of needs) {
    const f = table.find((x) => x.id === n.feature);
    if (!f) throw new Error(`internal: feature ${n.feature} missing from the RouterOS table`);
    if (compareRelease(release, f.since) >= 0 || f.fallback === "same") continue;
    const since = formatRelease(f.since);
    if (f.fallback === "approximate")
      out.push({
        code: "routeros-feature-emulated",
        severity: "warning",
        path: n.path,
        message: `RouterOS ${v} has no ${f.what} (it exists from ${since}); relay6 renders ${f.before} instead`,
        fix:
          release[0] === f.since[0] && release[1] === f.since[1] && release[2] === 0
            ? `router.version "${v}" means any ${v}.x and the feature is known from ${since} only: if the router runs ${since} or later, set router.version to its exact release; else upgrade it, or accept the equivalent`
            : `upgrade the router to RouterOS ${since} or later for the recipe's exact form, or accept the equivalent`,
      });
    else
      out.push({
        code: "routeros-feature-missing",
        severity: "error",
        path: n.path,
        message: `RouterOS ${v} cannot do what the site asks: ${f.what} exists from RouterOS ${since} only`,
        fix: `upgrade the router to RouterOS ${since} or later, or change ${n.path}`,
      });
  }
  return out;
}

/** What a RouterOS interface name that relay6 writes may hold: the characters RouterOS's
 *  own exports leave bare in a value and relay6's tags carry (an RA entry's tag key is
 *  `nd:<interface>`). The captured trees say only "string value" for names; what rules
 *  out the one other character the site schema's Linux limit allows, `@`, is RouterOS
 *  itself: in an address value it separates a routing table or VRF (`gateway=<addr>@main`,
 *  netwatch `host=<ipv6>@<vrf>`), and relay6 writes `gateway=<vps>%<tunnel>`. */
const ROUTEROS_IFNAME_RE = /^[A-Za-z0-9_.-]+$/;

/** Interface names of the plan that RouterOS scripts cannot carry: a lint error here, so
 *  that render never meets them. */
function interfaceNameDiagnostics(plan: Plan): Diagnostic[] {
  const names: { path: string; name: string }[] = [
    { path: "router.tunnelInterface", name: plan.router.tunnelInterface },
    ...plan.segments.map((s, i) => ({ path: `segments[${i}].interface`, name: s.interface })),
  ];
  return names
    .filter((n) => !ROUTEROS_IFNAME_RE.test(n.name))
    .map((n) => {
      const bad = [...new Set([...n.name].filter((c) => !ROUTEROS_IFNAME_RE.test(c)))].map((c) => JSON.stringify(c)).join(", ");
      return {
        code: "routeros-interface-name",
        severity: "error" as const,
        path: n.path,
        message: `interface name ${JSON.stringify(n.name)} holds ${bad}, which relay6's RouterOS scripts cannot carry (in RouterOS addresses and gateways @ names a routing table or VRF; relay6 tags its objects by interface name)`,
        fix: "rename the interface on the router to letters, digits, '.', '_' and '-' only, and use that name in the site file",
      };
    });
}

export function checkRouterOS(plan: Plan): Diagnostic[] {
  if (plan.router.platform !== "routeros") return [];
  return [...interfaceNameDiagnostics(plan), ...checkRelease(plan)];
}

function checkRelease(plan: Plan): Diagnostic[] {
  const text = plan.router.version;
  if (text === undefined)
    return [
      {
        code: "routeros-version-missing",
        severity: "error",
        path: "router.version",
        message: "the RouterOS target needs the router's version: releases differ in BGP and RA syntax",
        fix: `set router.version to the router's release (/system/resource/print), e.g. "7.22"; relay6 supports ${SUPPORTED.text}`,
      },
    ];
  const release = parseRelease(text);
  if (!release || !isSupported(release))
    return [
      {
        code: "routeros-version-unsupported",
        severity: "error",
        path: "router.version",
        message: `RouterOS ${text} is not supported; relay6 renders for RouterOS ${SUPPORTED.text}`,
        fix: `upgrade the router to a release from ${SUPPORTED.text} and set router.version to it`,
      },
    ];
  const out = featureDiagnostics(release, requirementsOf(plan));
  if (plan.transit.kind === "link-local" && plan.failover.mode === "bgp-bfd")
    out.push({
      code: "routeros-link-local-bgp-unproven",
      severity: "warning",
      path: "failover.mode",
      message: `the BGP connection to the VPS is rendered as remote.address=${plan.transit.vps.address}%${plan.router.tunnelInterface} local.address=${plan.transit.router.address}: no captured RouterOS tree shows the %interface form on /routing/bgp/connection (the route gateway form is long-standing), so it is unproven on a device`,
      fix: "check `/routing/bgp/session/print` after importing; or use transit: ula (a ULA /64 on the tunnel: BGP on ordinary addresses)",
    });
  if (plan.transit.kind && plan.failover.mode === "bgp-bfd")
    out.push({
      code: "routeros-router-source-unproven",
      severity: "warning",
      path: "transit",
      message: `the router's tunnel holds no global address (${plan.transit.kind} transit), and a BGP-learned ::/0 cannot carry pref-src in any captured tree (routing filters' \`set pref-src\` is documented, not shown): the router's own traffic (DNS upstreams, NTP) may leave from its ${plan.transit.kind === "ula" ? "ULA" : "link-local"} tunnel address`,
      fix: "check `/tool/ping 2606:4700:4700::1111` on the router; clients are not affected (their traffic keeps its own source); failover.mode: static gets pref-src from RouterOS 7.20",
    });
  if (plan.wireguard.keys === "device" && !plan.vps.publicKey)
    out.push({
      code: "routeros-keys-step1",
      severity: "info",
      path: "vps.publicKey",
      message: "no VPS public key yet: the router script only creates the tunnel interface and prints the router's key",
      fix: "import it, put the printed key into router.publicKey and the VPS's into vps.publicKey, then render again",
    });
  if (plan.wireguard.keys === "device" && !plan.router.publicKey)
    out.push({
      code: "routeros-router-key-needed",
      severity: "warning",
      path: "router.publicKey",
      message:
        "RouterOS makes the router's WireGuard private key itself, so the VPS can only know the router by the public key the router script prints",
      fix: "import the router script, then put the key it prints into router.publicKey and render the VPS side again",
    });
  return out;
}

export const routerosTarget: RouterTarget = {
  id: "routeros",
  role: "router",
  platform: { id: "routeros", tunnelInterface: "wg-host", sshUser: "admin", management: { port: 443, service: "REST (www-ssl)" }, version: { pattern: /^7\.\d+(\.\d+)?$/, what: 'a RouterOS v7 version such as "7.22" or "7.20.8"', describe: `RouterOS version (routeros only), ${SUPPORTED.text}`, example: "7.22" } },
  check: checkRouterOS,
  render: (plan, ctx) => renderAll(plan, ctx),
  next: (plan, out, site) => `upload ${out}/${routerScriptPaths(plan.site).setup} to the router and \`/import\` it (or: relay6 apply router ${site})`,
  apply: () => import("./apply/index.js"),
  verify: () => import("./verify.js"),
  doctor: {
    input: { key: "routerosExport", flag: "--routeros-export", what: "the router's RouterOS `/export` (or the script pasted into it)", live: "/export (RouterOS, over SSH or REST)" },
    options: [{ key: "routerosVersion", flags: "--routeros-version <version>", help: "the router's RouterOS version, when the export has no header (e.g. 7.18.2)" }],
    load: () => import("./doctor/index.js").then((m) => m.routerosDoctor),
  },
};
