// Plan → RouterOS v7 scripts: the router end of the recipe (its sections 2, 3 and 4b).
// Three files: the setup (safe to import again), an undo that removes what relay6 added,
// and a verify script with the expected values spelled out.
import { publicKeyOf } from "../../keys/wireguard.js";
import type { Plan, PlanSegment } from "../../plan/plan.js";
import { MANAGED_MARK, type Artifact, type RenderContext } from "../../render/types.js";
import { capabilitiesOf, formatRelease, parseRelease, type Capabilities } from "./capabilities.js";
import { commentFor, prefixRegex, quote, tag, tagsRegex } from "./quote.js";
import { add, addBeforeText, byTag, comment, find, put, remove, upsert, type Args, type Cond, type Menu } from "./script.js";

/** The defconf rule relay6's firewall rules go in front of, in both chains. */
export const DEFCONF_DROP = "defconf: drop everything else not coming from LAN";

const WG: Menu = "/interface/wireguard";
const PEERS: Menu = "/interface/wireguard/peers";
const ADDR: Menu = "/ipv6/address";
const ND: Menu = "/ipv6/nd";
const ROUTE: Menu = "/ipv6/route";
const FILTER: Menu = "/ipv6/firewall/filter";
const MANGLE: Menu = "/ipv6/firewall/mangle";
const BGP_INSTANCE: Menu = "/routing/bgp/instance";
const BGP_TEMPLATE: Menu = "/routing/bgp/template";
const BGP_CONNECTION: Menu = "/routing/bgp/connection";
const BFD_CONFIG: Menu = "/routing/bfd/configuration";

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

/** The router's private key when relay6 made it (keys: relay6), else undefined. */
export function routerPrivateKey(plan: Plan, ctx: RenderContext): string | undefined {
  return plan.wireguard.keys === "relay6" ? ctx.secrets.routerPrivateKey : undefined;
}

/** The VPS's public key: derived from relay6's key, or given by the user (keys: device). */
export function vpsPublicKey(plan: Plan, ctx: RenderContext): string | undefined {
  if (ctx.secrets.vpsPrivateKey) return publicKeyOf(ctx.secrets.vpsPrivateKey);
  return plan.vps.publicKey;
}

const ms = (n: number) => `${n}ms`;

function header(plan: Plan, ctx: RenderContext, caps: Capabilities, what: string[]): string {
  return comment(
    [
      `relay6 ${ctx.version} - ${MANAGED_MARK}; edits here are overwritten by the next render.`,
      `site ${plan.site}, RouterOS ${formatRelease(caps.release)}: ${what[0]}`,
      ...what.slice(1),
    ].join("\n"),
  );
}

/** Where a segment's RA points clients for DNS. */
function ndDnsArgs(plan: Plan, caps: Capabilities, segs: PlanSegment[]): Args {
  const dns = plan.dns.advertise;
  if (dns === "none") return [["advertise-dns", "no"]];
  if (dns !== "self") return [["advertise-dns", "yes"], ["dns", dns.join(",")]];
  if (caps.ndAdvertiseDnsSelf) return [["advertise-dns", "self"]];
  // Before 7.21 there is no `self`: name the router's own address on the link. The ULA
  // one when there is one, because it survives a renumbering of the routed prefix.
  const own = segs.map((s) => (s.ula ?? s).router.address);
  return [["advertise-dns", "yes"], ["dns", own.join(",")]];
}

function segmentsByInterface(plan: Plan): Map<string, PlanSegment[]> {
  const m = new Map<string, PlanSegment[]>();
  for (const s of plan.segments) m.set(s.interface, [...(m.get(s.interface) ?? []), s]);
  return m;
}

interface Rule {
  key: string;
  what: string;
  args: Args;
}

/** Input chain: exactly what the tunnel needs, unless the site asks for everything. */
function inputRules(plan: Plan): Rule[] {
  const wg = plan.router.wgInterface;
  if (plan.router.acceptAllFromTunnel)
    return [{ key: "fw:in-all", what: "accept all input from the VPS tunnel (router.acceptAllFromTunnel)", args: [["chain", "input"], ["action", "accept"], ["in-interface", wg]] }];
  const rules: Rule[] = [
    { key: "fw:in-icmpv6", what: "accept ICMPv6 from the tunnel (ND, ping, packet-too-big)", args: [["chain", "input"], ["action", "accept"], ["protocol", "icmpv6"], ["in-interface", wg]] },
  ];
  if (plan.failover.mode === "bgp-bfd") {
    rules.push(
      { key: "fw:in-bgp", what: "accept BGP from the VPS", args: [["chain", "input"], ["action", "accept"], ["protocol", "tcp"], ["dst-port", "179"], ["src-address", plan.transit.vps.address], ["in-interface", wg]] },
      { key: "fw:in-bfd", what: "accept BFD from the VPS", args: [["chain", "input"], ["action", "accept"], ["protocol", "udp"], ["dst-port", "3784"], ["in-interface", wg]] },
    );
  }
  return rules;
}

/** Forward chain: replies and ICMPv6 come in, the site's inbound services come in, and
 *  everything else new from the tunnel is dropped by relay6's own rule. defconf drops it
 *  too ("not coming from LAN"), but only while the tunnel stays out of the LAN list and
 *  defconf exists; relay6's drop makes that hold on any router. */
function forwardRules(plan: Plan): Rule[] {
  const wg = plan.router.wgInterface;
  const rules: Rule[] = [
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
function mangleRules(plan: Plan): Rule[] {
  if (!plan.clampMss) return [];
  const wg = plan.router.wgInterface;
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
function addressKeys(plan: Plan): string[] {
  return ["addr:transit", ...plan.segments.flatMap((s) => [`addr:${s.name}`, ...(s.ula ? [`addr:${s.name}:ula`] : [])])];
}

export function renderSetup(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const site = plan.site;
  const wg = plan.router.wgInterface;
  const key = (k: string): Cond[] => [byTag(tag(site, k))];
  const c = (k: string, what: string, description?: string) => commentFor(site, k, what, description);
  const vpsKey = vpsPublicKey(plan, ctx);
  const names = objectNames(plan);
  const out: string[] = [];

  // keys: relay6 — relay6 made the router's key (the VPS's wg0.conf names its public half),
  // so the script sets it and this file is a secret (0600). keys: device — RouterOS makes
  // its own key and relay6 never sees it.
  const routerKey = routerPrivateKey(plan, ctx);
  const wgArgs: Args = [
    ["name", wg],
    ["listen-port", plan.wireguard.port],
    ["mtu", plan.wireguard.mtu],
    ...(routerKey ? ([["private-key", routerKey]] as const) : []),
    ["comment", c("wg", "WireGuard tunnel to the VPS")],
  ];
  const keyNote = routerKey
    ? "WireGuard interface, with the private key relay6 made (this file is secret: mode 0600)."
    : "WireGuard interface; RouterOS makes its private key, relay6 never sees it.";

  if (!vpsKey) {
    out.push(
      header(plan, ctx, caps, [
        "step 1 of 2 (wireguard.keys: device, no vps.publicKey yet).",
        "Creates the tunnel interface and prints the router's public key. Put the VPS's",
        "public key into vps.publicKey and the router's into router.publicKey, render",
        "again, and import the full script.",
      ]),
      "",
      comment("WireGuard interface; RouterOS makes its private key, relay6 never sees it."),
      upsert(WG, key("wg"), wgArgs),
      publicKeyLines(plan),
      put("relay6: step 1 done. Set vps.publicKey in the site file, run relay6 render again and import the new script."),
      "",
    );
    return out.join("\n");
  }

  out.push(
    header(plan, ctx, caps, [
      "the router end of the relay (tunnel, addresses, RA, default route, firewall).",
      "Safe to import again: every object carries the tag relay6:" + site + ": in its comment,",
      "a re-run updates those objects and never touches others. Undo: relay6-" + site + "-undo.rsc.",
    ]),
    "",
    comment(keyNote),
    upsert(WG, key("wg"), wgArgs),
    "",
    comment(`The VPS as the only peer. allowed-address ::/0: the default route decides what goes in.`),
    upsert(PEERS, key("peer"), [
      ["interface", wg],
      ...(caps.wgPeerName ? ([["name", names.peer]] as const) : []),
      ["public-key", vpsKey],
      ["endpoint-address", plan.vps.endpoint],
      ["endpoint-port", plan.wireguard.port],
      ["allowed-address", plan.router.peerAllowedIps.join(",")],
      ["persistent-keepalive", `${plan.wireguard.keepalive}s`],
      ["comment", c("peer", "the VPS")],
    ]),
    "",
    comment("Addresses of segments no longer in the site file go; then the current ones."),
    remove(ADDR, [byTag(`relay6:${site}:addr:`), { prop: "comment", notRe: tagsRegex(site, addressKeys(plan)) }]),
    "",
    comment("Transit address: the tunnel's own /64, never advertised to the LAN."),
    upsert(ADDR, key("addr:transit"), [["address", plan.transit.router.cidr], ["interface", wg], ["advertise", "no"], ["comment", c("addr:transit", "tunnel transit")]]),
  );

  for (const s of plan.segments) {
    out.push(
      "",
      comment(`Segment ${s.name}: ${s.prefix} on ${s.interface}; advertise=yes puts the /64 in its RA (SLAAC).`),
      upsert(ADDR, key(`addr:${s.name}`), [["address", s.router.cidr], ["interface", s.interface], ["advertise", "yes"], ["comment", c(`addr:${s.name}`, `segment ${s.name}`, s.description)]]),
    );
    if (s.ula)
      out.push(
        upsert(ADDR, key(`addr:${s.name}:ula`), [["address", s.ula.router.cidr], ["interface", s.interface], ["advertise", "yes"], ["comment", c(`addr:${s.name}:ula`, `segment ${s.name} ULA (RFC 4193)`, s.description)]]),
      );
  }

  out.push(
    "",
    comment(
      [
        `Router advertisements. RouterOS keeps one /ipv6/nd entry per interface, so an existing`,
        `one is set, not added to. mtu=${plan.wireguard.mtu} tells clients the tunnel MTU: a full-size packet`,
        `would otherwise need an ICMPv6 packet-too-big that many paths drop.`,
      ].join("\n"),
    ),
  );
  const ndKeys = [...segmentsByInterface(plan).keys()].map((i) => `nd:${i}`);
  out.push(remove(ND, [byTag(`relay6:${site}:nd:`), { prop: "comment", notRe: tagsRegex(site, ndKeys) }]));
  for (const [iface, segs] of segmentsByInterface(plan)) {
    const ndArgs: Args = [
      ...ndDnsArgs(plan, caps, segs),
      ["mtu", plan.wireguard.mtu],
      ["managed-address-configuration", "no"],
      ["other-configuration", "no"],
    ];
    out.push(
      upsert(
        ND,
        [{ prop: "interface", eq: iface }],
        [["interface", iface], ...ndArgs, ["comment", c(`nd:${iface}`, `RA for ${segs.map((s) => s.name).join(", ")}`)]],
        ndArgs,
      ),
    );
  }

  out.push("");
  if (plan.failover.mode === "static") {
    out.push(
      comment("Default route through the tunnel; check-gateway=ping drops it ~30 s after the VPS stops answering."),
      upsert(ROUTE, key("route:default"), [
        ["dst-address", "::/0"],
        ["gateway", `${plan.transit.vps.address}%${wg}`],
        ["check-gateway", "ping"],
        ["comment", c("route:default", "default via the VPS")],
      ]),
      comment("No BGP in static mode: remove what an earlier bgp-bfd render added."),
      remove(BGP_CONNECTION, key("bgp:connection")),
      remove(BGP_TEMPLATE, key("bgp:template")),
      ...(caps.bgpInstance ? [remove(BGP_INSTANCE, key("bgp:instance"))] : []),
      remove(BFD_CONFIG, key("bfd")),
    );
  } else {
    const f = plan.failover;
    const afi: Args = [[caps.bgpAfiArg, "ipv6"]];
    out.push(
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
    if (caps.bgpInstance)
      out.push(upsert(BGP_INSTANCE, key("bgp:instance"), [["name", names.bgp], ["as", f.routerAs], ["router-id", f.routerRouterId], ["comment", c("bgp:instance", "BGP to the VPS")]]));
    out.push(
      upsert(BGP_TEMPLATE, key("bgp:template"), [["name", names.bgp], ["as", f.routerAs], ["use-bfd", "yes"], ["comment", c("bgp:template", "BGP to the VPS")]]),
      upsert(BGP_CONNECTION, key("bgp:connection"), [
        ["name", names.connection],
        ...(caps.bgpInstance ? ([["instance", names.bgp]] as const) : ([["router-id", f.routerRouterId]] as const)),
        ["templates", names.bgp],
        ["as", f.routerAs],
        ["remote.address", plan.transit.vps.address],
        ["remote.as", f.vpsAs],
        ["local.address", plan.transit.router.address],
        ["local.role", "ebgp"],
        ["use-bfd", "yes"],
        ...afi,
        ["comment", c("bgp:connection", "BGP session with the VPS")],
      ]),
      upsert(BFD_CONFIG, key("bfd"), [
        ["interfaces", wg],
        ["min-rx", ms(f.bfd.intervalMs)],
        ["min-tx", ms(f.bfd.intervalMs)],
        ["multiplier", f.bfd.multiplier],
        ["comment", c("bfd", "BFD timers on the tunnel")],
      ]),
      comment("The BGP route owns ::/0 now: remove the static default of an earlier static render."),
      remove(ROUTE, key("route:default")),
    );
  }

  // Where the rules go: in front of defconf's drop; without defconf, in front of the
  // chain's first drop rule that is not relay6's; with no drop rule at all, at the end.
  const anchors = (chain: string): Cond[][] => [
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
  out.push(
    "",
    comment(
      [
        "Firewall. relay6's rules are removed and added again on every run, so they always sit",
        `in front of defconf's "${DEFCONF_DROP}" when it exists;`,
        "without defconf in front of the chain's first drop rule; with none, at the end (the",
        "chain policy is accept, so they still act).",
      ].join("\n"),
    ),
    remove(FILTER, [byTag(`relay6:${site}:fw:`)]),
    remove(MANGLE, [byTag(`relay6:${site}:fw:`)]),
  );
  for (const r of inputRules(plan)) out.push(addBeforeText(FILTER, anchors("input"), [...r.args, ["comment", c(r.key, r.what)]]));
  for (const r of forwardRules(plan)) out.push(addBeforeText(FILTER, anchors("forward"), [...r.args, ["comment", c(r.key, r.what)]]));
  for (const r of mangleRules(plan)) out.push(add(MANGLE, [...r.args, ["comment", c(r.key, r.what)]]));

  out.push("", publicKeyLines(plan), "");
  return out.join("\n");
}

/** The router's own public key, printed: the VPS needs it and only the router knows it. */
function publicKeyLines(plan: Plan): string {
  return [
    put("relay6: the router's WireGuard public key (router.publicKey in the site file):"),
    `:put [${WG}/get ${find(WG, [byTag(tag(plan.site, "wg"))])} public-key]`,
  ].join("\n");
}

/** Removes every object tagged relay6:<site>: and nothing else. ND entries that existed
 *  before relay6 (it set them, the user made them) carry no tag and stay. */
export function renderUndo(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const all = [byTag(`relay6:${plan.site}:`)];
  const menus: Menu[] = [MANGLE, FILTER, BFD_CONFIG, BGP_CONNECTION, BGP_TEMPLATE, ...(caps.bgpInstance ? [BGP_INSTANCE] : []), ROUTE, ND, ADDR, PEERS, WG];
  return [
    header(plan, ctx, caps, [
      "undo. Removes every object whose comment starts with relay6:" + plan.site + ": - what relay6",
      "added - and nothing else. /ipv6/nd entries that existed before relay6 set them are left as",
      "they are (RouterOS keeps one per interface; relay6 cannot know their earlier values).",
      "Removing the WireGuard interface discards the router's private key.",
    ]),
    "",
    ...menus.map((m) => remove(m, all)),
    put(`relay6: removed the objects of site ${plan.site}.`),
    "",
  ].join("\n");
}

/** The recipe's router-side checks, each with the values a working relay shows. */
export function renderVerify(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const wg = plan.router.wgInterface;
  const out: string[] = [
    header(plan, ctx, caps, ["verification. Prints each check with what a working relay shows; lines starting FAIL need attention."]),
    "",
    put(`expect: peer ${objectNames(plan).peer} with a last-handshake under 3 minutes`),
    `${PEERS}/print detail where interface=${quote(wg)}`,
  ];
  if (plan.failover.mode === "bgp-bfd") {
    const f = plan.failover;
    out.push(
      put(`expect: state=up actual-tx-interval=${f.bfd.intervalMs}ms hold-time=${f.bfd.detectMs}ms`),
      "/routing/bfd/session/print",
      put(`expect: flag E (established) for ${objectNames(plan).connection}, prefix-count=1`),
      "/routing/bgp/session/print",
      put(`expect: exactly one ::/0, flags DAb, gateway ${plan.transit.vpsLinkLocal?.address ?? plan.transit.vps.address}%${wg}, distance=20`),
    );
  } else {
    out.push(put(`expect: exactly one ::/0, active, gateway ${plan.transit.vps.address}%${wg}, check-gateway=ping`));
  }
  out.push(
    `/ipv6/route/print where dst-address="::/0"`,
    `:if ([:len [${ROUTE}/find where dst-address="::/0"]] != 1) do={ :put "FAIL: expected exactly one ::/0 route" }`,
    put("expect: 3 replies from 2606:4700:4700::1111 (Cloudflare via the VPS)"),
    "/tool/ping address=2606:4700:4700::1111 count=3",
    "",
  );
  return out.join("\n");
}

export function renderAll(plan: Plan, ctx: RenderContext): Artifact[] {
  const release = plan.router.version ? parseRelease(plan.router.version) : undefined;
  if (!release) throw new Error("internal: routeros render called without a checked router.version");
  const caps = capabilitiesOf(release);
  const paths = routerScriptPaths(plan.site);
  const files: Artifact[] = [
    { path: paths.setup, content: renderSetup(plan, ctx, caps), mode: routerPrivateKey(plan, ctx) ? 0o600 : 0o644 },
    { path: paths.undo, content: renderUndo(plan, ctx, caps), mode: 0o644 },
  ];
  if (vpsPublicKey(plan, ctx)) files.push({ path: paths.verify, content: renderVerify(plan, ctx, caps), mode: 0o644 });
  return files;
}
