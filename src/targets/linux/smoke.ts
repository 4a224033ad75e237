// The recipe's smoke test (section 3) on a Linux router, with the expected values filled
// in from the plan.
import { transitPing } from "../../net/ipv6.js";
import type { Plan } from "../../plan/plan.js";
import { handshakeCheck, PRELUDE } from "../../render/checks.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

/** The recipe's router-side checks for a Linux router (FRR + radvd + wg-quick). */
export function renderLinuxRouterSmoke(plan: Plan): string {
  const t = plan.transit;
  const wg = plan.router.tunnelInterface;
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "The recipe's smoke test, on the Linux router. Exit 0 = every check passed."),
    "# VTYSH_ARGS: extra vtysh arguments (e.g. --vty_socket DIR when FRR runs by hand).",
    ...PRELUDE,
    'VTYSH_ARGS="${VTYSH_ARGS:-}"',
    "",
    ...handshakeCheck(wg, `can the router reach ${commentText(plan.vps.endpoint)}:${plan.wireguard.port} over UDP? does the VPS hold this router's public key?`),
    `if ping -6 -c 2 -W 2 ${transitPing(t.router.address, t.vps.address, wg)} >/dev/null 2>&1; then pass "ping VPS transit ${t.vps.address}"`,
    `else fail "ping VPS transit ${t.vps.address}" "no answer over the tunnel: check the handshake"; fi`,
  ];
  for (const s of plan.segments)
    L.push(
      `if ip -6 addr show dev ${s.interface} 2>/dev/null | grep -q ' ${s.router.cidr} '; then pass "segment ${s.name}: ${s.router.cidr} on ${s.interface}"`,
      `else fail "segment ${s.name}: ${s.router.cidr} on ${s.interface}" "run /usr/local/sbin/relay6-router-net (systemctl restart relay6-router-net)"; fi`,
    );
  L.push(
    "def=$(ip -6 route show default)",
    plan.failover.mode === "bgp-bfd"
      ? `if [[ "$def" == *"proto bgp"* && "$def" == *"dev ${wg}"* ]]; then pass "::/0 from BGP via ${wg}"; else fail "::/0 from BGP via ${wg}" "got: \${def:-no default route}; check BGP and BFD with the VPS"; fi`
      : `if [[ "$def" == *"via ${t.vps.address}"* ]]; then pass "::/0 via ${t.vps.address}"; else fail "::/0 via ${t.vps.address}" "got: \${def:-no default route}; the gateway check withdrew it, or the tunnel is down"; fi`,
    'if pgrep -x radvd >/dev/null; then pass "radvd is running"; else fail "radvd is running" "systemctl status radvd"; fi',
  );
  if (plan.failover.mode === "bgp-bfd")
    L.push(
      `if vtysh $VTYSH_ARGS -c 'show bfd peers brief' 2>/dev/null | grep -F ${t.vps.address} | grep -qw up; then pass "BFD up with ${t.vps.address}"`,
      `else fail "BFD up with ${t.vps.address}" "is UDP 3784 open on the VPS's wg0 from ${t.router.address}?"; fi`,
    );
  L.push("", "summary", "");
  return L.join("\n");
}
