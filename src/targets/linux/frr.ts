// FRR (bgpd + bfdd) against bird on the VPS. Two independent BGP/BFD implementations, as
// bird and RouterOS are in the recipe. What matters, and why:
//   - `no bgp ebgp-requires-policy`: FRR 8 otherwise neither sends nor accepts a route
//     from an eBGP peer without a policy; the prefix-lists below are that policy anyway.
//   - `bfd profile`: the plan's BFD timers; BFD down tears the session down at once.
//   - `timers connect 1`: retry the TCP session every second once BFD is back, instead
//     of FRR's 120 s default.
//   - no `exit` lines: each daemon started with -f reads the whole file, and an `exit`
//     after a block it does not know (bgpd and `bfd`) would leave config mode.
//   - only ::/0 is accepted from the VPS, nothing is sent to it: the VPS routes the
//     segments by its AllowedIPs, not by BGP.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

export const FRR_BFD_PROFILE = "relay6";

export function renderFrrConf(plan: Plan): string {
  const f = plan.failover;
  if (f.mode !== "bgp-bfd") throw new Error("internal: frr.conf rendered for a static-failover plan");
  const peer = plan.transit.vps.address;
  return (
    [
      ...header(plan, "!", "FRR bgpd + bfdd on the router: BGP + BFD to the VPS, ::/0 in, nothing out."),
      "frr defaults traditional",
      `hostname ${plan.site}-router`,
      "log syslog informational",
      "!",
      `ipv6 prefix-list relay6-default-only seq 5 permit ::/0`,
      `ipv6 prefix-list relay6-default-only seq 10 deny any`,
      `ipv6 prefix-list relay6-nothing seq 5 deny any`,
      "!",
      "bfd",
      ` profile ${FRR_BFD_PROFILE}`,
      `  detect-multiplier ${f.bfd.multiplier}`,
      `  receive-interval ${f.bfd.intervalMs}`,
      `  transmit-interval ${f.bfd.intervalMs}`,
      "!",
      `router bgp ${f.routerAs}`,
      ` bgp router-id ${f.routerRouterId}`,
      " no bgp ebgp-requires-policy",
      " no bgp default ipv4-unicast",
      ` neighbor ${peer} remote-as ${f.vpsAs}`,
      ` neighbor ${peer} description VPS of ${commentText(plan.site)}`,
      ` neighbor ${peer} update-source ${plan.transit.router.address}`,
      ` neighbor ${peer} bfd`,
      ` neighbor ${peer} bfd profile ${FRR_BFD_PROFILE}`,
      ` neighbor ${peer} timers connect 1`,
      " !",
      " address-family ipv6 unicast",
      `  neighbor ${peer} activate`,
      `  neighbor ${peer} prefix-list relay6-default-only in`,
      `  neighbor ${peer} prefix-list relay6-nothing out`,
      " exit-address-family",
      "!",
    ].join("\n") + "\n"
  );
}

/** The daemons FRR must run; setup.sh turns these on in /etc/frr/daemons. */
export function renderFrrDaemons(plan: Plan): string {
  return [...header(plan, "#", "FRR daemons relay6 needs (turned on in /etc/frr/daemons by setup.sh)."), "bgpd=yes", "bfdd=yes"].join("\n") + "\n";
}
