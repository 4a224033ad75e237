// The lab's network: one namespace per node (inet, vps, and per site a router with one
// client per segment), the veth links between them, and the addresses and routes the
// provider and the ISPs would give. Nothing of relay6's runs yet when this is done. A relay
// of several sites has one router node per site (rtr, rtr2, rtr3...), each behind its own
// IPv4-only ISP link from inet (100.64.<i>.0/24).
//
//      internet host 2001:db8:ffff::100 (namespace host, behind inet's hst0: inet only
//      forwards to it, so inet's neighbour entries age as a provider router's do)
//   ┌──────────── inet ────────────┐  the provider (routed /48, on-link or routed /64:
//   │                              │  provider.ts); the router's IPv4 ISP
//   │ vps0                 rtr0     │
//   └──┬────────────────────┬──────┘
//      │ IPv4 + IPv6         │ IPv4 only (an IPv4-only ISP)
//   ┌──┴── vps ──┐       ┌───┴──── rtr ─────┐
//   │ <nic>  wg0 ├─ WireGuard over IPv4 ───┤ wg0  <wan>        │
//   │ bird, ufw  │       │ FRR, radvd       │
//   └────────────┘       └──┬────────────┬──┘
//                     <segment 1 if>  <segment 2 if> ...
//                        ┌──┴──┐      ┌──┴──┐
//                        │ c1  │      │ c2  │  SLAAC hosts
//                        └─────┘      └─────┘
import { EXIT, UserError } from "../errors.js";
import { containsAddress, formatAddress6, hostAddress, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import type { RelayPlan } from "../plan/relay.js";
import { LabError, must } from "./exec.js";
import { ipIn, nsMust, nsOf } from "./nodes.js";
import { providerOf, VPS_NIC_MAC } from "./provider.js";
import { clientRole, routerRole, saveState, type LabClient, type LabNode, type LabSite, type LabState } from "./state.js";
import { addInternetIpv4, addSiteIpv4, INTERNET_HOST4 } from "./ipv4.js";

/** The internet host: documentation space outside the site's prefix. */
export const INTERNET_HOST = "2001:db8:ffff::100";
const INTERNET_HOST_ALT = "3fff:ffff::100";

function internetHostFor(plan: Pick<RelayPlan, "prefix">): string {
  const p = parsePrefix6(plan.prefix);
  const a = parseAddress6(INTERNET_HOST)!;
  return p.ok && containsAddress(p.prefix, a) ? INTERNET_HOST_ALT : INTERNET_HOST;
}

/** The router's IPv4 underlay (its "ISP"): shared address space, RFC 6598. */
export const ROUTER_UNDERLAY = { address: "100.64.0.2", gateway: "100.64.0.1", length: 24 };

/** Site number `i`'s router underlay: the first site's is ROUTER_UNDERLAY, on inet's rtr0. */
export function routerUnderlay(i: number): LabSite["underlay"] {
  if (i === 0) return { address: ROUTER_UNDERLAY.address, gateway: ROUTER_UNDERLAY.gateway, inetIf: "rtr0" };
  return { address: `100.64.${i}.2`, gateway: `100.64.${i}.1`, inetIf: `u-${routerRole(i)}` };
}

function underlayOf(plan: Pick<RelayPlan, "vps">): { vps: string; gateway: string; length: number } {
  const octets = plan.vps.endpoint.split(".").map(Number);
  const last = octets[3]!;
  const gw = [...octets.slice(0, 3), last === 1 ? 254 : 1].join(".");
  if (plan.vps.endpoint.startsWith("100.64."))
    throw new UserError(`vps.endpoint ${plan.vps.endpoint} is in 100.64.0.0/16, the lab's underlay for the routers`, [], EXIT.badInput, "pick another vps.endpoint for the lab (a copy of the file is fine)");
  return { vps: plan.vps.endpoint, gateway: gw, length: 24 };
}

/** The internet host's namespace: a host behind inet, not an address of inet itself. */
export const INTERNET_ROLE = "host";

/** One site's nodes in the topology. */
export interface SiteNodes {
  rtr: LabNode;
  clients: LabClient[];
  underlay: LabSite["underlay"];
}

/** Makes the namespaces, links and addresses; records nodes and addresses in `state`. */
export async function buildTopology(state: LabState, relay: RelayPlan, log: (l: string) => void): Promise<{ sites: SiteNodes[]; vpsUnderlay: string; internetHost: string }> {
  const sites: SiteNodes[] = relay.sites.map((plan, i) => ({
    rtr: { role: routerRole(i), ns: nsOf(state, routerRole(i)) },
    clients: plan.segments.map((s, j) => ({
      role: clientRole(i, j),
      ns: nsOf(state, clientRole(i, j)),
      segment: s.name,
      prefix: s.prefix,
      routerIf: s.interface,
      ...(s.global === false ? { global: false as const } : {}),
    })),
    underlay: routerUnderlay(i),
  }));
  const clients = sites.flatMap((x) => x.clients);
  const roles = ["inet", INTERNET_ROLE, "vps", ...sites.flatMap((x) => [x.rtr.role, ...x.clients.map((c) => c.role)])];
  state.nodes = {
    inet: { role: "inet", ns: nsOf(state, "inet") },
    host: { role: INTERNET_ROLE, ns: nsOf(state, INTERNET_ROLE) },
    vps: { role: "vps", ns: nsOf(state, "vps") },
    rtr: sites[0]!.rtr,
    clients: sites[0]!.clients,
  };
  const under = underlayOf(relay);
  const nic = relay.vps.nic;
  const provider = providerOf(relay);
  const vpsNic = provider.vpsCidr;
  const vpsNicAddr = provider.vpsAddress;
  const gw6 = relay.vps.upstream?.gateway ?? "fe80::1";
  const internetHost = internetHostFor(relay);
  state.addresses = {
    internetHost,
    internetHost4: INTERNET_HOST4,
    vpsNic: vpsNicAddr,
    vpsUnderlay: under.vps,
    routerUnderlay: ROUTER_UNDERLAY.address,
  };

  // --- namespaces and links ---------------------------------------------------------
  log(`namespaces: ${roles.map((r) => nsOf(state, r)).join(" ")}`);
  for (const r of roles) {
    state.namespaces.push(nsOf(state, r));
    saveState(state);
    await must(["ip", "netns", "add", nsOf(state, r)]);
    await ipIn(state, r, ["link", "set", "lo", "up"]);
  }
  const sysctl = (role: string, ...kv: string[]) => nsMust(state, role, ["sysctl", "-q", ...kv.flatMap((x) => ["-w", x])]);
  // Clients: SLAAC hosts whose addresses are usable at once (no DAD wait).
  for (const c of clients)
    await sysctl(
      c.role,
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.default.accept_ra=1",
      // The first router solicitation goes out at link up, before radvd runs; the kernel's
      // next one would wait 4 s.
      "net.ipv6.conf.default.router_solicitation_interval=1",
      // Route information options (the ULA /48 the RA drain leaves reachable): Linux takes
      // none unless told the longest prefix it may (the default is 0).
      "net.ipv6.conf.default.accept_ra_rt_info_max_plen=48",
    );
  const veth = (aRole: string, aIf: string, bRole: string, bIf: string) =>
    must(["ip", "link", "add", aIf, "netns", nsOf(state, aRole), "type", "veth", "peer", "name", bIf, "netns", nsOf(state, bRole)]);
  // The VPS's NIC has a fixed MAC: its link-local is known (a routed /64 is routed to it).
  await must(["ip", "link", "add", "vps0", "netns", nsOf(state, "inet"), "type", "veth", "peer", "name", nic, "netns", nsOf(state, "vps"), "address", VPS_NIC_MAC]);
  await veth("inet", "hst0", INTERNET_ROLE, "eth0");
  for (const [i, x] of sites.entries()) {
    await veth("inet", x.underlay.inetIf, x.rtr.role, relay.sites[i]!.router.wan ?? "wan0");
    for (const c of x.clients) await veth(x.rtr.role, c.routerIf, c.role, "eth0");
  }

  // --- inet: the provider's gateway, the router's ISP and an internet host -------------
  const ip = async (role: string, ...args: string[]) => {
    const r = await ipIn(state, role, args);
    if (r.code !== 0) throw new LabError(`[${nsOf(state, role)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  await sysctl("inet", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", ...sites.map((x) => `net.ipv6.conf.${x.underlay.inetIf}.disable_ipv6=1`));
  // The internet host: its own namespace on inet's hst0 (its /64, inet ::1 and fe80::1).
  await ip(INTERNET_ROLE, "addr", "add", `${internetHost}/64`, "dev", "eth0", "nodad");
  await ip(INTERNET_ROLE, "link", "set", "eth0", "up");
  await ip(INTERNET_ROLE, "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0", "onlink");
  await ip("inet", "addr", "add", "fe80::1/64", "dev", "hst0", "nodad");
  await ip("inet", "addr", "add", hostGateway(internetHost), "dev", "hst0", "nodad");
  await ip("inet", "link", "set", "hst0", "up");
  await ip("inet", "addr", "add", `${under.gateway}/${under.length}`, "dev", "vps0");
  for (const x of sites) await ip("inet", "addr", "add", `${x.underlay.gateway}/${ROUTER_UNDERLAY.length}`, "dev", x.underlay.inetIf);
  await ip("inet", "addr", "add", `${gw6}/${gw6.startsWith("fe80") ? 64 : 128}`, "dev", "vps0", "nodad");
  for (const l of ["vps0", ...sites.map((x) => x.underlay.inetIf)]) await ip("inet", "link", "set", l, "up");
  // The provider's part, per kind (provider.ts).
  for (const a of provider.inetAddrs) await ip("inet", "addr", "add", a, "dev", "vps0", "nodad");
  for (const r of provider.inetRoutes) await ip("inet", "-6", "route", "add", ...r);

  // --- vps: the provider's part (its own address on the NIC, default route) ------------
  await ip("vps", "addr", "add", `${under.vps}/${under.length}`, "dev", nic);
  await ip("vps", "addr", "add", vpsNic, "dev", nic, "nodad");
  await ip("vps", "link", "set", nic, "up");
  await ip("vps", "route", "add", "default", "via", under.gateway);
  await ip("vps", "-6", "route", "add", "default", "via", gw6, "dev", nic, "onlink");

  // --- each router: WAN (IPv4 only) and the segments' links ------------------------------
  // IPv4 beside the relay: a dual-stack internet host, NAT44 for each site's clients.
  await addInternetIpv4(state, INTERNET_ROLE);
  for (const [i, x] of sites.entries()) {
    const wan = relay.sites[i]!.router.wan ?? "wan0";
    await ip(x.rtr.role, "addr", "add", `${x.underlay.address}/${ROUTER_UNDERLAY.length}`, "dev", wan);
    await ip(x.rtr.role, "link", "set", wan, "up");
    await ip(x.rtr.role, "route", "add", "default", "via", x.underlay.gateway);
    for (const c of x.clients) await ip(x.rtr.role, "link", "set", c.routerIf, "up");
    await addSiteIpv4(state, i, x.rtr.role, x.clients, wan, internetHost);
  }
  return { sites, vpsUnderlay: under.vps, internetHost };
}

/** inet's address in the internet host's /64: ::1 of it. */
function hostGateway(host: string): string {
  const p = parsePrefix6(`${host}/64`);
  if (!p.ok) throw new Error(`internal: ${host}`);
  return `${formatAddress6(hostAddress(p.prefix, 1n))}/64`;
}
