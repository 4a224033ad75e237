// radvd: one interface block per segment. SLAAC from the segment's /64 (and its ULA /64),
// the tunnel's MTU in AdvLinkMTU (a SLAAC host that honours it never sends a packet the
// tunnel must drop: the fix for TCP when the internet drops ICMPv6 packet-too-big), and
// RDNSS as the site asks.
import type { Plan, PlanSegment } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { commentText } from "../../render/quote.js";

function rdnss(plan: Plan, s: PlanSegment): string[] {
  const a = plan.dns.advertise;
  if (a === "none") return [];
  // "self": the router's own address on the segment, so it cannot go stale on a renumber.
  if (a === "self") return [s.ula ? s.ula.router.address : s.router.address];
  return a;
}

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
      `  AdvLinkMTU ${plan.wireguard.mtu};`,
      "  AdvManagedFlag off;",
      "  AdvOtherConfigFlag off;",
      `  prefix ${s.prefix} {`,
      "    AdvOnLink on;",
      "    AdvAutonomous on;",
      "  };",
    );
    if (s.ula) out.push(`  prefix ${s.ula.prefix} {`, "    AdvOnLink on;", "    AdvAutonomous on;", "  };");
    const dns = rdnss(plan, s);
    if (dns.length > 0) out.push(`  RDNSS ${dns.join(" ")} {`, "  };");
    out.push("};");
  }
  return out.join("\n") + "\n";
}
