// Lint for a relay file: the relay's own values (its prefix, MTU, VPS key, firewall), how
// its sites fit together (sub-prefixes inside the relay's prefix, apart from each other
// and from the transit /64; one transit /128 each; ASNs and router IDs that are not the
// VPS's), and each site's own checks (the same functions a standalone site's lint uses).
// Every finding is located in the file that holds the value: the relay file or the site's.
import { formatPath, type Diagnostic } from "../errors.js";
import { formatAddress6, formatPrefix6, ipv4ToNumber, mask, overlaps, parsePrefix6, subnet, type Prefix6 } from "../net/ipv6.js";
import { formatBytes } from "../plan/bfd.js";
import type { RelayPlan } from "../plan/relay.js";
import { parseTransitPin, transitInterfaceId } from "../plan/transit.js";
import type { RouterPlatform } from "../site/platform.js";
import type { RelayInput } from "../site/relay.js";
import {
  checkClampMss,
  checkEndpoint,
  checkHostBits,
  checkManagement,
  checkOwnAddress,
  checkPrevious,
  checkMtu,
  checkPrivateAsn,
  checkPublicKey,
  checkRoutedPrefix,
  checkRouterVersion,
  checkSegments,
  checkUla,
  checkVpsFirewall,
  finding,
  located,
  lintPlan,
  routedSegmentPrefixes,
  type Locate,
  type Raw,
} from "./lint.js";

/** The prefix lengths a site of a relay may have: nibble boundaries a /48 splits into. */
export const SITE_PREFIX_LENGTHS = [56, 60, 64] as const;

interface Doc {
  file: string;
  locate: Locate;
}

/** Checks a relay file and its sites need before a plan can be built. */
export function checkRelay(input: RelayInput, docs: { relay: Doc; sites: Doc[] }, platformOf: (id: string) => Pick<RouterPlatform, "id" | "version" | "management">): Diagnostic[] {
  const rel: Raw[] = [];
  const out: Diagnostic[] = [];
  const relayName = docs.relay.file;
  const flush = (raw: Raw[], doc: Doc, site?: string) => out.push(...located(raw, doc.file, doc.locate).map((d) => (site ? { ...d, site } : d)));

  const p = checkRoutedPrefix(input.prefix, rel);
  checkEndpoint(input.vps.endpoint, rel);
  checkMtu(input.wireguard.mtu, input.vps, rel);
  checkPublicKey(input.vps.publicKey, input.wireguard.keys, ["vps", "publicKey"], rel);
  if (input.wireguard.keys === "device" && input.vps.publicKey === undefined)
    rel.push(finding("keys-pending", ["wireguard", "keys"], "no public key yet for the VPS: rendering step 1 (vps/setup.sh makes its key and prints the public half)", "run the rendered vps/setup.sh, put the key it prints in vps.publicKey and render again"));
  if (input.sites.some((e) => e.site.failover.mode === "bgp-bfd")) checkPrivateAsn(input.bgp.as, ["bgp", "as"], rel);
  checkVpsFirewall(input.firewall.vps, rel);
  const transit = p ? subnet(p, 64, 0n)! : undefined;

  const names = new Map<string, number>();
  // Two aligned prefixes overlap only when one holds the other, and a site's prefix is a
  // /56, /60 or /64: an earlier site's prefix that holds this one is one of this one's
  // supernets at those lengths; one this one holds has it among its own. Maps of both keep
  // the check linear in the number of sites (a pairwise scan is quadratic: 1,000 sites).
  const key = (p: Prefix6, len: number) => `${len}/${p.network & mask(len)}`;
  const exact = new Map<string, { p: Prefix6; i: number }>();
  const within = new Map<string, { p: Prefix6; i: number }>();
  const overlapping = (sp: Prefix6) => {
    for (const len of SITE_PREFIX_LENGTHS) if (len <= sp.length && exact.has(key(sp, len))) return exact.get(key(sp, len));
    return within.get(key(sp, sp.length));
  };
  const remember = (sp: Prefix6, i: number) => {
    if (!exact.has(key(sp, sp.length))) exact.set(key(sp, sp.length), { p: sp, i });
    for (const len of SITE_PREFIX_LENGTHS) if (len < sp.length && !within.has(key(sp, len))) within.set(key(sp, len), { p: sp, i });
  };
  const iids = new Map<bigint, number>();
  const routerKeys = new Map<string, number>();
  const routed: Prefix6[] = [];
  const routerTransits: bigint[] = [];
  input.sites.forEach((entry, i) => {
    const site = entry.site;
    const doc = docs.sites[i]!;
    const own: Raw[] = [];
    const other = (j: number) => `site "${input.sites[j]!.site.site}" (${docs.sites[j]!.file})`;

    const dupName = names.get(site.site);
    if (dupName !== undefined)
      own.push(finding("site-name-duplicate", ["site"], `${relayName} has another site named "${site.site}": ${other(dupName)}`, "give each site of a relay its own name (it names its peer, BGP session and firewall rules on the VPS)"));
    else names.set(site.site, i);

    const parsed = parsePrefix6(site.prefix);
    let sp: Prefix6 | undefined;
    if (parsed.ok) {
      sp = parsed.prefix;
      checkHostBits(site.prefix, own);
      if (!(SITE_PREFIX_LENGTHS as readonly number[]).includes(sp.length)) {
        own.push(finding("site-prefix-length", ["prefix"], `${site.prefix} is a /${sp.length}; a site of a relay has a /56, /60 or /64 of the relay's prefix`, `give the site a /56, /60 or /64 inside ${input.prefix}`));
        sp = undefined;
      } else if (p && !overlaps(p, sp)) {
        own.push(finding("site-prefix-outside", ["prefix"], `${formatPrefix6(sp)} is outside the relay's prefix ${formatPrefix6(p)} (${relayName})`, `give the site a /${sp.length} inside ${formatPrefix6(p)}`));
        sp = undefined;
      } else if (p && sp.length <= p.length) {
        own.push(finding("site-prefix-length", ["prefix"], `${formatPrefix6(sp)} is as wide as the relay's prefix ${formatPrefix6(p)}; the relay's transit /64 and the other sites need room`, `give the site a /56, /60 or /64 inside ${formatPrefix6(p)}`));
        sp = undefined;
      } else if (transit && overlaps(transit, sp)) {
        own.push(finding("site-prefix-transit", ["prefix"], `${formatPrefix6(sp)} overlaps the relay's transit /64 ${formatPrefix6(transit)} (index 0 of ${formatPrefix6(p!)}, the VPS's wg0)`, `give the site a prefix that does not hold ${formatPrefix6(transit)}`));
        sp = undefined;
      } else {
        const clash = overlapping(sp);
        if (clash)
          own.push(finding("site-prefix-overlap", ["prefix"], `${formatPrefix6(sp)} overlaps ${formatPrefix6(clash.p)} of ${other(clash.i)}`, "give each site its own part of the relay's prefix"));
        remember(sp, i);
      }
    }

    // A second site of the same name gets the same hashed address: the name is the finding.
    if (transit && dupName === undefined) {
      let iid: bigint | undefined;
      if (entry.transit !== undefined) {
        const pin = parseTransitPin(entry.transit, transit);
        if (!pin.ok)
          rel.push(finding("transit-pin-invalid", ["sites", i, "transit"], `site "${site.site}": ${pin.reason}`, `pin an interface id of ${formatPrefix6(transit)} other than ::0 and ::1, e.g. transit: "::100", or remove transit: to use the one made from the site's name`));
        else iid = pin.iid;
      } else iid = transitInterfaceId(site.site);
      if (iid !== undefined) {
        routerTransits.push(transit.network | iid);
        const taken = iids.get(iid);
        const addr = formatAddress6(transit.network | iid);
        if (taken !== undefined)
          rel.push(finding("transit-collision", ["sites", i], `site "${site.site}" and ${other(taken)} both get the transit address ${addr}`, `pin another interface id for one of them (sites[${i}]: { file: ..., transit: "::100" })`));
        else iids.set(iid, i);
      }
    }

    if (sp) {
      checkSegments(site.segments, sp, checkUla(site.ula, own), site.ula, own, { transitIsIndex0: false });
      checkPrevious(site, sp, own);
      routed.push(...routedSegmentPrefixes(site.segments, sp));
    }

    const fo = site.failover;
    if (fo.mode === "bgp-bfd") {
      checkPrivateAsn(fo.routerAs, ["failover", "routerAs"], own);
      if (fo.routerAs === input.bgp.as)
        own.push(finding("asn-equal", ["failover", "routerAs"], `the router uses AS${fo.routerAs}, the VPS's own (bgp.as in ${relayName})`, "give the router another private ASN (sites may share one: each session is eBGP with the VPS)"));
      if (ipv4ToNumber(fo.routerRouterId) === ipv4ToNumber(input.bgp.routerId))
        own.push(finding("router-id-collision", ["failover", "routerRouterId"], `the router uses router ID ${fo.routerRouterId}, the VPS's own (bgp.routerId in ${relayName})`, "give the router another router ID (sites may share one)"));
    }

    checkPublicKey(site.router.publicKey, site.wireguard.keys, ["router", "publicKey"], own);
    if (site.wireguard.keys === "device") {
      if (site.router.publicKey === undefined)
        own.push(finding("keys-pending", ["wireguard", "keys"], "no public key yet for the router: its script is step 1 (it makes the router's key and prints the public half); the VPS has no peer for this site until then", "run the router's step-1 script, put the key it prints in router.publicKey and render again"));
      else {
        const dup = routerKeys.get(site.router.publicKey);
        if (dup !== undefined)
          own.push(finding("router-key-duplicate", ["router", "publicKey"], `the same public key as the router of ${other(dup)}: the VPS's wg0 can tell them apart only by their keys`, "each router makes its own key: paste this router's own public key"));
        else routerKeys.set(site.router.publicKey, i);
      }
    }
    checkRouterVersion(site.router.version, platformOf(site.router.platform), own);
    checkManagement(site.router.management, platformOf(site.router.platform), own);
    checkClampMss(site.firewall.clampMss, own);
    flush(own, doc, site.site);
  });

  // The VPS's own address against every site's /64s (and, on-link, the routers' transits).
  if (p) checkOwnAddress(input.vps, p, routed, routerTransits, rel);

  const bgpSites = input.sites.filter((e) => e.site.failover.mode === "bgp-bfd");
  const timers = new Set(bgpSites.map((e) => JSON.stringify(e.site.failover.bfd)));
  if (timers.size > 1) {
    const interval = Math.min(...bgpSites.map((e) => e.site.failover.bfd.intervalMs));
    const mult = Math.max(...bgpSites.map((e) => e.site.failover.bfd.multiplier));
    const each = bgpSites.map((e) => `${e.site.site} ${e.site.failover.bfd.intervalMs} ms × ${e.site.failover.bfd.multiplier}`).join(", ");
    rel.push(finding("bfd-timers-differ", ["sites"], `the bgp-bfd sites ask for different BFD timers (${each}); bird applies one set to wg0: ${interval} ms × ${mult}. Each session runs at its router's interval, and a router notices a dead tunnel after ${mult} of its intervals`, "give every bgp-bfd site of the relay the same failover.bfd timers, or accept these"));
  }
  // Relay-file findings first: they are about everything that follows.
  const relayFindings = located(rel, docs.relay.file, docs.relay.locate);
  return [...relayFindings, ...out];
}

/** The share of the quota the failover traffic may take before lint warns. */
export const QUOTA_FAILOVER_WARN = 0.1;

/** vps.transfer: what the quota carries once every site's failover probing is paid (in
 *  the file that holds the vps block: the relay file, or the standalone site's). */
export function lintTransfer(relay: RelayPlan, doc: Doc): Diagnostic[] {
  const q = relay.quota;
  if (!q) return [];
  const at = ["vps", "transfer"];
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 0)} %`;
  const counted = q.counts === "out" ? "the half the VPS sends, counts: out" : "both directions, counts: in+out";
  const failover = `${relay.sites.length === 1 ? "the site's" : `the ${relay.sites.length} sites'`} BFD and probe traffic, ${formatBytes(relay.totals.failoverBytesPerMonth)} a month both ways, counts ${formatBytes(q.failoverBytes)} (${counted}) = ${pct(q.failoverShare)} of the ${q.monthlyGB} GB quota`;
  const lan =
    q.counts === "in+out"
      ? `the rest carries about ${formatBytes(q.lanBytes.downstream)} of LAN traffic a month, either direction`
      : `the rest carries about ${formatBytes(q.lanBytes.downstream)} of LAN traffic a month downstream (internet → LAN), or ${formatBytes(q.lanBytes.upstream)} upstream`;
  const out: Raw[] = [
    finding("transfer-quota", at, `${failover}; ${lan} (relay6 plan shows the formula)`, "relay6 status counts this month's transfer on the VPS (vnstat)"),
  ];
  if (q.failoverShare >= QUOTA_FAILOVER_WARN)
    out.push(
      finding(
        "transfer-quota-failover",
        at,
        q.failoverShare >= 1 ? `failover traffic alone exceeds the transfer quota: ${failover}` : `failover traffic alone takes ${pct(q.failoverShare)} of the transfer quota: ${failover}`,
        "raise failover.bfd.intervalMs of the bgp-bfd sites (traffic falls with the interval), move sites to another VPS, or buy a larger quota",
      ),
    );
  return located(out, doc.file, doc.locate);
}

/** Findings about a built relay plan: each site's figures (in its file) and their sum. */
export function lintRelayPlan(relay: RelayPlan, docs: { relay: Doc; sites: Doc[] }): Diagnostic[] {
  const out: Diagnostic[] = [];
  relay.sites.forEach((plan, i) => {
    const doc = docs.sites[i]!;
    out.push(...lintPlan(plan, doc.file, doc.locate).map((d) => ({ ...d, site: plan.site })));
  });
  const bgp = relay.sites.filter((p) => p.failover.mode === "bgp-bfd").length;
  if (bgp > 1)
    out.push({
      code: "bfd-timers",
      severity: "info",
      path: formatPath(["sites"]),
      message: `BFD of ${bgp} sites costs about ${formatBytes(relay.totals.bfdBytesPerMonth)} a month on the VPS's underlay, together`,
      fix: "raise failover.bfd.intervalMs of some sites to spend less traffic",
      file: docs.relay.file,
      ...docs.relay.locate(["sites"]),
    });
  return out;
}
