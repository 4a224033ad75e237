// ip6tables rules, in chains relay6 owns (RELAY6-IN, RELAY6-FWD, RELAY6-MSS) hooked into the
// built-in chains, so that a router's other rules stay as they are. The rules, as shell
// lines for relay6-router-net (which flushes and refills the chains: idempotent).
import type { Plan } from "../../plan/plan.js";

export function renderFirewall(plan: Plan): string[] {
  const wg = plan.router.tunnelInterface;
  const vps = plan.transit.vps.address;
  const vpsLl = plan.transit.vpsLinkLocal?.address;
  const lines: string[] = [];
  const r = (chain: string, rule: string) =>
    lines.push(`ip6tables${chain === "RELAY6-MSS" ? " -t mangle" : ""} -A ${chain} ${rule}`);

  // input: from the tunnel only what the relay needs, unless the site accepts everything.
  r("RELAY6-IN", `-i ${wg} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
  r("RELAY6-IN", `-i ${wg} -p ipv6-icmp -j ACCEPT`);
  if (plan.failover.mode === "bgp-bfd") {
    for (const src of [vps, ...(vpsLl ? [vpsLl] : [])]) {
      r("RELAY6-IN", `-i ${wg} -s ${src} -p tcp --dport 179 -j ACCEPT`);
      r("RELAY6-IN", `-i ${wg} -s ${src} -p udp -m multiport --dports 3784,3785 -j ACCEPT`);
    }
  }
  r("RELAY6-IN", `-i ${wg} -j ${plan.router.acceptAllFromTunnel ? "ACCEPT" : "DROP"}`);

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
  return lines;
}
