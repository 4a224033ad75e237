import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";

export function renderSysctl(plan: Plan): string {
  const lines = [
    ...header(plan, "#", "IPv6 forwarding on the router, between the tunnel and the segments."),
    "net.ipv6.conf.all.forwarding = 1",
    "net.ipv6.conf.default.forwarding = 1",
  ];
  if (plan.router.wan) {
    // Forwarding turns RA processing off; 2 keeps the ISP's RA (if any) on the WAN.
    lines.push(`net.ipv6.conf.${plan.router.wan.replace(/\./g, "/")}.accept_ra = 2`);
  }
  const own = plan.vps.ownAddress;
  if (own) {
    const dev = own.interface.replace(/\./g, "/");
    lines.push(
      `# The router answers LAN hosts' solicitations for the VPS's own address ${own.address} (proxy entry`,
      "# in relay6-router-net). Unicast solicitations (NUD) take the forwarding path, which reads",
      "# conf.all; proxy_delay 0 answers at once instead of after up to 0.8 s.",
      "net.ipv6.conf.all.proxy_ndp = 1",
      `net.ipv6.conf.${dev}.proxy_ndp = 1`,
      `net.ipv6.neigh.${dev}.proxy_delay = 0`,
    );
  }
  return lines.join("\n") + "\n";
}
