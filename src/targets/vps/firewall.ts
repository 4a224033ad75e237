// ufw on the VPS, ACTIVE with default deny incoming. The recipe opens only the WireGuard
// port: with ufw enabled, BGP (TCP 179) and BFD (UDP 3784) from the tunnel are dropped and
// the router loses its default route within seconds. And its `ufw route allow out on wg0`
// lets any internet host open connections to every LAN host. Here: exactly the openings
// the relay needs, and forwarding into wg0 only for what LAN hosts started (ufw's own
// RELATED,ESTABLISHED rule) plus the ICMPv6 ufw's before6.rules passes (packet-too-big,
// unreachable, time-exceeded, parameter-problem, echo), plus named inbound services.
// Out of the NIC only from the site's own global addresses: a ULA (or any other source a
// misconfigured AllowedIPs lets through) never reaches the internet.
//
// No lockout: before a default changes or ufw goes active, the script allows every port
// sshd listens on (`sshd -T`) and the port of the SSH session running it: behind a NAT
// port map vps.ssh.port is the OUTSIDE port and names nothing on the VPS itself.
//
// Under a relay the sites are isolated from each other as from the internet: nothing
// forwards from wg0 back into wg0 (the routed default is deny) except replies and each
// site's named inbound services, which the other sites may open as internet hosts may.
//
// Every rule relay6 adds carries the comment `relay6 <relay>: ...` (a standalone site is
// the relay of one, named after the site; under a relay file a site's own rules read
// `relay6 <relay>: <site>: ...`), so pruning removes what a removed site, segment or
// service left and never touches another relay's rules. A rule ufw already holds without
// that tag is the user's: ufw would re-tag it if relay6 added it again (it updates the
// comment of an identical rule), so relay6 leaves it alone, and never deletes a rule it
// did not add.
import type { Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";
import { commentText, shQuote } from "../../render/quote.js";

export interface UfwRule {
  /** Arguments after `ufw`, each one shell word, without the comment. */
  args: string[];
  /** The comment after the relay's tag. */
  tag: string;
  why: string;
}

/** The comment prefix of every ufw rule relay6 adds for this relay (a standalone site's
 *  relay is named after the site). */
export const ufwTag = (relay: RelayPlan) => `relay6 ${relay.relay}: `;

/** The tag of the SSH rules: firewall.sh never prunes those, undo.sh keeps them while ufw stays active. */
export const SSH_TAG = "ssh";

/** The sources the VPS forwards from wg0 out of its NIC for one site: its segments'
 *  global /64s and its router's transit address. Never the AllowedIPs as such
 *  (vps.allowedIps may be overridden) and never a ULA. */
export function forwardSources(plan: Plan): string[] {
  return [`${plan.transit.router.address}/128`, ...plan.segments.map((s) => s.prefix)];
}

/** A source as ufw prints it in `ufw show added` (a /128 without its length): the rule
 *  must be written that way, or firewall.sh would not recognise it as already there. */
const ufwAddress = (p: string) => p.replace(/\/128$/, "");

/** The rules after the SSH ones (which firewall.sh finds on the VPS itself). A site's own
 *  rules name it after the relay's tag under a relay file (a standalone site is its relay). */
export function ufwRules(relay: RelayPlan): UfwRule[] {
  const wg = relay.vps.tunnelInterface;
  const nic = relay.vps.nic;
  const vps = relay.transit.vps.address;
  const own = (plan: Plan, what: string) => (relay.kind === "relay" ? `${plan.site}: ${what}` : what);
  const rules: UfwRule[] = [
    { args: ["allow", `${relay.wireguard.port}/udp`], tag: "WireGuard", why: relay.sites.length > 1 ? "the routers dial in" : "the router dials in" },
  ];
  for (const plan of relay.sites) {
    if (plan.failover.mode !== "bgp-bfd") continue;
    const rtr = plan.transit.router.address;
    rules.push(
      { args: ["allow", "in", "on", wg, "from", rtr, "to", vps, "port", "179", "proto", "tcp"], tag: own(plan, "BGP from the router"), why: "the router's BGP session" },
      { args: ["allow", "in", "on", wg, "from", rtr, "to", vps, "port", "3784", "proto", "udp"], tag: own(plan, "BFD from the router"), why: "the router's BFD control packets" },
    );
  }
  for (const plan of relay.sites) {
    const names = ["the router", ...plan.segments.map((s) => s.name)];
    const of = relay.kind === "relay" ? ` of site ${plan.site}` : "";
    forwardSources(plan).forEach((src, i) =>
      rules.push({
        args: ["route", "allow", "in", "on", wg, "out", "on", nic, "from", ufwAddress(src)],
        tag: own(plan, `to internet from ${names[i]}`),
        why: `${names[i] === "the router" ? `the router's own transit address${of}` : `segment ${names[i]}${of}`} reaches the internet; replies come back through ufw's RELATED,ESTABLISHED rule`,
      }),
    );
  }
  const inbound = (from: string, what: string, why: string) =>
    relay.sites.flatMap((plan) =>
      plan.segments.flatMap((seg) =>
        seg.inbound.map((svc) => ({
          args: ["route", "allow", "in", "on", from, "out", "on", wg, "to", svc.host ?? seg.prefix, "port", String(svc.port), "proto", svc.proto],
          tag: own(plan, `inbound ${svc.name} (${seg.name})${what}`),
          why: `inbound service ${svc.name} on segment ${seg.name}${why}`,
        })),
      ),
    );
  rules.push(...inbound(nic, "", ""));
  // The other sites open a named service as internet hosts do; nothing else of theirs.
  if (relay.sites.length > 1) rules.push(...inbound(wg, " from the other sites", ", for the relay's other sites"));
  return rules;
}

/** Default policies: deny incoming, allow outgoing, forward nothing a rule does not name. */
export const UFW_DEFAULTS = { incoming: "deny", outgoing: "allow", routed: "deny" } as const;
export const UFW_POLICY_KEYS = { incoming: "DEFAULT_INPUT_POLICY", outgoing: "DEFAULT_OUTPUT_POLICY", routed: "DEFAULT_FORWARD_POLICY" } as const;

export function renderFirewallScript(relay: RelayPlan): string {
  const tag = ufwTag(relay);
  const lines = [
    "#!/usr/bin/env bash",
    ...header(relay, "#", "ufw rules for the relay; idempotent. Run as root."),
    "# Changing a default or enabling ufw reloads every rule, so each is done only when needed:",
    "# a reload on a live relay can cost BFD a packet or two.",
    "set -euo pipefail",
    "run() { printf '[#] %s\\n' \"$*\" >&2; \"$@\"; }",
    `tag=${shQuote(tag)}`,
    "added=$(ufw show added)",
    "wanted=()",
    "# rule TAG ARGS...: adds `ufw ARGS comment '<site tag>TAG'` unless ufw holds that rule",
    "# already (one `ufw show added` for all of them: each ufw run costs a tenth of a second).",
    "# Held with this site's tag: it is relay6's. Held without it: it is the user's (or another",
    "# site's); adding it again would re-tag it, so it is left as it is.",
    "rule() {",
    '  local what="$1" line; shift',
    '  local spec="ufw $*"',
    '  wanted+=("$spec")',
    "  while IFS= read -r line; do",
    `    [ "\${line%% comment \\'*}" = "$spec" ] || continue`,
    `    case "$line" in *" comment '$tag"*) return 0 ;; esac`,
    "    printf '[relay6] kept as it is (not relay6'\\''s): %s\\n' \"$line\" >&2",
    "    return 0",
    '  done <<< "$added"',
    '  run ufw "$@" comment "$tag$what"',
    "}",
    "",
    "# --- SSH first: nothing below may lock out the session running this, or the next one.",
    "# The ports sshd listens on (every `port` and `listenaddress` line of `sshd -T`), and the",
    "# server port of this session: behind a NAT port map vps.ssh.port is the outside port.",
    "ssh_ports=()",
    "add_port() {",
    '  local p="$1" q',
    '  [[ "$p" =~ ^[0-9]+$ ]] || return 0',
    '  for q in "${ssh_ports[@]}"; do [ "$q" = "$p" ] && return 0; done',
    '  ssh_ports+=("$p")',
    "}",
    "sshd=$(command -v sshd || echo /usr/sbin/sshd)",
    'if config=$("$sshd" -T 2>/dev/null); then',
    "  while read -r key value _; do",
    '    case "$key" in port) add_port "$value" ;; listenaddress) add_port "${value##*:}" ;; esac',
    '  done <<< "$config"',
    "fi",
    'sshd_ports=("${ssh_ports[@]}")',
    'if [ -n "${SSH_CONNECTION:-}" ]; then',
    "  read -r _ _ _ session_port _ <<< \"$SSH_CONNECTION\"",
    '  add_port "$session_port"',
    "fi",
    'if [ "${#sshd_ports[@]}" -eq 0 ]; then',
    `  add_port ${relay.vps.ssh.port}`,
    `  printf '[relay6] WARNING: could not ask sshd which ports it listens on (\`sshd -T\` failed or sshd is absent): allowing only the ports known: %s (vps.ssh.port ${relay.vps.ssh.port}%s)\\n' "\${ssh_ports[*]}" "\${SSH_CONNECTION:+, and the port of this session}" >&2`,
    "fi",
    'for p in "${ssh_ports[@]}"; do rule ' + shQuote(SSH_TAG) + ' allow "$p/tcp"; done',
    "",
  ];
  lines.push("# The policies as ufw keeps them (its status hides them while ufw is inactive).");
  for (const [dir, policy] of Object.entries(UFW_DEFAULTS)) {
    const key = UFW_POLICY_KEYS[dir as keyof typeof UFW_POLICY_KEYS];
    const value = policy === "deny" ? "DROP" : "ACCEPT";
    lines.push(`grep -q '^${key}="${value}"' /etc/default/ufw || run ufw default ${policy} ${dir}`);
  }
  lines.push("");
  for (const r of ufwRules(relay)) lines.push(`# ${commentText(r.why)}`, `rule ${[r.tag, ...r.args].map(shQuote).join(" ")}`);
  lines.push(
    "",
    ...(relay.kind === "relay"
      ? [
          "# Rules relay6 added for this relay that the plan no longer has (a site, segment or",
          "# service removed): only this relay's tag, so another relay's rules and the user's stay,",
          "# and never an SSH rule (a port sshd stopped using costs nothing; a wrong guess locks out).",
        ]
      : [
          "# Rules relay6 added for this site that the plan no longer has (a segment or service",
          "# removed, or an older relay6's forwarding from any source): only this site's tag, and",
          "# never an SSH rule (a port sshd stopped using costs nothing; a wrong guess locks out).",
        ]),
    "while IFS= read -r line; do",
    `  case "$line" in *" comment '\${tag}${SSH_TAG}'") continue ;; *" comment '$tag"*) ;; *) continue ;; esac`,
    `  spec="\${line%% comment \\'*}" keep=0`,
    '  for w in "${wanted[@]}"; do [ "$w" = "$spec" ] && keep=1; done',
    '  [ "$keep" = 1 ] && continue',
    '  read -ra words <<< "${spec#ufw }"',
    '  # A route rule is deleted with `ufw route delete ...`, any other with `ufw delete ...`;',
    "  # stdin from /dev/null: ufw's children read it, and would eat this loop's other lines.",
    '  if [ "${words[0]}" = route ]; then run ufw route delete "${words[@]:1}" </dev/null; else run ufw delete "${words[@]}" </dev/null; fi',
    'done <<< "$(ufw show added)"',
    "",
    "# Active from here on: default deny incoming (SSH stays open: its rules came first).",
    'case "$(ufw status)" in *"Status: active"*) ;; *) run ufw --force enable ;; esac',
    "",
  );
  return lines.join("\n");
}
