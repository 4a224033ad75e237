// The router end of the relay as data: one pure function turns a plan (and the keys) into
// the steps of the setup, in order. Each step is an object relay6 wants on the router (menu,
// tag key, args, how RouterOS finds it again, where a firewall rule goes), a set of tagged
// objects to remove, or text for people. render.ts writes the .rsc from this list;
// src/apply/router.ts diffs the live router against the same list over REST.
import { isGlobal, PREVIOUS_LIFETIMES, type Plan, type PlanSegment } from "../../plan/plan.js";
import { privateKeyFor, publicKeyFor } from "../../render/keys.js";
import type { RenderContext } from "../../render/types.js";
import type { Capabilities } from "./capabilities.js";
import { commentFor, prefixRegex, tag } from "./quote.js";
import { comment, type Args, type Cond, type Menu } from "./script.js";
import { drainMenus, drainObjects, LOG_ACTION, LOG_RULE, NETWATCH, RA_LIFETIME, recordStatements, SCRIPT, staleRecordStatement } from "./drain.js";

/** The defconf rule relay6's firewall rules go in front of, in both chains. */
export const DEFCONF_DROP = "defconf: drop everything else not coming from LAN";

export const WG: Menu = "/interface/wireguard";
export const PEERS: Menu = "/interface/wireguard/peers";
export const ADDR: Menu = "/ipv6/address";
export const ND: Menu = "/ipv6/nd";
export const ND_PREFIX: Menu = "/ipv6/nd/prefix";
export const ND_PROXY: Menu = "/ipv6/nd/proxy";
export const ROUTE: Menu = "/ipv6/route";
export const FILTER: Menu = "/ipv6/firewall/filter";
export const MANGLE: Menu = "/ipv6/firewall/mangle";
export const BGP_INSTANCE: Menu = "/routing/bgp/instance";
export const BGP_TEMPLATE: Menu = "/routing/bgp/template";
export const BGP_CONNECTION: Menu = "/routing/bgp/connection";
export const BFD_CONFIG: Menu = "/routing/bfd/configuration";

/** Every menu relay6 writes to, in dependency order (an object only names objects before it). */
export function managedMenus(caps: Capabilities): Menu[] {
  return [WG, PEERS, ADDR, ND, ND_PREFIX, ...(caps.ndProxy ? [ND_PROXY] : []), ROUTE, ...(caps.bgpInstance ? [BGP_INSTANCE] : []), BGP_TEMPLATE, BGP_CONNECTION, BFD_CONFIG, FILTER, MANGLE, ...drainMenus(caps)];
}

/** An object relay6 wants on the router. */
export interface DesiredObject {
  menu: Menu;
  /** The tag key: the object's comment starts with relay6:<site>:<key>; */
  key: string;
  /** The arguments of `add`, in the order they are written (comment included). */
  args: Args;
  /** How RouterOS finds it again. `tag`: by relay6's tag (add when missing, else set).
   *  `prop`: the menu allows one object per value of `prop` (/ipv6/nd: one entry per
   *  interface), so an existing one, relay6's or not, is set with `setArgs` (no comment),
   *  and only a missing one is added (tagged); `clear`: values an existing one must not
   *  keep (unset from 7.23, set to "" before: capabilities nd-unset). */
  identity: { by: "tag" } | { by: "prop"; prop: string; value: string; setArgs: Args; clear?: string[] };
  /** Firewall rules: relay6 removes and re-adds them (the .rsc) or keeps them in order (apply),
   *  in front of the first object matching the first anchor that matches anything; with no
   *  anchor matching (or none given), at the end of the table. */
  place?: { chain: string; anchors: Cond[][] };
  /** Args whose values are secret (never shown): the router's private key. */
  secretArgs: string[];
}

/** Which of relay6's tagged objects of a menu a remove step takes: one tag, or every tag
 *  under a prefix except the `keep` keys. */
export type Selection = { tag: string } | { prefix: string; keep?: string[] };

export type Step =
  | { kind: "text"; text: string }
  /** A statement only the .rsc runs, because it depends on the router's state at import
   *  time; apply router does the same from the state it read (drain.ts: the records). */
  | { kind: "rsc"; text: string }
  | { kind: "object"; obj: DesiredObject }
  | { kind: "remove"; menu: Menu; select: Selection };

export interface SetupSteps {
  /** keys: device without vps.publicKey: only the interface (and printing its key). */
  step1: boolean;
  steps: Step[];
}

/** Names relay6 gives the objects RouterOS keys by name. */
export function objectNames(plan: Plan) {
  return { peer: `relay6-${plan.site}-vps`, bgp: `relay6-${plan.site}`, connection: `relay6-${plan.site}-vps` };
}

export function routerScriptPaths(site: string) {
  return {
    setup: `router/relay6-${site}.rsc`,
    undo: `router/relay6-${site}-undo.rsc`,
    verify: `router/relay6-${site}-verify.rsc`,
  };
}

const ms = (n: number) => `${n}ms`;

/** Where a segment's RA points clients for DNS. */
export function ndDnsArgs(plan: Plan, caps: Capabilities, segs: PlanSegment[]): Args {
  const dns = plan.dns.advertise;
  if (dns === "none") return [["advertise-dns", "no"]];
  if (dns !== "self") return [["advertise-dns", "yes"], ["dns", dns.join(",")]];
  if (caps.ndAdvertiseDnsSelf) return [["advertise-dns", "self"]];
  // Before 7.21.4 no tree shows `self`: name the router's own address on the link. The ULA
  // one when there is one, because it survives a renumbering of the routed prefix.
  const own = segs.map((s) => (s.ula ?? s).router.address);
  return [["advertise-dns", "yes"], ["dns", own.join(",")]];
}

/** A segment interface's RA entry: what a new entry gets, what an existing one (the user's,
 *  or relay6's from before) is set to, and which values are cleared on it. An existing
 *  entry keeps its M and O flags (managed-address-configuration, other-configuration):
 *  a DHCPv6 setup needs them. With advertise-dns=self a dns= list left on the entry
 *  (by the user, or by relay6's fallback before an upgrade) is cleared. */
export function ndEntry(plan: Plan, caps: Capabilities, segs: PlanSegment[]): { add: Args; set: Args; clear: string[] } {
  const dns = ndDnsArgs(plan, caps, segs);
  const set: Args = [...dns, ["mtu", plan.wireguard.mtu]];
  const self = dns.some(([k, v]) => k === "advertise-dns" && v === "self");
  return {
    add: [...set, ["managed-address-configuration", "no"], ["other-configuration", "no"]],
    set,
    clear: self ? ["dns"] : [],
  };
}

export function segmentsByInterface(plan: Plan): Map<string, PlanSegment[]> {
  const m = new Map<string, PlanSegment[]>();
  for (const s of plan.segments) m.set(s.interface, [...(m.get(s.interface) ?? []), s]);
  return m;
}

export interface Rule {
  key: string;
  what: string;
  args: Args;
  /** Where it goes, when not where its chain's rules go (firewallAnchors). */
  anchors?: Cond[][];
}

/** Input chain: exactly what the tunnel needs, unless the site asks for everything. */
export function inputRules(plan: Plan): Rule[] {
  const wg = plan.router.tunnelInterface;
  if (plan.router.acceptAllFromTunnel)
    return [{ key: "fw:in-all", what: "accept all input from the VPS tunnel (router.acceptAllFromTunnel)", args: [["chain", "input"], ["action", "accept"], ["in-interface", wg]] }];
  const rules: Rule[] = [
    { key: "fw:in-icmpv6", what: "accept ICMPv6 from the tunnel (ND, ping, packet-too-big)", args: [["chain", "input"], ["action", "accept"], ["protocol", "icmpv6"], ["in-interface", wg]] },
  ];
  const mgmt = plan.router.management;
  // Management through the tunnel (router.management.fromVps): a rule of relay6's own, not
  // /ip/service's address list, whose empty value means "from anywhere" and whose one list
  // the LAN's access shares (docs/targets/routeros.md).
  if (mgmt)
    rules.push({ key: "fw:in-mgmt", what: `accept ${mgmt.service} on TCP ${mgmt.port} from the VPS's transit address only (router.management.fromVps)`, args: [["chain", "input"], ["action", "accept"], ["protocol", "tcp"], ["dst-port", String(mgmt.port)], ["src-address", mgmt.from], ["in-interface", wg]] });
  if (plan.failover.mode === "bgp-bfd") {
    rules.push(
      { key: "fw:in-bgp", what: "accept BGP from the VPS", args: [["chain", "input"], ["action", "accept"], ["protocol", "tcp"], ["dst-port", "179"], ["src-address", plan.transit.vps.address], ["in-interface", wg]] },
      { key: "fw:in-bfd", what: "accept BFD from the VPS", args: [["chain", "input"], ["action", "accept"], ["protocol", "udp"], ["dst-port", "3784"], ["src-address", plan.transit.vps.address], ["in-interface", wg]] },
    );
  }
  return rules;
}

/** The reject RouterOS can send for a source that is not the site's. RouterOS's reject-with
 *  has no ICMPv6 type 1 code 5 ("source address failed ingress/egress policy"): its values
 *  are icmp-address-unreachable, icmp-admin-prohibited, icmp-err-src-routing-header,
 *  icmp-headers-too-long, icmp-no-route, icmp-not-neighbour, icmp-port-unreachable and
 *  tcp-reset (deep-inspect 7.21.4, 7.21.5, 7.22.3). RFC 4443 section 3.1 makes codes 5 and 6
 *  refinements of code 1, "administratively prohibited": the closest honest answer. */
export const SOURCE_REJECT = "icmp-admin-prohibited";

/** Forward chain, first: LAN traffic into the tunnel from a source outside the site's
 *  prefix is refused (the VPS's WireGuard would drop it anyway; the host learns why). At
 *  the top of the chain, so that no accept of defconf's (ICMPv6, established) lets it by. */
export function sourceRule(plan: Plan, site: string): Rule {
  return {
    key: "fw:fwd-src",
    what: `refuse traffic into the tunnel from sources outside ${plan.prefix} (ICMPv6 administratively prohibited)`,
    args: [["chain", "forward"], ["action", "reject"], ["reject-with", SOURCE_REJECT], ["out-interface", plan.router.tunnelInterface], ["src-address", `!${plan.prefix}`]],
    anchors: [[{ prop: "chain", eq: "forward" }, { prop: "comment", notRe: prefixRegex(`relay6:${site}:`) }]],
  };
}

/** Forward chain: replies and ICMPv6 come in, the site's inbound services come in, and
 *  everything else new from the tunnel is dropped by relay6's own rule. defconf drops it
 *  too ("not coming from LAN"), but only while the tunnel stays out of the LAN list and
 *  defconf exists; relay6's drop makes that hold on any router. */
export function forwardRules(plan: Plan): Rule[] {
  const wg = plan.router.tunnelInterface;
  const rules: Rule[] = [
    sourceRule(plan, plan.site),
    { key: "fw:fwd-established", what: "accept replies from the tunnel", args: [["chain", "forward"], ["action", "accept"], ["connection-state", "established,related,untracked"], ["in-interface", wg]] },
    { key: "fw:fwd-icmpv6", what: "accept ICMPv6 from the tunnel (RFC 4890; packet-too-big keeps path MTU discovery working)", args: [["chain", "forward"], ["action", "accept"], ["protocol", "icmpv6"], ["in-interface", wg]] },
  ];
  for (const s of plan.segments)
    for (const svc of s.inbound)
      rules.push({
        key: `fw:fwd-in:${s.name}:${svc.name}`,
        what: `accept inbound ${svc.proto}/${svc.port} to segment ${s.name}`,
        args: [
          ["chain", "forward"],
          ["action", "accept"],
          ["connection-state", "new"],
          ["protocol", svc.proto],
          ["dst-address", svc.host ?? s.prefix],
          ["dst-port", String(svc.port)],
          ["in-interface", wg],
          ["out-interface", s.interface],
        ],
      });
  rules.push({ key: "fw:fwd-drop", what: "drop unsolicited traffic from the tunnel to the LAN", args: [["chain", "forward"], ["action", "drop"], ["in-interface", wg]] });
  return rules;
}

/** TCP MSS clamp both ways through the tunnel: many paths drop ICMPv6 packet-too-big, and
 *  bulk TCP then stalls at the first full-size segment. Only lowers the MSS (tcp-mss=). */
export function mangleRules(plan: Plan): Rule[] {
  if (!plan.clampMss) return [];
  const wg = plan.router.tunnelInterface;
  const mss = plan.wireguard.mss;
  const base = (dir: "out-interface" | "in-interface"): Args => [
    ["chain", "forward"],
    ["action", "change-mss"],
    ["new-mss", String(mss)],
    ["passthrough", "yes"],
    ["protocol", "tcp"],
    ["tcp-flags", "syn"],
    ["tcp-mss", `${mss + 1}-65535`],
    [dir, wg],
  ];
  return [
    { key: "fw:mss-out", what: `clamp TCP MSS to ${mss} into the tunnel`, args: base("out-interface") },
    { key: "fw:mss-in", what: `clamp TCP MSS to ${mss} from the tunnel`, args: base("in-interface") },
  ];
}

/** The tag keys of the addresses relay6 keeps for this plan. */
export function addressKeys(plan: Plan): string[] {
  return ["addr:transit", ...plan.segments.flatMap((s) => [segmentAddressKey(s), ...(s.ula ? [`addr:${s.name}:ula`] : [])])];
}

/** A segment's own address's tag key: a ULA-only segment's only address is its ULA one. */
export const segmentAddressKey = (s: Pick<PlanSegment, "name" | "global">) => (isGlobal(s) ? `addr:${s.name}` : `addr:${s.name}:ula`);

/** The tag keys of the static /ipv6/nd/prefix entries of previous /64s. */
export function previousKeys(plan: Plan): string[] {
  return plan.segments.flatMap((s) => (s.previous ? [`nd-prefix:${s.name}:previous`] : []));
}

/** The router's own global address a /64 site's router traffic should leave from: its
 *  address in the first global segment (a /64 site has one). */
export function routerSource(plan: Plan): string | undefined {
  return plan.segments.find(isGlobal)?.router.address;
}

/** RouterOS's form of a link-local next hop: fe80::1%wg-host. */
export const gatewayOf = (plan: Plan) => `${plan.transit.vps.address}%${plan.router.tunnelInterface}`;


/** defconf's forward accepts for HIP, IKE, IPsec AH and ESP and IPsec-policy traffic, in
 *  the order every public defconf export lists them, matched by what they accept (their
 *  comments differ between defconf variants). Unsolicited packets of those protocols from
 *  the tunnel would reach LAN hosts through them, so relay6's forward rules go first. */
export const IPSEC_ACCEPTS: readonly (readonly Cond[])[] = [
  [{ prop: "protocol", eq: "139" }],
  [{ prop: "protocol", eq: "udp" }, { prop: "dst-port", eq: "500,4500" }],
  [{ prop: "protocol", eq: "ipsec-ah" }],
  [{ prop: "protocol", eq: "ipsec-esp" }],
  [{ prop: "ipsec-policy", eq: "in,ipsec" }],
];

/** The anchors of a chain: in the forward chain the first of defconf's IPsec/HIP accepts;
 *  then defconf's drop; without it, the chain's first drop rule that is not this site's;
 *  with none, the end. */
export function firewallAnchors(site: string, chain: string): Cond[][] {
  const ipsec = chain === "forward" ? IPSEC_ACCEPTS.map((a): Cond[] => [{ prop: "chain", eq: chain }, { prop: "action", eq: "accept" }, ...a]) : [];
  return [
    ...ipsec,
    [
      { prop: "chain", eq: chain },
      { prop: "comment", eq: DEFCONF_DROP },
    ],
    [
      { prop: "chain", eq: chain },
      { prop: "action", eq: "drop" },
      { prop: "comment", notRe: prefixRegex(`relay6:${site}:`) },
    ],
  ];
}

/** The setup, as data: what relay6 wants on the router for this plan and release, in the
 *  order the .rsc writes it. Pure. */
export function setupSteps(plan: Plan, ctx: RenderContext, caps: Capabilities): SetupSteps {
  const site = plan.site;
  const wg = plan.router.tunnelInterface;
  const c = (k: string, what: string, description?: string) => commentFor(site, k, what, description);
  const vpsKey = publicKeyFor("vps", plan, ctx.secrets);
  const names = objectNames(plan);
  const steps: Step[] = [];
  const text = (t: string): void => void steps.push({ kind: "text", text: t });
  const obj = (menu: Menu, key: string, args: Args, extra: Partial<DesiredObject> = {}): void =>
    void steps.push({ kind: "object", obj: { menu, key, args, identity: { by: "tag" }, secretArgs: [], ...extra } });
  const removeTag = (menu: Menu, key: string): void => void steps.push({ kind: "remove", menu, select: { tag: key } });

  // keys: relay6 — relay6 made the router's key (the VPS's wg0.conf names its public half),
  // so the script sets it and the file is a secret (0600). keys: device — RouterOS makes
  // its own key and relay6 never sees it.
  const routerKey = privateKeyFor("router", plan, ctx.secrets);
  const wgArgs: Args = [
    ["name", wg],
    ["listen-port", plan.wireguard.port],
    ["mtu", plan.wireguard.mtu],
    ...(routerKey ? ([["private-key", routerKey]] as const) : []),
    ["comment", c("wg", "WireGuard tunnel to the VPS")],
  ];
  const wgObj = (): void => obj(WG, "wg", wgArgs, { secretArgs: routerKey ? ["private-key"] : [] });
  const keyNote = routerKey
    ? "WireGuard interface, with the private key relay6 made (this file is secret: mode 0600)."
    : "WireGuard interface; RouterOS makes its private key, relay6 never sees it.";

  if (!vpsKey) {
    text(comment("WireGuard interface; RouterOS makes its private key, relay6 never sees it."));
    wgObj();
    return { step1: true, steps };
  }

  text(comment(keyNote));
  wgObj();
  text("");
  text(comment(`The VPS as the only peer. allowed-address ::/0: the default route decides what goes in.`));
  obj(PEERS, "peer", [
    ["interface", wg],
    ...(caps.wgPeerName ? ([["name", names.peer]] as const) : []),
    ["public-key", vpsKey],
    ["endpoint-address", plan.vps.endpoint],
    ["endpoint-port", plan.wireguard.port],
    ["allowed-address", plan.router.peerAllowedIps.join(",")],
    ["persistent-keepalive", `${plan.wireguard.keepalive}s`],
    ["comment", c("peer", "the VPS")],
  ]);
  text("");
  text(comment("Addresses of segments no longer in the site file go; then the current ones."));
  steps.push({ kind: "remove", menu: ADDR, select: { prefix: "addr:", keep: addressKeys(plan) } });
  text("");
  text(
    comment(
      plan.transit.kind === "link-local"
        ? "Transit address: a /64 site's prefix is all LAN, so the tunnel runs on link-locals (fe80::2 here, fe80::1 on the VPS); never advertised."
        : plan.transit.kind === "ula"
          ? "Transit address: a /64 site's prefix is all LAN, so the tunnel runs on a ULA /64 (transit); never advertised."
          : "Transit address: the tunnel's own /64, never advertised to the LAN.",
    ),
  );
  obj(ADDR, "addr:transit", [["address", plan.transit.router.cidr], ["interface", wg], ["advertise", "no"], ["comment", c("addr:transit", "tunnel transit")]]);

  for (const s of plan.segments) {
    text("");
    text(comment(`Segment ${s.name}: ${s.prefix} on ${s.interface}${isGlobal(s) ? "" : " (ULA only: global: false)"}; advertise=yes puts the /64 in its RA (SLAAC).`));
    const k = segmentAddressKey(s);
    obj(ADDR, k, [["address", s.router.cidr], ["interface", s.interface], ["advertise", "yes"], ["comment", c(k, isGlobal(s) ? `segment ${s.name}` : `segment ${s.name} ULA (RFC 4193), ULA only`, s.description)]]);
    if (s.ula)
      obj(ADDR, `addr:${s.name}:ula`, [["address", s.ula.router.cidr], ["interface", s.interface], ["advertise", "yes"], ["comment", c(`addr:${s.name}:ula`, `segment ${s.name} ULA (RFC 4193)`, s.description)]]);
  }

  text("");
  text(
    comment(
      [
        `Router advertisements. RouterOS keeps one /ipv6/nd entry per interface, so an existing`,
        `one is set, not added to (its M and O flags stay as they are: DHCPv6 setups need them).`,
        `mtu=${plan.wireguard.mtu} tells clients the tunnel MTU: a full-size packet`,
        `would otherwise need an ICMPv6 packet-too-big that many paths drop.`,
      ].join("\n"),
    ),
  );
  const ndKeys = [...segmentsByInterface(plan).keys()].map((i) => `nd:${i}`);
  steps.push({ kind: "remove", menu: ND, select: { prefix: "nd:", keep: ndKeys } });
  const ndInterfaces = [...segmentsByInterface(plan).keys()];
  text(comment("The ra-lifetime of each entry relay6 did not make, recorded once: the RA drain and the undo set it back."));
  for (const r of [staleRecordStatement(plan, ndInterfaces), ...recordStatements(plan, ndInterfaces)]) steps.push({ kind: "rsc", text: r });
  for (const [iface, segs] of segmentsByInterface(plan)) {
    const nd = ndEntry(plan, caps, segs);
    // ra-lifetime only on entries relay6 makes; after that it belongs to the RA drain.
    obj(ND, `nd:${iface}`, [["interface", iface], ...nd.add, ["ra-lifetime", RA_LIFETIME], ["comment", c(`nd:${iface}`, `RA for ${segs.map((s) => s.name).join(", ")}`)]], {
      identity: { by: "prop", prop: "interface", value: iface, setArgs: nd.set, ...(nd.clear.length ? { clear: nd.clear } : {}) },
    });
  }

  text("");
  if (plan.segments.some((x) => x.previous))
    text(
      comment(
        [
          "Old /64s (previousPrefix): advertised with preferred lifetime 0 and valid lifetime 2 h, so",
          "clients stop using their old addresses for new connections at once and drop them 2 h",
          "after the first such RA (RFC 4862 5.5.3 e). The old address itself is gone (the segment's",
          "address above is the new one), so no dynamic entry competes. Removing previousPrefix",
          "removes these.",
        ].join("\n"),
      ),
    );
  else text(comment("No old /64s to advertise (previousPrefix): remove what an earlier render advertised."));
  const prevKeys = previousKeys(plan);
  steps.push({ kind: "remove", menu: ND_PREFIX, select: { prefix: "nd-prefix:", ...(prevKeys.length > 0 ? { keep: prevKeys } : {}) } });
  for (const s of plan.segments) {
    if (!s.previous) continue;
    const k = `nd-prefix:${s.name}:previous`;
    obj(ND_PREFIX, k, [
      ["interface", s.interface],
      ["prefix", s.previous],
      ["preferred-lifetime", `${PREVIOUS_LIFETIMES.preferredS}s`],
      ["valid-lifetime", `${PREVIOUS_LIFETIMES.validS / 3600}h`],
      ["autonomous", "yes"],
      ["on-link", "yes"],
      ["comment", c(k, `segment ${s.name}'s previous /64, deprecated`)],
    ]);
  }

  const own = plan.vps.ownAddress;
  text("");
  if (own && caps.ndProxy) {
    text(
      comment(
        [
          `The VPS's own address ${own.address} lies in segment ${own.segment}'s /64, which LAN hosts take`,
          `for on-link: the router answers for it on ${own.interface} and routes it into the tunnel.`,
        ].join("\n"),
      ),
    );
    obj(ND_PROXY, "nd-proxy:vps", [["address", own.address], ["interface", own.interface], ["comment", c("nd-proxy:vps", "the VPS's own address, answered for on the LAN")]]);
    obj(ROUTE, "route:vps", [["dst-address", `${own.address}/128`], ["gateway", gatewayOf(plan)], ["comment", c("route:vps", "the VPS's own address, through the tunnel")]]);
  } else {
    if (own) text(comment(`The VPS's own address ${own.address} lies in segment ${own.segment}'s /64: RouterOS before 7.20 has no /ipv6/nd/proxy, so LAN hosts cannot reach it.`));
    else text(comment("No VPS address in a LAN /64: remove what an earlier render added for one."));
    if (caps.ndProxy) removeTag(ND_PROXY, "nd-proxy:vps");
    removeTag(ROUTE, "route:vps");
  }

  text("");
  if (plan.failover.mode === "static") {
    const src = plan.transit.kind && caps.routePrefSrc ? routerSource(plan) : undefined;
    text(comment("Default route through the tunnel; check-gateway=ping drops it ~30 s after the VPS stops answering."));
    if (src) text(comment(`pref-src: the tunnel holds no global address (a /64 site), so the router's own traffic leaves from its LAN address.`));
    obj(ROUTE, "route:default", [
      ["dst-address", "::/0"],
      ["gateway", gatewayOf(plan)],
      ["check-gateway", "ping"],
      ...(src ? ([["pref-src", src]] as const) : []),
      ["comment", c("route:default", "default via the VPS")],
    ]);
    text(comment("No BGP in static mode: remove what an earlier bgp-bfd render added."));
    removeTag(BGP_CONNECTION, "bgp:connection");
    removeTag(BGP_TEMPLATE, "bgp:template");
    if (caps.bgpInstance) removeTag(BGP_INSTANCE, "bgp:instance");
    removeTag(BFD_CONFIG, "bfd");
  } else {
    const f = plan.failover;
    const afi: Args = [[caps.bgpAfiArg, "ipv6"]];
    text(
      comment(
        [
          `Default route learned by BGP from the VPS on a BFD-watched session: withdrawn`,
          `~${f.bfd.detectMs} ms after the tunnel goes silent (${f.bfd.intervalMs} ms x ${f.bfd.multiplier}).`,
          caps.bgpInstance
            ? "RouterOS 7.20+: the instance carries AS and router-id; the connection names it."
            : "Before RouterOS 7.20 there is no BGP instance: router-id goes on the connection.",
        ].join("\n"),
      ),
    );
    if (caps.bgpInstance) obj(BGP_INSTANCE, "bgp:instance", [["name", names.bgp], ["as", f.routerAs], ["router-id", f.routerRouterId], ["comment", c("bgp:instance", "BGP to the VPS")]]);
    obj(BGP_TEMPLATE, "bgp:template", [["name", names.bgp], ["as", f.routerAs], ["use-bfd", "yes"], ["comment", c("bgp:template", "BGP to the VPS")]]);
    obj(BGP_CONNECTION, "bgp:connection", [
      ["name", names.connection],
      ...(caps.bgpInstance ? ([["instance", names.bgp]] as const) : ([["router-id", f.routerRouterId]] as const)),
      ["templates", names.bgp],
      ["as", f.routerAs],
      // A link-local peer carries its interface (unproven on a device: no tree shows it).
      ["remote.address", plan.transit.kind === "link-local" ? gatewayOf(plan) : plan.transit.vps.address],
      ["remote.as", f.vpsAs],
      ["local.address", plan.transit.router.address],
      ["local.role", "ebgp"],
      ["use-bfd", "yes"],
      ...afi,
      ["comment", c("bgp:connection", "BGP session with the VPS")],
    ]);
    obj(BFD_CONFIG, "bfd", [
      ["interfaces", wg],
      ["min-rx", ms(f.bfd.intervalMs)],
      ["min-tx", ms(f.bfd.intervalMs)],
      ["multiplier", f.bfd.multiplier],
      ["comment", c("bfd", "BFD timers on the tunnel")],
    ]);
    text(comment("The BGP route owns ::/0 now: remove the static default of an earlier static render."));
    removeTag(ROUTE, "route:default");
  }

  text("");
  text(
    comment(
      [
        "Firewall. relay6's rules are removed and added again on every run, so they always sit",
        `in front of defconf's "${DEFCONF_DROP}" when it exists;`,
        "without defconf in front of the chain's first drop rule; with none, at the end (the",
        "chain policy is accept, so they still act). In the forward chain they go in front of",
        "defconf's HIP/IKE/IPsec accepts (found by protocol and port), which would otherwise let",
        "unsolicited packets from the tunnel into the LAN; the source check heads the chain.",
      ].join("\n"),
    ),
  );
  steps.push({ kind: "remove", menu: FILTER, select: { prefix: "fw:" } });
  steps.push({ kind: "remove", menu: MANGLE, select: { prefix: "fw:" } });
  const rule = (menu: Menu, r: Rule, anchors: Cond[][]) =>
    obj(menu, r.key, [...r.args, ["comment", c(r.key, r.what)]], { place: { chain: String(r.args.find(([k]) => k === "chain")?.[1]), anchors } });
  for (const r of inputRules(plan)) rule(FILTER, r, r.anchors ?? firewallAnchors(site, "input"));
  for (const r of forwardRules(plan)) rule(FILTER, r, r.anchors ?? firewallAnchors(site, "forward"));
  for (const r of mangleRules(plan)) rule(MANGLE, r, []);
  steps.push(...drainSteps(plan, caps, ndInterfaces));
  return { step1: false, steps };
}

/** The RA drain's steps (drain.ts): its objects, and the removal of those a mode switch or an
 *  older release leaves over. */
function drainSteps(plan: Plan, caps: Capabilities, interfaces: string[]): Step[] {
  const steps: Step[] = [
    { kind: "text", text: "" },
    {
      kind: "text",
      text: comment(
        [
          "RA drain: router lifetime 0 on every segment while relay6's ::/0 through the tunnel is gone,",
          "run every second by netwatch (every release, every device-mode)" +
            (caps.loggingScriptAction && plan.failover.mode === "bgp-bfd" ? " and on BFD/BGP log lines." : ".") +
            (plan.failover.mode === "static" ? "\nStatic failover: a netwatch pings the VPS every second; 3 failed in a row disable the route." : ""),
        ].join("\n"),
      ),
    },
  ];
  const removeTag = (menu: Menu, key: string): void => void steps.push({ kind: "remove", menu, select: { tag: key } });
  if (plan.failover.mode !== "static") {
    removeTag(NETWATCH, "probe-tick");
    removeTag(SCRIPT, "probe");
  }
  if (caps.loggingScriptAction && plan.failover.mode === "static") {
    steps.push({ kind: "remove", menu: LOG_RULE, select: { prefix: "drain-log" } });
    removeTag(LOG_ACTION, "drain-log");
  }
  for (const o of drainObjects(plan, caps, interfaces)) steps.push({ kind: "object", obj: { menu: o.menu, key: o.key, args: o.args, identity: { by: "tag" }, secretArgs: [] } });
  return steps;
}

/** The desired objects of a setup, in order. */
export const desiredObjects = (s: SetupSteps): DesiredObject[] => s.steps.flatMap((x) => (x.kind === "object" ? [x.obj] : []));
