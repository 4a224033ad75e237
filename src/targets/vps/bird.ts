// bird2 on the VPS: one BGP session + BFD toward each bgp-bfd site's router, exporting only
// the VPS's default route. `birdc configure` keeps every protocol whose configuration did
// not change, so adding or removing a site leaves the other sessions up.
import type { Plan } from "../../plan/plan.js";
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";
import { birdString, birdSymbol } from "../../render/quote.js";

export const BIRD_PROTOCOL = (plan: Pick<Plan, "site">) => birdSymbol(`router_${plan.site}`);

export function renderBirdConf(relay: RelayPlan): string {
  const b = relay.bgp;
  if (!b) throw new Error("internal: bird.conf is rendered for bgp-bfd only");
  const sites = relay.sites.filter((p) => p.failover.mode === "bgp-bfd");
  const wg = birdString(relay.vps.tunnelInterface);
  const lines = [
    ...header(relay, "#", `bird2 on the VPS: BGP + BFD to the home router${sites.length > 1 ? "s" : ""}, exporting ::/0.`),
    "log syslog all;",
    "# `relay6 status` reads when each session last changed state: with the date, to the ms.",
    "timeformat protocol iso long ms;",
    `router id ${b.routerId};`,
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
    `    min rx interval ${b.bfd.intervalMs} ms;`,
    `    min tx interval ${b.bfd.intervalMs} ms;`,
    "    # Paces BFD while the session is down: the router's passive bfdd answers bird's",
    "    # first packet after an outage. It must differ from min tx: bird sends its Up at",
    "    # once only when going Up changes its interval (a poll); otherwise it waits for",
    "    # its next packet, paced by the router's 1 s slow rate.",
    `    idle tx interval ${b.bfd.idleTxMs} ms;`,
    `    multiplier ${b.bfd.multiplier};`,
    "  };",
    "  # An explicit neighbour makes bird probe actively. With only the interface clause it",
    "  # waits for the router, the router waits for BFD, and recovery needs a restart.",
    ...(sites.some((p) => p.transit.kind === "link-local")
      ? ["  # `local fe80::1`: wg0 may hold another link-local of its own (wireguard-go's tun does),", "  # and the router answers only BFD from fe80::1."]
      : []),
    // A link-local transit: wg0 also holds the kernel's own link-local (wireguard-go's tun
    // gets one), and bird would send BFD from it; the router expects fe80::1.
    ...sites.map((p) => `  neighbor ${p.transit.router.address} dev ${wg}${p.transit.kind === "link-local" ? ` local ${relay.transit.vps.address}` : ""};`),
    "}",
  ];
  for (const p of sites) lines.push("", ...bgpProtocol(relay, p));
  return lines.join("\n") + "\n";
}

/** One site's BGP session. */
function bgpProtocol(relay: RelayPlan, plan: Plan): string[] {
  if (plan.failover.mode !== "bgp-bfd") throw new Error("internal: a BGP protocol for a static site");
  const f = plan.failover;
  const t = plan.transit;
  const ll = t.kind === "link-local";
  return [
    `protocol bgp ${BIRD_PROTOCOL(plan)} {`,
    `  local ${relay.transit.vps.address} as ${f.vpsAs};`,
    // bird needs the interface of a link-local neighbour (it refuses one without).
    // (The interface as a symbol in single quotes: bird 2.0 refuses a "string" there.)
    `  neighbor ${t.router.address}${ll ? ` % '${relay.vps.tunnelInterface}'` : ""} as ${f.routerAs};`,
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
}

/** systemd drop-in: the packaged unit restarts bird only on abnormal exits, so a clean
 *  exit (after a bad `birdc configure`, say) leaves BGP down until someone notices. The
 *  recipe's on-failure still misses exit status 0; `always` does not (a manual
 *  `systemctl stop` still stops it). */
export function renderBirdRestartDropIn(plan: RelayPlan): string {
  return [
    ...header(plan, "#", "bird.service: come back after any exit, such as a bad reload."),
    "[Service]",
    "Restart=always",
    "RestartSec=2s",
    "",
  ].join("\n");
}
