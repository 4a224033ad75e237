// "Offers to write a site file": the relay6 site file that describes a setup made by hand,
// read off the same parsed inputs (the router's through its platform's RouterFacts). Every
// value comes from an input (or is a schema default); segment indexes are computed from the
// prefix, never pasted. No private key is ever read, so none can be written.
import { stringify } from "yaml";
import { contains, formatPrefix6, mask, parseAddress6, parsePrefix6, subnet, ULA_RANGE, type Prefix6 } from "../net/ipv6.js";
import { IFNAME_RE, NAME_RE, type SiteInput } from "../site/schema.js";
import { isWireGuardKey } from "../keys/wireguard.js";
import { allowedIpEntries, connectedPrefixes, onLinkElements, onLinkPrefix, routedConnected, routerAddresses, routerSegments, routerTransit, routerWgInterfaces, vpsNic, vpsTunnelAddresses, type Parsed } from "./setup.js";

export interface SiteProposal {
  /** The site file, or undefined when a required fact is missing (see `missing`). */
  yaml?: string;
  site?: SiteInput;
  /** Required facts no input gave, each with the flag that would give it. */
  missing: string[];
  /** Assumptions made: shown to the user and written as comments. */
  notes: string[];
}

function safeName(text: string, used: Set<string>): string {
  let base = text.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 28) || "segment";
  if (!NAME_RE.test(base)) base = "segment";
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
  used.add(name);
  return name;
}

/** `routerFlags`: the flags that give the router's input, for what is missing. */
export function proposeSite(p: Parsed, routerFlags: readonly string[], siteName = "home"): SiteProposal {
  const missing: string[] = [];
  const notes: string[] = [];

  // The routed prefix: the connected prefix on the NIC that holds the tunnel's addresses.
  const routed = routedConnected(p);
  let prefix: Prefix6 | undefined = routed?.prefix;
  // The on-link recipe (Vultr's reserved /64): the /64 ndppd answers for on the NIC.
  const onLinkSigns = onLinkElements(p).filter((e) => !e.startsWith("a ULA transit"));
  const onLink = !prefix && onLinkSigns.length > 0 ? onLinkPrefix(p) : undefined;
  if (onLink) {
    prefix = onLink;
    notes.push(`vps.onLink: true: recognised the on-link /64 recipe by ${onLinkSigns.join("; ")}`);
  }
  if (!prefix) {
    const t = vpsTunnelAddresses(p).find((a) => a.prefix.length === 64 && !contains(ULA_RANGE, a.prefix));
    if (t) {
      prefix = { network: t.address & mask(48), length: 48 };
      notes.push(`prefix: no connected route holds the tunnel's ${formatPrefix6(t.prefix)}; assumed the /48 around it (pass --ip-route or --ip-addr to read the real one)`);
    } else missing.push("prefix (from --ip-route/--ip-addr and the Address in --wg-conf)");
  }
  const nic = routed?.dev ?? (onLink ? vpsNic(p) : undefined) ?? connectedPrefixes(p)[0]?.dev;
  if (!nic) missing.push("vps.nic (from --ip-route or --ip-addr)");

  const router = p.router?.facts;
  const routerFlag = routerFlags.join(" or ");
  const peer = router?.peer;
  const endpoint = peer?.endpoint;
  if (!endpoint) missing.push(`vps.endpoint (from the router's WireGuard peer in ${routerFlag})`);
  if (!router) missing.push(`segments and the router (from ${routerFlag})`);

  const wgs = routerWgInterfaces(p);
  const segs = routerSegments(p).filter((s) => prefix && contains(prefix, s.prefix));
  for (const s of routerSegments(p))
    if (prefix && !contains(prefix, s.prefix)) notes.push(`${formatPrefix6(s.prefix)} on ${s.iface} is outside ${formatPrefix6(prefix)}: left out`);
  if (prefix && router)
    for (const e of allowedIpEntries(p))
      if (e.prefix && e.prefix.length === 64 && contains(prefix, e.prefix) && e.prefix.network !== prefix.network && !segs.some((s) => s.prefix.network === e.prefix!.network))
        notes.push(`AllowedIPs has ${formatPrefix6(e.prefix)}, which no router address serves: left out`);
  if (router && segs.length === 0) missing.push("segments (no advertised /64 of the prefix on the router)");

  const bridges = router?.bridges ?? [];
  const bridge = segs.find((s) => bridges.includes(s.iface))?.iface ?? bridges[0] ?? segs[0]?.iface;

  // The ULA: the /48 around the router's fd00::/8 addresses; a segment keeps `ula: true`
  // only when its ULA /64 has the segment's own index.
  const ulaAddrs = routerAddresses(p).filter((a) => contains(ULA_RANGE, a.prefix) && a.prefix.length === 64 && !wgs.includes(a.iface));
  const ula = ulaAddrs[0] ? { network: ulaAddrs[0].address & mask(48), length: 48 } : undefined;

  const used = new Set<string>();
  const segments = prefix
    ? segs.map((s) => {
        const index = (s.prefix.network - prefix!.network) >> 64n;
        const onBridge = s.iface === bridge && !used.has("lan");
        const name = safeName(onBridge ? "lan" : s.iface, used);
        const ulaHere = ula ? ulaAddrs.some((u) => u.iface === s.iface && subnet(ula, 64, index)?.network === u.prefix.network) : false;
        if (!IFNAME_RE.test(s.iface)) notes.push(`segment ${name}: interface name "${s.iface}" is not one relay6 accepts`);
        return { name, index: `0x${index.toString(16)}`, interface: s.iface, ...(ula ? { ula: ulaHere } : {}) };
      })
    : [];

  const bgp = p.bird?.conf.bgp[0];
  const bfdIf = p.bird?.conf.bfd[0]?.interfaces[0];
  const mode = bgp || router?.bgp ? "bgp-bfd" : "static";
  const failover: SiteInput["failover"] = { mode };
  if (mode === "bgp-bfd") {
    const vpsAs = bgp?.localAs ?? router?.bgp?.vpsAs;
    const routerAs = bgp?.neighborAs ?? router?.bgp?.routerAs;
    if (vpsAs !== undefined && Number.isInteger(vpsAs)) failover.vpsAs = vpsAs;
    if (routerAs !== undefined && Number.isInteger(routerAs)) failover.routerAs = routerAs;
    if (p.bird?.conf.routerId) failover.vpsRouterId = p.bird.conf.routerId;
    if (router?.bgp?.routerId) failover.routerRouterId = router.bgp.routerId;
    const bfd: NonNullable<SiteInput["failover"]["bfd"]> = {};
    const interval = bfdIf?.minRxMs ?? router?.bfd?.intervalMs;
    const multiplier = bfdIf?.multiplier ?? router?.bfd?.multiplier;
    if (interval !== undefined && interval >= 10) bfd.intervalMs = Math.round(interval);
    if (multiplier !== undefined && Number.isInteger(multiplier)) bfd.multiplier = multiplier;
    if (bfdIf?.idleTxMs !== undefined && bfdIf.idleTxMs >= 10) bfd.idleTxMs = Math.round(bfdIf.idleTxMs);
    if (Object.keys(bfd).length > 0) failover.bfd = bfd;
  }

  const version = router?.version;
  // On-link: the VPS's own address is its NIC's global outside the relayed /64.
  const upstream = routed?.cidr ?? (onLink ? connectedPrefixes(p).find((c) => c.dev === nic && c.cidr && !contains(onLink, c.prefix) && !contains(ULA_RANGE, c.prefix))?.cidr : undefined);
  // A ULA transit of the recipe's own (fd99:9999:9999::1/::2): kept as it is.
  const ulaTransit = onLink ? vpsTunnelAddresses(p).find((a) => a.prefix.length === 64 && contains(ULA_RANGE, a.prefix)) : undefined;
  const rt = routerTransit(p);
  if (ulaTransit && rt && rt.address !== (ulaTransit.prefix.network | 2n))
    notes.push(`transit: relay6 puts the router on ::2 of ${formatPrefix6(ulaTransit.prefix)}; the router has it on another address now`);
  const vpsKey = peer?.publicKey;
  const routerKey = p.wg?.conf.peers[0]?.publicKey;
  const keepalive = peer?.keepaliveS;
  const acceptAll = router?.acceptAllFromTunnel ?? false;

  if (missing.length > 0 || !prefix || !nic || !endpoint || !bridge || !p.router) return { missing, notes };

  const site: SiteInput = {
    site: siteName,
    prefix: formatPrefix6(prefix),
    ...(ula ? { ula: formatPrefix6(ula) } : {}),
    ...(ulaTransit ? { transit: formatPrefix6(ulaTransit.prefix) } : {}),
    vps: {
      endpoint,
      nic,
      ...(onLink ? { onLink: true } : {}),
      ...(upstream && parsePrefix6(upstream).ok && parseAddress6(upstream.split("/")[0]!) !== undefined ? { upstream: { address: upstream } } : {}),
      ...(vpsKey && isWireGuardKey(vpsKey) ? { publicKey: vpsKey } : {}),
    },
    router: {
      platform: p.router.platform,
      ...(version ? { version } : {}),
      bridge,
      ...(routerKey && isWireGuardKey(routerKey) ? { publicKey: routerKey } : {}),
      ...(wgs[0] && IFNAME_RE.test(wgs[0]) ? { tunnelInterface: wgs[0] } : {}),
      ...(acceptAll ? { acceptAllFromTunnel: true } : {}),
    },
    segments,
    wireguard: {
      ...(p.wg?.conf.listenPort ? { port: p.wg.conf.listenPort } : {}),
      ...(p.wg?.conf.mtu ? { mtu: p.wg.conf.mtu } : {}),
      ...(keepalive !== undefined ? { keepalive } : {}),
      // The hand-made setup's ends made their own keys; relay6 keeps them.
      keys: "device",
    },
    failover,
    // Only an inactive ufw says "none"; without `ufw status` relay6's default (ufw) stays.
    ...(p.ufw ? { firewall: { vps: p.ufw.status.active ? "ufw" : "none" } } : {}),
  };
  if (!p.ufw) notes.push("firewall.vps: no `ufw status` given; left at relay6's default (ufw, which relay6 manages)");
  if (!version) notes.push("router.version: the export has no `by RouterOS` header; add it by hand");
  if (peer?.disabled) notes.push("the router's WireGuard peer is disabled");

  const header = [
    "# Written by `relay6 doctor --write-site` from a setup made by hand.",
    "# Check it, then `relay6 plan` and `relay6 render` it; doctor's findings are fixed by the render.",
    ...notes.map((n) => `# note: ${n}`),
  ];
  return { yaml: header.join("\n") + "\n" + stringify(site, { lineWidth: 0 }), site, missing, notes };
}
