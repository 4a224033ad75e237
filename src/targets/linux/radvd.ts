// radvd: one interface block per segment. SLAAC from the segment's /64 (and its ULA /64),
// the tunnel's MTU in AdvLinkMTU (a SLAAC host that honours it never sends a packet the
// tunnel must drop: the fix for TCP when the internet drops ICMPv6 packet-too-big), and
// RDNSS as the site asks. The router lifetime is explicit: the RA drain (drain.ts) sets it
// to 0 while relay6's ::/0 is gone and back to this value. With a ULA, a route information
// option (RFC 4191) for the whole ULA /48: while the drain has clients drop the router as
// default router, those that take RIOs (Linux: accept_ra_rt_info_max_plen >= 48) still
// reach the other segments' ULAs through it.
import { PREVIOUS_LIFETIMES, type Plan, type PlanSegment } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

function rdnss(plan: Plan, s: PlanSegment): string[] {
  const a = plan.dns.advertise;
  if (a === "none") return [];
  // "self": the router's own address on the segment, so it cannot go stale on a renumber.
  if (a === "self") return [s.ula ? s.ula.router.address : s.router.address];
  return a;
}

/** The router lifetime radvd advertises: radvd's own default, 3 × MaxRtrAdvInterval. */
export const RADVD_ROUTER_LIFETIME_S = 300;

export function renderRadvd(plan: Plan): string {
  const out = header(plan, "#", "radvd: SLAAC, the tunnel MTU and RDNSS on every segment.");
  for (const s of plan.segments) {
    out.push(
      "",
      `# segment ${s.name}${s.description ? `: ${commentText(s.description)}` : ""}`,
      `interface ${s.interface} {`,
      "  AdvSendAdvert on;",
      "  MinRtrAdvInterval 30;",
      "  MaxRtrAdvInterval 100;",
      `  AdvDefaultLifetime ${RADVD_ROUTER_LIFETIME_S};`,
      `  AdvLinkMTU ${plan.wireguard.mtu};`,
      "  AdvManagedFlag off;",
      "  AdvOtherConfigFlag off;",
      `  prefix ${s.prefix} {`,
      "    AdvOnLink on;",
      "    AdvAutonomous on;",
      "  };",
    );
    if (s.ula) out.push(`  prefix ${s.ula.prefix} {`, "    AdvOnLink on;", "    AdvAutonomous on;", "  };");
    if (s.ula && plan.ula) out.push(`  route ${plan.ula} {`, "  };");
    if (s.previous)
      out.push(
        "  # The segment's old /64 (previousPrefix): no new connections from it; hosts drop their",
        "  # old addresses 2 h after the first of these (RFC 4862 5.5.3 e). Autonomous stays on:",
        "  # a host ignores the lifetimes of a prefix without it.",
        `  prefix ${s.previous} {`,
        "    AdvOnLink on;",
        "    AdvAutonomous on;",
        `    AdvPreferredLifetime ${PREVIOUS_LIFETIMES.preferredS};`,
        `    AdvValidLifetime ${PREVIOUS_LIFETIMES.validS};`,
        "  };",
      );
    const dns = rdnss(plan, s);
    if (dns.length > 0) out.push(`  RDNSS ${dns.join(" ")} {`, "  };");
    out.push("};");
  }
  return out.join("\n") + "\n";
}
