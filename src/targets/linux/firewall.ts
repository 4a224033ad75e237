// ip6tables rules, in chains relay6 owns (RELAY6-IN, RELAY6-FWD, RELAY6-SRC, RELAY6-MSS)
// hooked into the built-in chains, so that a router's other rules stay as they are. The
// rules in ip6tables-restore syntax, per table: relay6-router-net loads each table's
// chains in one transaction (all of them, or none: a failure leaves the old rules).
import type { Plan } from "../../plan/plan.js";

/** relay6's chains: [table, chain, the built-in chain it is hooked into (first)]. The
 *  source check is called from RELAY6-FWD, not hooked. */
export const RELAY6_CHAINS: [table: "filter" | "mangle", chain: string, parent: string | undefined][] = [
  ["filter", "RELAY6-IN", "INPUT"],
  ["filter", "RELAY6-FWD", "FORWARD"],
  ["filter", "RELAY6-SRC", undefined],
  ["mangle", "RELAY6-MSS", "FORWARD"],
];

export interface FirewallRules {
  filter: string[];
  mangle: string[];
}

export function renderFirewall(plan: Plan): FirewallRules {
  const wg = plan.router.tunnelInterface;
  const vps = plan.transit.vps.address;
  const vpsLl = plan.transit.vpsLinkLocal?.address;
  const filter: string[] = [];
  const mangle: string[] = [];
  const r = (chain: string, rule: string) => (chain === "RELAY6-MSS" ? mangle : filter).push(`-A ${chain} ${rule}`);

  // input: from the tunnel only what the relay needs, unless the site accepts everything.
  r("RELAY6-IN", `-i ${wg} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
  r("RELAY6-IN", `-i ${wg} -p ipv6-icmp -j ACCEPT`);
  if (plan.failover.mode === "bgp-bfd") {
    for (const src of [vps, ...(vpsLl ? [vpsLl] : [])]) {
      r("RELAY6-IN", `-i ${wg} -s ${src} -p tcp --dport 179 -j ACCEPT`);
      r("RELAY6-IN", `-i ${wg} -s ${src} -p udp -m multiport --dports 3784,3785 -j ACCEPT`);
    }
  }
  // router.management.fromVps: SSH through the tunnel from the VPS's transit address only.
  const mgmt = plan.router.management;
  if (mgmt) r("RELAY6-IN", `-i ${wg} -s ${mgmt.from} -p tcp --dport ${mgmt.port} -m comment --comment "relay6 management from the VPS" -j ACCEPT`);
  r("RELAY6-IN", `-i ${wg} -j ${plan.router.acceptAllFromTunnel ? "ACCEPT" : "DROP"}`);

  // Into the tunnel only from the site's own global /64s: a ULA, a stale or a foreign
  // source is refused at once with ICMPv6 1/5 (source address failed ingress/egress
  // policy), so the host tries another source instead of waiting for a timeout (the VPS
  // would drop it silently: WireGuard's AllowedIPs).
  r("RELAY6-FWD", `-o ${wg} -j RELAY6-SRC`);
  for (const s of plan.segments) r("RELAY6-SRC", `-s ${s.prefix} -j RETURN`);
  r("RELAY6-SRC", `-j REJECT --reject-with icmp6-policy-fail`);

  // forward: the internet may answer, and may open only the segments' inbound services.
  r("RELAY6-FWD", `-i ${wg} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
  r("RELAY6-FWD", `-i ${wg} -m conntrack --ctstate INVALID -j DROP`);
  // RFC 4890: errors (packet-too-big above all) and echo pass; they carry no new flow.
  r("RELAY6-FWD", `-i ${wg} -p ipv6-icmp -j ACCEPT`);
  for (const s of plan.segments) {
    for (const svc of s.inbound) {
      const dst = svc.host ? `${svc.host}/128` : s.prefix;
      r("RELAY6-FWD", `-i ${wg} -o ${s.interface} -d ${dst} -p ${svc.proto} --dport ${svc.port} -m comment --comment "inbound ${s.name}/${svc.name}" -j ACCEPT`);
    }
  }
  r("RELAY6-FWD", `-i ${wg} -j DROP`);

  if (plan.clampMss) {
    // --set-mss, not --clamp-to-pmtu: on the way in the LAN's MTU (1500) is what
    // clamp-to-pmtu would see, and the tunnel's limit would never be applied.
    const mss = plan.wireguard.mss;
    for (const dir of [`-o ${wg}`, `-i ${wg}`])
      r("RELAY6-MSS", `${dir} -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss ${mss + 1}:65535 -j TCPMSS --set-mss ${mss}`);
  }
  return { filter, mangle };
}
