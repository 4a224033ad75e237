// bird2 on the VPS: BGP + BFD toward the router, exporting only the VPS's default route.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { birdString, birdSymbol } from "../../render/quote.js";

export const BIRD_PROTOCOL = (plan: Plan) => birdSymbol(`router_${plan.site}`);

export function renderBirdConf(plan: Plan): string {
  if (plan.failover.mode !== "bgp-bfd") throw new Error("internal: bird.conf is rendered for bgp-bfd only");
  const f = plan.failover;
  const t = plan.transit;
  const wg = birdString(plan.vps.tunnelInterface);
  const lines = [
    ...header(plan, "#", "bird2 on the VPS: BGP + BFD to the home router, exporting ::/0."),
    "log syslog all;",
    `router id ${f.vpsRouterId};`,
    "",
    "# A 1 s scan notices wg0 coming back at once (the default waits up to a minute).",
    "protocol device {",
    "  scan time 1;",
    "}",
    "",
    "# `learn` brings the kernel's default route (from the provider's RA or a static route)",
    "# into bird; without it there is nothing to export.",
    "protocol kernel kernel6 {",
    "  ipv6 { import all; export none; };",
    "  learn;",
    "}",
    "",
    "protocol bfd relay6_bfd {",
    `  interface ${wg} {`,
    `    min rx interval ${f.bfd.intervalMs} ms;`,
    `    min tx interval ${f.bfd.intervalMs} ms;`,
    "    # Paces BFD while the session is down: the router's passive bfdd answers bird's",
    "    # first packet after an outage. It must differ from min tx: bird sends its Up at",
    "    # once only when going Up changes its interval (a poll); otherwise it waits for",
    "    # its next packet, paced by the router's 1 s slow rate.",
    `    idle tx interval ${f.bfd.idleTxMs} ms;`,
    `    multiplier ${f.bfd.multiplier};`,
    "  };",
    "  # An explicit neighbour makes bird probe actively. With only the interface clause it",
    "  # waits for the router, the router waits for BFD, and recovery needs a restart.",
    `  neighbor ${t.router.address} dev ${wg};`,
    "}",
    "",
    `protocol bgp ${BIRD_PROTOCOL(plan)} {`,
    `  local ${t.vps.address} as ${f.vpsAs};`,
    `  neighbor ${t.router.address} as ${f.routerAs};`,
    "  # Without `bfd on` bird's BGP ignores BFD and stays Established on a dead tunnel.",
    "  bfd on;",
    "  # A BFD drop is an error to bird: with the default error wait (60-300 s) it refuses the",
    "  # router's reconnect for about a minute. These restore the session within a second:",
    "  # bird connects 1 s after the drop (it treats a connect delay below 1 s as 1 s) and",
    "  # then every 0.75-1 s; it does not connect on BFD Up, the router does.",
    "  error wait time 0, 0;",
    "  error forget time 0;",
    "  connect delay time 0;",
    "  connect retry time 1;",
    "  # Stale routes kept for a restarting peer are what failover must not keep.",
    "  graceful restart off;",
    "  ipv6 {",
    "    import none;",
    "    export where net = ::/0;",
    "    next hop self;",
    "  };",
    "}",
  ];
  return lines.join("\n") + "\n";
}

/** systemd drop-in: the packaged unit restarts bird only on abnormal exits, so a clean
 *  exit (after a bad `birdc configure`, say) leaves BGP down until someone notices. The
 *  recipe's on-failure still misses exit status 0; `always` does not (a manual
 *  `systemctl stop` still stops it). */
export function renderBirdRestartDropIn(plan: Plan): string {
  return [
    ...header(plan, "#", "bird.service: come back after any exit, such as a bad reload."),
    "[Service]",
    "Restart=always",
    "RestartSec=2s",
    "",
  ].join("\n");
}
