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
  const wg = plan.vps.tunnelInterface;
  const nic = plan.vps.nic;
  const rtr = plan.transit.router.address;
  const vps = plan.transit.vps.address;
  const rules: UfwRule[] = [
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

/** Default policies: deny incoming, allow outgoing, forward nothing a rule does not name. */
export const UFW_DEFAULTS = { incoming: "deny", outgoing: "allow", routed: "deny" } as const;

export function renderFirewallScript(plan: Plan): string {
  const lines = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "ufw rules for the relay; idempotent. Run as root."),
    "# Changing a default or enabling ufw reloads every rule, so each is done only when needed:",
    "# a reload on a live relay can cost BFD a packet or two.",
    "set -euo pipefail",
    "run() { printf '[#] %s\\n' \"$*\" >&2; \"$@\"; }",
    "# rule ARGS...: adds a rule unless `ufw show added` lists it already: one ufw call for",
    "# all the rules (each ufw run costs a tenth of a second); a rule ufw prints differently",
    "# is just added again, and ufw skips it.",
    "added=$(ufw show added)",
    "rule() {",
    '  local shown="ufw" prev="" a',
    "  for a in \"$@\"; do if [ \"$prev\" = comment ]; then shown+=\" '$a'\"; else shown+=\" $a\"; fi; prev=$a; done",
    '  grep -qxF -- "$shown" <<< "$added" || run ufw "$@"',
    "}",
    "status=$(ufw status verbose)",
  ];
  // The policies as ufw keeps them (status output hides them while ufw is inactive).
  for (const [dir, policy] of Object.entries(UFW_DEFAULTS)) {
    const key = { incoming: "DEFAULT_INPUT_POLICY", outgoing: "DEFAULT_OUTPUT_POLICY", routed: "DEFAULT_FORWARD_POLICY" }[dir];
    const value = policy === "deny" ? "DROP" : "ACCEPT";
    lines.push(`grep -q '^${key}="${value}"' /etc/default/ufw || run ufw default ${policy} ${dir}`);
  }
  lines.push("");
  for (const r of ufwRules(plan)) lines.push(`# ${commentText(r.why)}`, `rule ${r.args.map(shQuote).join(" ")}`);
  lines.push(
    "",
    "# Active from here on: default deny incoming (SSH stays open: its rule came first).",
    'case "$status" in *"Status: active"*) ;; *) run ufw --force enable ;; esac',
    "",
  );
  return lines.join("\n");
}
