// ufw on the VPS, ACTIVE with default deny incoming. The recipe opens only the WireGuard
// port: with ufw enabled, BGP (TCP 179) and BFD (UDP 3784) from the tunnel are dropped and
// the router loses its default route within seconds. And its `ufw route allow out on wg0`
// lets any internet host open connections to every LAN host. Here: exactly the openings
// the relay needs, and forwarding into wg0 only for what LAN hosts started (ufw's own
// RELATED,ESTABLISHED rule) plus the ICMPv6 ufw's before6.rules passes (packet-too-big,
// unreachable, time-exceeded, parameter-problem, echo), plus named inbound services.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText, shQuote } from "../../render/quote.js";

export interface UfwRule {
  /** Arguments after `ufw`, each one shell word. */
  args: string[];
  why: string;
}

export function ufwRules(plan: Plan): UfwRule[] {
  const tag = (what: string) => `relay6 ${plan.site}: ${what}`;
  const wg = plan.vps.wgInterface;
  const nic = plan.vps.nic;
  const rtr = plan.transit.router.address;
  const vps = plan.transit.vps.address;
  const rules: UfwRule[] = [
    { args: ["default", "deny", "incoming"], why: "default deny incoming" },
    { args: ["default", "allow", "outgoing"], why: "the VPS may reach out" },
    { args: ["default", "deny", "routed"], why: "forward nothing unless a rule says so" },
    {
      args: ["allow", `${plan.vps.ssh.port}/tcp`, "comment", tag("ssh")],
      why: "keep SSH open before the firewall goes active",
    },
    {
      args: ["allow", `${plan.wireguard.port}/udp`, "comment", tag("WireGuard")],
      why: "the router dials in",
    },
  ];
  if (plan.failover.mode === "bgp-bfd") {
    rules.push(
      {
        args: ["allow", "in", "on", wg, "from", rtr, "to", vps, "port", "179", "proto", "tcp", "comment", tag("BGP from the router")],
        why: "the router's BGP session",
      },
      {
        args: ["allow", "in", "on", wg, "from", rtr, "to", vps, "port", "3784", "proto", "udp", "comment", tag("BFD from the router")],
        why: "the router's BFD control packets",
      },
    );
  }
  rules.push({
    args: ["route", "allow", "in", "on", wg, "out", "on", nic, "comment", tag("LAN to internet")],
    why: "LAN hosts reach the internet; replies come back through ufw's RELATED,ESTABLISHED rule",
  });
  for (const seg of plan.segments)
    for (const svc of seg.inbound)
      rules.push({
        args: [
          "route", "allow", "in", "on", nic, "out", "on", wg,
          "to", svc.host ?? seg.prefix, "port", String(svc.port), "proto", svc.proto,
          "comment", tag(`inbound ${svc.name} (${seg.name})`),
        ],
        why: `inbound service ${svc.name} on segment ${seg.name}`,
      });
  return rules;
}

export function renderFirewallScript(plan: Plan): string {
  const lines = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "ufw rules for the relay; idempotent (ufw skips rules it has). Run as root."),
    "set -euo pipefail",
    "run() { printf '[#] %s\\n' \"$*\" >&2; \"$@\"; }",
    "",
  ];
  for (const r of ufwRules(plan)) lines.push(`# ${commentText(r.why)}`, `run ufw ${r.args.map(shQuote).join(" ")}`);
  lines.push("", "# Active from here on: default deny incoming.", "run ufw --force enable", "");
  return lines.join("\n");
}
