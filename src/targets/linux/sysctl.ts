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
  return lines.join("\n") + "\n";
}
