// Shared test inputs: the golden sites, a fixed render context, and the firewall a
// RouterOS router ships with (defconf), written as the commands that create it.
import path from "node:path";
import type { Plan } from "../../src/plan/plan.js";
import { buildPlan, loadSite } from "../../src/pipeline.js";
import type { RenderContext } from "../../src/render/types.js";
import { routerosTarget } from "../../src/targets/routeros/index.js";
import { repoRoot } from "./tree.js";
import { RouterModel } from "./model.js";

/** Fixed keys so the goldens are stable: the VPS's public half goes into the peer, the
 *  router's private key into the interface (keys: relay6). */
export const TEST_VPS_PRIVATE_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
export const TEST_ROUTER_PRIVATE_KEY = "4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=";
export const ctx: RenderContext = { secrets: { vpsPrivateKey: TEST_VPS_PRIVATE_KEY, routerPrivateKey: TEST_ROUTER_PRIVATE_KEY }, version: "0.0.0-test" };
export const ctxNoSecrets: RenderContext = { secrets: {}, version: "0.0.0-test" };

export const GOLDEN_SITES = {
  "recipe-home": { file: path.join(repoRoot, "examples/recipe-home.yaml"), ctx },
  "static-inbound": { file: path.join(repoRoot, "test/routeros/sites/static-inbound.yaml"), ctx: ctxNoSecrets },
  "device-step1": { file: path.join(repoRoot, "test/routeros/sites/device-step1.yaml"), ctx: ctxNoSecrets },
  "onlink-64": { file: path.join(repoRoot, "test/routeros/sites/onlink-64.yaml"), ctx },
  "routed-64": { file: path.join(repoRoot, "test/routeros/sites/routed-64.yaml"), ctx },
  "ula-transit": { file: path.join(repoRoot, "test/routeros/sites/ula-transit.yaml"), ctx },
} as const;

export function planFor(file: string, version?: string, patch: (p: Plan) => Plan = (p) => p): Plan {
  const site = loadSite(file).site;
  const plan = buildPlan(version ? { ...site, router: { ...site.router, version } } : site);
  return patch(plan);
}

export function render(plan: Plan, c: RenderContext = ctx): Record<"setup" | "undo" | "verify", string | undefined> {
  const files = routerosTarget.render(plan, c);
  const by = (suffix: string) => files.find((f) => f.path.endsWith(suffix))?.content;
  return { setup: by(`relay6-${plan.site}.rsc`), undo: by("-undo.rsc"), verify: by("-verify.rsc") };
}

/** RouterOS 7 defconf's IPv6 firewall and RA (the parts relay6's rules meet), as the public
 *  7.x exports list it (the same rules, in the same order, as the REST model's defconf seed). */
export const DEFCONF = `
/ipv6/nd/add interface=all advertise-dns=yes
/ipv6/firewall/filter/add chain=input action=accept connection-state=established,related,untracked comment="defconf: accept established,related,untracked"
/ipv6/firewall/filter/add chain=input action=drop connection-state=invalid comment="defconf: drop invalid"
/ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 comment="defconf: accept ICMPv6"
/ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=33434-33534 comment="defconf: accept UDP traceroute"
/ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=546 src-address=fe80::/10 comment="defconf: accept DHCPv6-Client prefix delegation."
/ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=500,4500 comment="defconf: accept IKE"
/ipv6/firewall/filter/add chain=input action=accept protocol=ipsec-ah comment="defconf: accept ipsec AH"
/ipv6/firewall/filter/add chain=input action=accept protocol=ipsec-esp comment="defconf: accept ipsec ESP"
/ipv6/firewall/filter/add chain=input action=accept ipsec-policy=in,ipsec comment="defconf: accept all that matches ipsec policy"
/ipv6/firewall/filter/add chain=input action=drop in-interface-list=!LAN comment="defconf: drop everything else not coming from LAN"
/ipv6/firewall/filter/add chain=forward action=accept connection-state=established,related,untracked comment="defconf: accept established,related,untracked"
/ipv6/firewall/filter/add chain=forward action=drop connection-state=invalid comment="defconf: drop invalid"
/ipv6/firewall/filter/add chain=forward action=drop src-address-list=bad_ipv6 comment="defconf: drop packets with bad src ipv6"
/ipv6/firewall/filter/add chain=forward action=drop protocol=icmpv6 hop-limit=equal:1 comment="defconf: rfc4890 drop hop-limit=1"
/ipv6/firewall/filter/add chain=forward action=accept protocol=icmpv6 comment="defconf: accept ICMPv6"
/ipv6/firewall/filter/add chain=forward action=accept protocol=139 comment="defconf: accept HIP"
/ipv6/firewall/filter/add chain=forward action=accept protocol=udp dst-port=500,4500 comment="defconf: accept IKE"
/ipv6/firewall/filter/add chain=forward action=accept protocol=ipsec-ah comment="defconf: accept ipsec AH"
/ipv6/firewall/filter/add chain=forward action=accept protocol=ipsec-esp comment="defconf: accept ipsec ESP"
/ipv6/firewall/filter/add chain=forward action=accept ipsec-policy=in,ipsec comment="defconf: accept all that matches ipsec policy"
/ipv6/firewall/filter/add chain=forward action=drop in-interface-list=!LAN comment="defconf: drop everything else not coming from LAN"
`;

export const LAN_INTERFACES = ["bridge", "vlan10", "vlan11", "vlan20"];

/** A router running `release` (what `/system/resource/get version` answers), with defconf. */
export function freshRouter(release: string, withDefconf = true): RouterModel {
  const m = new RouterModel(["ether1", ...LAN_INTERFACES], release);
  if (withDefconf) m.import(DEFCONF);
  m.output = [];
  return m;
}
