// The parsed inputs, and the facts about the setup that checks and the site-file writer
// share: the tunnel interface, the connected prefixes on the VPS, the router's addresses
// (from its platform's RouterFacts).
import { basename } from "node:path";
import type { Diagnostic } from "../errors.js";
import { contains, containsAddress, formatPrefix6, LINK_LOCAL, parseAddress6, parsePrefix6, ULA_RANGE, type Prefix6 } from "../net/ipv6.js";
import { BirdParseError, parseBirdConf, readBirdConf, type BirdConf } from "./bird.js";
import { diag } from "./codes.js";
import { VPS_INPUTS, type DoctorInputs, type InputKind } from "./inputs.js";
import { parseIpAddr, parseIpRoute, toPrefix, type Addr6, type Route6 } from "./iproute.js";
import type { LoadedRouterDoctor, RouterAddress, RouterDoctor, RouterFacts } from "./router.js";
import { parseNdppdConf, type NdppdConf } from "../verify/ndppd.js";
import { parseSysctl, type SysctlValue } from "./sysctl.js";
import { parseUfwStatus, type UfwStatus } from "./ufw.js";
import { parseWgConf, type WgConf } from "./wgconf.js";

export interface Parsed {
  wg?: { origin: string; conf: WgConf; iface: string };
  bird?: { origin: string; conf: BirdConf };
  routes?: { origin: string; list: Route6[] };
  addrs?: { origin: string; list: Addr6[] };
  /** The VPS's ndppd.conf (an on-link /64 setup). */
  ndppd?: { origin: string; conf: NdppdConf };
  /** The VPS's sysctls (proxy_ndp, accept_ra...). */
  sysctl?: { origin: string; values: Map<string, SysctlValue> };
  /** The router's input, read by its platform's doctor. */
  router?: { platform: string; doctor: RouterDoctor; parsed: unknown; facts: RouterFacts };
  ufw?: { origin: string; status: UfwStatus };
}

/** Parses every input given. A text that does not parse is a finding, and its key is left
 *  out of `parsed` so that checks needing it are reported as skipped. */
export function parseInputs(inputs: DoctorInputs, routers: readonly LoadedRouterDoctor[]): { parsed: Parsed; findings: Diagnostic[] } {
  const parsed: Parsed = {};
  const findings: Diagnostic[] = [];
  const notRecognised = (kind: InputKind, origin: string, why: string) =>
    findings.push(diag("input-not-recognised", `this does not look like ${kind.what}: ${why}`, `check that ${origin} was given to ${kind.flag}`, origin));

  if (inputs.wgConf) {
    const { origin, text } = inputs.wgConf;
    const conf = parseWgConf(text);
    const base = basename(origin).replace(/\.conf$/, "");
    const iface = /^[A-Za-z0-9_.-]{1,15}$/.test(base) && base !== basename(origin) ? base : "wg0";
    if (!conf.sections.some((s) => s.name.toLowerCase() === "interface")) notRecognised(VPS_INPUTS.wgConf, origin, "it has no [Interface] section");
    else parsed.wg = { origin, conf, iface };
    if (conf.unparsed.length > 0)
      findings.push(diag("input-not-recognised", `line${conf.unparsed.length > 1 ? "s" : ""} ${conf.unparsed.join(", ")} ${conf.unparsed.length > 1 ? "are" : "is"} neither a [Section] nor Key = value; wg-quick would refuse ${conf.unparsed.length > 1 ? "them" : "it"}`, "fix or remove the line", origin, conf.unparsed[0]));
  }
  if (inputs.birdConf) {
    const { origin, text } = inputs.birdConf;
    try {
      const conf = readBirdConf(parseBirdConf(text));
      if (conf.protocols.length === 0) notRecognised(VPS_INPUTS.birdConf, origin, "it has no protocol blocks");
      else parsed.bird = { origin, conf };
    } catch (e) {
      if (!(e instanceof BirdParseError)) throw e;
      findings.push(diag("input-unreadable", `bird.conf does not parse: ${e.message}; bird would refuse it too`, "fix the syntax (`bird -p -c FILE` checks it)", origin, e.line));
    }
  }
  if (inputs.ipRoute) {
    const { origin, text } = inputs.ipRoute;
    const list = parseIpRoute(text);
    if (list.length === 0) notRecognised(VPS_INPUTS.ipRoute, origin, "no route lines");
    else parsed.routes = { origin, list };
  }
  if (inputs.ipAddr) {
    const { origin, text } = inputs.ipAddr;
    const list = parseIpAddr(text);
    if (list.length === 0) notRecognised(VPS_INPUTS.ipAddr, origin, "no inet6 lines");
    else parsed.addrs = { origin, list };
  }
  if (inputs.ndppdConf) {
    const { origin, text } = inputs.ndppdConf;
    const r = parseNdppdConf(text);
    if (!r.ok) findings.push(diag("input-unreadable", `ndppd.conf does not parse: ${r.reason}; ndppd would refuse it too`, "fix the syntax (`ndppd -c FILE` in the foreground says what it reads)", origin, r.line));
    else if (r.conf.proxies.length === 0) notRecognised(VPS_INPUTS.ndppdConf, origin, "it has no `proxy` section");
    else parsed.ndppd = { origin, conf: r.conf };
  }
  if (inputs.sysctl) {
    const { origin, text } = inputs.sysctl;
    const values = parseSysctl(text);
    if (values.size === 0) notRecognised(VPS_INPUTS.sysctl, origin, "no `key = value` lines");
    else parsed.sysctl = { origin, values };
  }
  for (const r of routers) {
    const input = inputs[r.support.input.key];
    if (!input || parsed.router) continue;
    const read = r.doctor.read(input);
    if ("notRecognised" in read) notRecognised(r.support.input, input.origin, read.notRecognised);
    else parsed.router = { platform: r.platform, doctor: r.doctor, parsed: read.parsed, facts: read.facts };
  }
  if (inputs.ufwStatus) {
    const { origin, text } = inputs.ufwStatus;
    const status = parseUfwStatus(text);
    if (status.statusLine === undefined) notRecognised(VPS_INPUTS.ufwStatus, origin, "no `Status:` line");
    else parsed.ufw = { origin, status };
  }
  if (parsed.wg) parsed.wg.iface = tunnelDevice(parsed) ?? parsed.wg.iface;
  return { parsed, findings };
}

/** wg-quick names the interface after the file, but a copied file may be called anything:
 *  the VPS's own `ip -6 addr` (the device holding wg0.conf's Address) or `ip -6 route`
 *  (the connected route of that Address) says what it really is. */
function tunnelDevice(p: Parsed): string | undefined {
  const mine = vpsTunnelAddresses(p).filter((a) => !containsAddress(LINK_LOCAL, a.address));
  const byAddr = p.addrs?.list.find((a) => mine.some((m) => m.address === a.address));
  if (byAddr) return byAddr.dev;
  // The connected route wg-quick's Address made: exactly the Address's own prefix (the
  // NIC's /48 holds the address too, but is not that prefix).
  const same = (p.routes?.list ?? []).find(
    (r) => r.proto === "kernel" && r.dev && mine.some((m) => m.prefix.length < 128 && r.prefix.network === m.prefix.network && r.prefix.length === m.prefix.length),
  );
  return same?.dev;
}

// ---- facts ---------------------------------------------------------------------------

export interface Connected {
  prefix: Prefix6;
  dev: string;
  metric?: number;
  origin: string;
  line: number;
  /** The NIC address itself, when it came from `ip -6 addr`. */
  cidr?: string;
}

/** Prefixes the VPS's kernel holds as connected routes on interfaces other than the tunnel:
 *  the provider's /48 on the NIC above all. */
export function connectedPrefixes(p: Parsed): Connected[] {
  const wg = p.wg?.iface ?? "wg0";
  const out: Connected[] = [];
  const usable = (x: Prefix6, dev: string | undefined) => dev !== undefined && dev !== wg && dev !== "lo" && x.length > 0 && x.length < 128 && !contains(LINK_LOCAL, x);
  for (const r of p.routes?.list ?? [])
    if (r.proto === "kernel" && r.type === "unicast" && usable(r.prefix, r.dev))
      out.push({ prefix: r.prefix, dev: r.dev!, ...(r.metric !== undefined ? { metric: r.metric } : {}), origin: p.routes!.origin, line: r.line });
  for (const a of p.addrs?.list ?? []) {
    if (a.scope !== undefined && a.scope !== "global") continue;
    if (!usable(a.prefix, a.dev)) continue;
    const same = out.find((c) => c.dev === a.dev && c.prefix.network === a.prefix.network && c.prefix.length === a.prefix.length);
    if (same) same.cidr ??= a.cidr;
    else out.push({ prefix: a.prefix, dev: a.dev, origin: p.addrs!.origin, line: a.line, cidr: a.cidr });
  }
  return out;
}

export function routerWgInterfaces(p: Parsed): string[] {
  return p.router?.facts.wgInterfaces ?? [];
}

export function routerAddresses(p: Parsed): RouterAddress[] {
  return p.router?.facts.addresses ?? [];
}

/** The /64s the router hands to LAN hosts by SLAAC: advertised, global (not the ULA,
 *  not link-local), not on the tunnel. */
export function routerSegments(p: Parsed): RouterAddress[] {
  const wgs = routerWgInterfaces(p);
  return routerAddresses(p).filter(
    (a) => a.advertise && a.prefix.length === 64 && !wgs.includes(a.iface) && !contains(ULA_RANGE, a.prefix) && !contains(LINK_LOCAL, a.prefix),
  );
}

/** The router's own global address on the tunnel (the recipe: <LAN_PREFIX>:0::2). */
export function routerTransit(p: Parsed): { address: bigint; origin: string; line: number } | undefined {
  const wgs = routerWgInterfaces(p);
  const a = routerAddresses(p).find((x) => wgs.includes(x.iface) && !containsAddress(LINK_LOCAL, x.address));
  if (a) return { address: a.address, origin: p.router!.facts.origin, line: a.line };
  const n = p.bird?.conf.bgp.find((b) => b.neighbor && parseAddress6(b.neighbor) !== undefined && !containsAddress(LINK_LOCAL, parseAddress6(b.neighbor)!));
  if (n) return { address: parseAddress6(n.neighbor!)!, origin: p.bird!.origin, line: n.line };
  return undefined;
}

/** The VPS's global address(es) on wg0, from wg0.conf's Address lines. */
export function vpsTunnelAddresses(p: Parsed): { address: bigint; prefix: Prefix6; line: number }[] {
  return (p.wg?.conf.interfaceAddresses ?? []).flatMap((a) => {
    const withLen = a.value.includes("/") ? a.value : `${a.value}/128`;
    const parsed = parsePrefix6(withLen);
    const address = parseAddress6(withLen.split("/")[0]!);
    return parsed.ok && address !== undefined ? [{ address, prefix: parsed.prefix, line: a.line }] : [];
  });
}

/** The prefix routed to the VPS: the connected prefix (on the NIC) that holds the tunnel's
 *  addresses. */
export function routedConnected(p: Parsed): Connected | undefined {
  const inside = [...vpsTunnelAddresses(p).map((a) => a.address), ...(routerTransit(p) ? [routerTransit(p)!.address] : [])];
  const candidates = connectedPrefixes(p).filter((c) => c.prefix.length < 64 && inside.some((a) => containsAddress(c.prefix, a)));
  return candidates.sort((a, b) => a.prefix.length - b.prefix.length)[0];
}

export function allowedIpEntries(p: Parsed): { text: string; prefix?: Prefix6; line: number }[] {
  return (p.wg?.conf.peers ?? []).flatMap((peer) =>
    peer.allowedIps.map((a) => {
      const prefix = toPrefix(a.value);
      return { text: a.value, line: a.line, ...(prefix ? { prefix } : {}) };
    }),
  );
}

export function hasBgp(p: Parsed): boolean {
  return (p.bird?.conf.bgp.length ?? 0) > 0 || p.router?.facts.bgp !== undefined;
}

// ---- the on-link /64 recipe (Vultr's reserved /64) ---------------------------------

/** The router interface name the on-link recipe (Vultr reserved /64) gives its tunnel. */
export const ON_LINK_RECIPE_INTERFACE = "wg-cloud";

/** The elements of the on-link recipe this setup has: ndppd.conf, proxy_ndp sysctls, a
 *  ULA transit on wg0 (fd99:9999:9999::1/::2), a router tunnel named wg-cloud. */
export function onLinkElements(p: Parsed): string[] {
  const out: string[] = [];
  if (p.ndppd) out.push(`ndppd.conf (${p.ndppd.origin})`);
  const proxy = [...(p.sysctl?.values ?? [])].filter(([k, v]) => /\.proxy_ndp$/.test(k) && v.value === "1").map(([k]) => k);
  if (proxy.length > 0) out.push(`proxy_ndp = 1 (${proxy.join(", ")})`);
  const ula = vpsTunnelAddresses(p).find((a) => a.prefix.length === 64 && contains(ULA_RANGE, a.prefix));
  if (ula) out.push(`a ULA transit on ${p.wg?.iface ?? "wg0"} (${formatPrefix6(ula.prefix)})`);
  if (routerWgInterfaces(p).includes(ON_LINK_RECIPE_INTERFACE)) out.push(`the router's WireGuard interface ${ON_LINK_RECIPE_INTERFACE}`);
  return out;
}

/** The relayed /64 of an on-link setup: a global /64 ndppd answers for, else a global /64
 *  AllowedIPs sends into the tunnel that the router advertises. */
export function onLinkPrefix(p: Parsed): Prefix6 | undefined {
  const global64 = (x: Prefix6 | undefined): x is Prefix6 => !!x && x.length === 64 && !contains(ULA_RANGE, x) && !contains(LINK_LOCAL, x);
  const fromNdppd = (p.ndppd?.conf.proxies ?? []).flatMap((px) => px.rules.map((r) => r.net)).filter(global64);
  const advertised = routerSegments(p).map((s) => s.prefix);
  const fromWg = allowedIpEntries(p).map((e) => e.prefix).filter(global64);
  const pick = (xs: Prefix6[]) => xs.find((x) => advertised.some((a) => a.network === x.network)) ?? xs[0];
  return pick(fromNdppd) ?? pick(fromWg);
}

/** The VPS's NIC: the device of its connected global prefixes (not the tunnel, not lo). */
export function vpsNic(p: Parsed): string | undefined {
  return connectedPrefixes(p).find((c) => !contains(ULA_RANGE, c.prefix))?.dev;
}
