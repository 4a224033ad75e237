// The router half of `relay6 verify` for a Linux router: one script over SSH, pure code
// judges what it printed.
import { transitPing } from "../../net/ipv6.js";
import type { Plan } from "../../plan/plan.js";
import { connectSsh } from "../../remote/connect.js";
import { publicKeyFor } from "../../render/keys.js";
import { shQuote } from "../../render/quote.js";
import { parseSections, sectionBody, sectionRc, sectionScript, type Finding, type Sections } from "../../verify/findings.js";
import { handshakeFinding, parseWgDump, wgDumpCommand } from "../../verify/wireguard.js";
import type { VerifyRequest } from "../types.js";

/** `vtysh ARGS -c 'CMD'`, each of the user's arguments quoted for the router's shell. */
export function vtyshCommand(vtyshArgs: readonly string[], command: string): string {
  return ["vtysh", ...vtyshArgs.map(shQuote), "-c", shQuote(command)].join(" ");
}

const VTYSH_SHOW = ["show bgp ipv6 summary json", "show bfd peers json"] as const;

export function linuxRouterScript(plan: Plan, vtyshArgs: readonly string[] = []): string {
  const wg = plan.router.tunnelInterface;
  const cmds: [string, string][] = [
    ["now", "date +%s"],
    ["wg-dump", wgDumpCommand(wg)],
    ["default", "ip -6 route show default"],
    ["ping-transit", `ping -6 -c 2 -i 0.2 -W 1 ${transitPing(plan.transit.router.address, plan.transit.vps.address, wg)}`],
    ["forwarding", "sysctl -n net.ipv6.conf.all.forwarding"],
    ["radvd", "pgrep -x radvd >/dev/null && echo running"],
    // The RA drain: its watcher, and the router lifetime in the file radvd runs from, both
    // in this network namespace ([a]: pgrep must not find this script's own command line).
    [
      "ra-drain",
      [
        'self=$(readlink /proc/self/ns/net); here() { for p in $(pgrep "$@"); do [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$self" ] && echo "$p"; done; }',
        'w=$(here -f "relay6-ra-dr[a]in watch"); echo "watcher=${w:+running}"',
        String.raw`for p in $(here -x radvd); do conf=$(tr '\0' '\n' </proc/$p/cmdline | sed -n '/^\(-C\|--config\)$/{n;p;q}'); echo "conf=${"$"}{conf:=/etc/radvd.conf}"; grep -h AdvDefaultLifetime "$conf"; break; done`,
      ].join("; "),
    ],
  ];
  const own = plan.vps.ownAddress;
  if (own) cmds.push(["vps-proxy", `ip -6 neigh show proxy ${own.address}`], ["vps-route", `ip -6 route get ${own.address}`]);
  if (plan.failover.mode === "bgp-bfd")
    cmds.push(["bgp", vtyshCommand(vtyshArgs, VTYSH_SHOW[0])], ["bfd", vtyshCommand(vtyshArgs, VTYSH_SHOW[1])]);
  return sectionScript(cmds);
}

export function checkLinuxRouter(plan: Plan, sec: Sections, expectedVpsKey: string | undefined): Finding[] {
  const out: Finding[] = [];
  const now = Number(sectionBody(sec.get("now")).trim());
  const wg = sectionRc(sec.get("wg-dump")) === 0 ? parseWgDump(sectionBody(sec.get("wg-dump"))) : undefined;
  const wgName = plan.router.tunnelInterface;
  if (!wg) out.push({ check: "router.wg", status: "fail", detail: `${wgName} is not up`, hint: `wg-quick up ${wgName}`, fault: "wg-down" });
  else {
    const peer = expectedVpsKey ? wg.peers.find((p) => p.publicKey === expectedVpsKey) : wg.peers[0];
    if (!peer)
      out.push({ check: "router.peer-key", status: "fail", detail: `no peer with the VPS's public key ${expectedVpsKey}`, hint: "the router's config names another key than the VPS holds: re-render and apply the router", fault: "wrong-public-key" });
    else {
      if (expectedVpsKey) out.push({ check: "router.peer-key", status: "pass", detail: "the VPS's public key is the peer" });
      out.push(handshakeFinding("router.handshake", peer, now, `can the router reach ${plan.vps.endpoint}:${plan.wireguard.port} over UDP?`));
    }
  }
  out.push(
    sectionRc(sec.get("ping-transit")) === 0
      ? { check: "router.transit-ping", status: "pass", detail: `${plan.transit.vps.address} answers over the tunnel` }
      : { check: "router.transit-ping", status: "fail", detail: `${plan.transit.vps.address} does not answer`, hint: "is the tunnel up, and ICMPv6 allowed in on the VPS's wg0?", fault: "tunnel-down" },
  );
  const def = sectionBody(sec.get("default"));
  if (plan.failover.mode === "bgp-bfd") {
    out.push(
      /proto bgp/.test(def) && new RegExp(`dev ${wgName}\\b`).test(def)
        ? { check: "router.default-route", status: "pass", detail: `::/0 from BGP via ${wgName}` }
        : { check: "router.default-route", status: "fail", detail: def.trim() ? `::/0 is not from BGP: ${def.trim().split("\n")[0]}` : "no IPv6 default route", hint: "clients have no IPv6 way out: check BGP and BFD with the VPS", fault: "no-default-route" },
    );
    // `show bgp ipv6 summary json`: {"peers": {...}} (FRR 8), or under "ipv6Unicast".
    const bgp = jsonOf(sectionBody(sec.get("bgp"))) as { peers?: Record<string, { state?: string }>; ipv6Unicast?: { peers?: Record<string, { state?: string }> } } | undefined;
    const peers = bgp?.peers ?? bgp?.ipv6Unicast?.peers;
    // A link-local peer may be keyed with its interface (fe80::1%wg0).
    const key = Object.keys(peers ?? {}).find((k) => k === plan.transit.vps.address || k === `${plan.transit.vps.address}%${wgName}`);
    const st = key ? peers?.[key]?.state : undefined;
    out.push(
      st === undefined
        ? { check: "router.bgp", status: "skip", detail: "vtysh gave no BGP summary", hint: "run as a user that may use vtysh (FRR)" }
        : st === "Established"
          ? { check: "router.bgp", status: "pass", detail: `BGP Established with ${plan.transit.vps.address}` }
          : { check: "router.bgp", status: "fail", detail: `BGP with ${plan.transit.vps.address}: ${st}`, hint: "see the VPS's BGP check", fault: "bgp-down" },
    );
    const bfd = jsonOf(sectionBody(sec.get("bfd")));
    const session = Array.isArray(bfd) ? (bfd as { peer?: string; status?: string; "receive-interval"?: number; "transmit-interval"?: number; "detect-multiplier"?: number }[]).find((p) => p.peer === plan.transit.vps.address) : undefined;
    const f = plan.failover;
    if (!Array.isArray(bfd)) out.push({ check: "router.bfd", status: "skip", detail: "vtysh gave no BFD peers" });
    else if (!session || session.status !== "up")
      out.push({ check: "router.bfd", status: "fail", detail: session ? `BFD with ${plan.transit.vps.address} is ${session.status}` : "no BFD peer for the VPS", hint: "is UDP 3784 open on the VPS's wg0 from the router?", fault: "bfd-down" });
    else if (session["transmit-interval"] !== f.bfd.intervalMs || session["detect-multiplier"] !== f.bfd.multiplier)
      out.push({ check: "router.bfd", status: "warn", detail: `BFD up, tx ${session["transmit-interval"]} ms × ${session["detect-multiplier"]}, plan ${f.bfd.intervalMs} ms × ${f.bfd.multiplier}` });
    else out.push({ check: "router.bfd", status: "pass", detail: `BFD up, ${f.bfd.intervalMs} ms × ${f.bfd.multiplier}` });
  } else {
    out.push(
      def.includes(`via ${plan.transit.vps.address}`)
        ? { check: "router.default-route", status: "pass", detail: `static ::/0 via ${plan.transit.vps.address} (health-checked)` }
        : { check: "router.default-route", status: "fail", detail: def.trim() || "no IPv6 default route", hint: "the health check withdrew it (tunnel down?) or it was never added", fault: "no-default-route" },
    );
  }
  const fwd = sectionBody(sec.get("forwarding")).trim();
  out.push(fwd === "1" ? { check: "router.forwarding", status: "pass", detail: "IPv6 forwarding on" } : { check: "router.forwarding", status: "fail", detail: `forwarding = ${fwd || "?"}`, hint: "sysctl -p /etc/sysctl.d/99-relay6.conf" });
  out.push(sectionBody(sec.get("radvd")).includes("running") ? { check: "router.radvd", status: "pass", detail: "radvd is running" } : { check: "router.radvd", status: "fail", detail: "radvd is not running", hint: "clients get no SLAAC prefix: systemctl status radvd" });
  out.push(raDrainFinding(plan, def, sectionBody(sec.get("ra-drain"))));
  const own = plan.vps.ownAddress;
  if (own) out.push(vpsAddressFinding(plan, own, sectionBody(sec.get("vps-proxy")), sectionBody(sec.get("vps-route"))));
  return out;
}

/** The RA drain owns the router lifetime: it is judged against the route, never against a
 *  value (0 while relay6's ::/0 is gone, the rendered one while it is there). */
function raDrainFinding(plan: Plan, def: string, body: string): Finding {
  const wg = plan.router.tunnelInterface;
  const own =
    new RegExp(`dev ${wg}\\b`).test(def) && (plan.failover.mode === "bgp-bfd" ? /proto bgp/.test(def) : def.includes(`via ${plan.transit.vps.address}`));
  const lifetimes = [...body.matchAll(/AdvDefaultLifetime\s+(\d+);/g)].map((m) => Number(m[1]));
  const conf = /^conf=(.*)$/m.exec(body)?.[1] ?? "?";
  const hint = "systemctl status relay6-ra-drain radvd; the RA drain tells clients the router is no default router while the tunnel's ::/0 is gone";
  if (!/^watcher=running$/m.test(body)) return { check: "router.ra-drain", status: "fail", detail: "the RA drain (relay6-ra-drain watch) is not running", hint, fault: "ra-drain" };
  if (lifetimes.length === 0) return { check: "router.ra-drain", status: "fail", detail: `no AdvDefaultLifetime in ${conf}, the file radvd runs from`, hint, fault: "ra-drain" };
  const drained = lifetimes.every((x) => x === 0);
  if (drained === own || (!drained && lifetimes.some((x) => x === 0)))
    return { check: "router.ra-drain", status: "fail", detail: `relay6's ::/0 is ${own ? "there" : "gone"} but ${conf} advertises router lifetime ${lifetimes.join(", ")}`, hint, fault: "ra-drain" };
  return { check: "router.ra-drain", status: "pass", detail: own ? `relay6's ::/0 is there; radvd advertises router lifetime ${lifetimes[0]} s` : "relay6's ::/0 is gone; radvd advertises router lifetime 0 (drained)" };
}

/** The VPS's own address inside a segment's /64 (a routed /64): LAN hosts take it for
 *  on-link, so the router must answer for it there and route it into the tunnel. */
function vpsAddressFinding(plan: Plan, own: NonNullable<Plan["vps"]["ownAddress"]>, proxy: string, route: string): Finding {
  const wg = plan.router.tunnelInterface;
  const proxied = proxy.split("\n").some((l) => l.trim().split(/\s+/)[0] === own.address && new RegExp(`\\bdev ${own.interface}\\b`).test(l));
  const routed = new RegExp(`\\bdev ${wg}\\b`).test(route);
  if (proxied && routed) return { check: "router.vps-address", status: "pass", detail: `the VPS's ${own.address}: answered for on ${own.interface}, routed into ${wg}` };
  const problems = [...(proxied ? [] : [`no proxy entry on ${own.interface}`]), ...(routed ? [] : [`routed ${route.trim().split("\n")[0] || "nowhere"}`])];
  return {
    check: "router.vps-address",
    status: "fail",
    detail: `the VPS's ${own.address} (in segment ${own.segment}'s /64): ${problems.join("; ")}`,
    hint: `LAN hosts cannot reach the VPS's own address: systemctl restart relay6-router-net and wg-quick@${wg} (relay6 apply router)`,
    fault: "vps-address-unreachable",
  };
}

function jsonOf(text: string): Record<string, unknown> | unknown[] | undefined {
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function verify(req: VerifyRequest): Promise<Finding[]> {
  if (!req.access.ssh.host) return [{ check: "router", status: "skip", detail: "no --router-ssh: Linux router checks skipped" }];
  const s = await connectSsh(req.access.ssh, req.log);
  try {
    req.log(`checking the router ${req.access.ssh.host}`);
    if (req.vtyshArgs?.length && req.plan.failover.mode === "bgp-bfd") for (const c of VTYSH_SHOW) req.log(`[${s.target.host}]# ${vtyshCommand(req.vtyshArgs, c)}`);
    const out = await s.exec(linuxRouterScript(req.plan, req.vtyshArgs), { quiet: true });
    return checkLinuxRouter(req.plan, parseSections(out.stdout + out.stderr), publicKeyFor("vps", req.plan, req.ctx.secrets));
  } finally {
    s.close();
  }
}
