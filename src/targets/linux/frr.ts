// FRR (bgpd + bfdd) against bird on the VPS. Two independent BGP/BFD implementations, as
// bird and RouterOS are in the recipe. What matters, and why:
//   - `no bgp ebgp-requires-policy`: FRR 8 otherwise neither sends nor accepts a route
//     from an eBGP peer without a policy; the prefix-lists below are that policy anyway.
//   - `bfd profile`: the plan's BFD timers; BFD down tears the session down at once.
//   - `passive-mode` in the BFD profile: bfdd answers the VPS's first BFD packet at once
//     instead of at its next slow-rate packet (RFC 5880 6.8.3: at most 1/s while not Up),
//     so BFD is Up about one round trip after the tunnel is back, and bgpd (Idle) connects
//     on BFD Up. bird probes actively (its explicit BFD neighbor), so one passive end is
//     enough; two passive ends would never bring BFD up.
//   - `timers connect 1`: retry the TCP session every second (FRR's floor), instead of
//     FRR's 120 s default.
//   - the transit /64 is announced to the VPS, and `coalesce-time 0` sends it as soon as
//     the session is Established. bird drops it (`import none`); it is there because
//     bird before 2.14 sends its own UPDATE (::/0) only at its next main-loop wake-up
//     (up to its 1 s interface scan): a message from the router is such a wake-up.
//   - no `exit` lines: each daemon started with -f reads the whole file, and an `exit`
//     after a block it does not know (bgpd and `bfd`) would leave config mode.
//   - only ::/0 is accepted from the VPS, nothing but the transit /64 is sent to it: the
//     VPS routes the segments by its AllowedIPs, not by BGP.
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
      ...header(plan, "!", "FRR bgpd + bfdd on the router: BGP + BFD to the VPS, ::/0 in, the transit /64 out."),
      "frr defaults traditional",
      `hostname ${plan.site}-router`,
      "log syslog informational",
      "!",
      `ipv6 prefix-list relay6-default-only seq 5 permit ::/0`,
      `ipv6 prefix-list relay6-default-only seq 10 deny any`,
      `ipv6 prefix-list relay6-transit-only seq 5 permit ${plan.transit.prefix}`,
      `ipv6 prefix-list relay6-transit-only seq 10 deny any`,
      "!",
      "bfd",
      ` profile ${FRR_BFD_PROFILE}`,
      `  detect-multiplier ${f.bfd.multiplier}`,
      `  receive-interval ${f.bfd.intervalMs}`,
      `  transmit-interval ${f.bfd.intervalMs}`,
      "  passive-mode",
      "!",
      `router bgp ${f.routerAs}`,
      ` bgp router-id ${f.routerRouterId}`,
      " no bgp ebgp-requires-policy",
      " no bgp default ipv4-unicast",
      " coalesce-time 0",
      ` neighbor ${peer} remote-as ${f.vpsAs}`,
      ` neighbor ${peer} description VPS of ${commentText(plan.site)}`,
      // A link-local peer needs its interface; the numbered form, not `neighbor wg0
      // interface` (unnumbered waits for RAs bird never sends, and stays Idle).
      plan.transit.kind === "link-local" ? ` neighbor ${peer} interface ${plan.router.tunnelInterface}` : ` neighbor ${peer} update-source ${plan.transit.router.address}`,
      ` neighbor ${peer} bfd`,
      ` neighbor ${peer} bfd profile ${FRR_BFD_PROFILE}`,
      ` neighbor ${peer} timers connect 1`,
      " !",
      " address-family ipv6 unicast",
      `  network ${plan.transit.prefix}`,
      `  neighbor ${peer} activate`,
      `  neighbor ${peer} prefix-list relay6-default-only in`,
      `  neighbor ${peer} prefix-list relay6-transit-only out`,
      " exit-address-family",
      "!",
    ].join("\n") + "\n"
  );
}

/** The daemons FRR must run; setup.sh turns these on in /etc/frr/daemons. */
export function renderFrrDaemons(plan: Plan): string {
  return [...header(plan, "#", "FRR daemons relay6 needs (turned on in /etc/frr/daemons by setup.sh)."), "bgpd=yes", "bfdd=yes"].join("\n") + "\n";
}
