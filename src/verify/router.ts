// The router half of `relay6 verify`: a Linux router over SSH, RouterOS over REST.
import type { Plan } from "../plan/plan.js";
import type { RosObject, RouterOsRest } from "../remote/routeros-rest.js";
import { parseSections, sectionBody, sectionRc, sectionScript, type Finding, type Sections } from "./findings.js";
import { HANDSHAKE_MAX_AGE_S, handshakeFinding, parseWgDump } from "./vps.js";

export function linuxRouterScript(plan: Plan, vtyshArgs = ""): string {
  const wg = plan.router.wgInterface;
  const cmds: [string, string][] = [
    ["now", "date +%s"],
    ["wg-dump", `wg show ${wg} dump`],
    ["default", "ip -6 route show default"],
    ["ping-transit", `ping -6 -c 2 -i 0.2 -W 1 ${plan.transit.vps.address}`],
    ["forwarding", "sysctl -n net.ipv6.conf.all.forwarding"],
    ["radvd", "pgrep -x radvd >/dev/null && echo running"],
  ];
  if (plan.failover.mode === "bgp-bfd")
    cmds.push(["bgp", `vtysh ${vtyshArgs} -c 'show bgp ipv6 summary json'`], ["bfd", `vtysh ${vtyshArgs} -c 'show bfd peers json'`]);
  return sectionScript(cmds);
}

export function checkLinuxRouter(plan: Plan, sec: Sections, expectedVpsKey: string | undefined): Finding[] {
  const out: Finding[] = [];
  const now = Number(sectionBody(sec.get("now")).trim());
  const wg = sectionRc(sec.get("wg-dump")) === 0 ? parseWgDump(sectionBody(sec.get("wg-dump"))) : undefined;
  const wgName = plan.router.wgInterface;
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
    const st = peers?.[plan.transit.vps.address]?.state;
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
  return out;
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

export async function verifyLinuxRouter(run: (script: string) => Promise<string>, plan: Plan, expectedVpsKey: string | undefined, vtyshArgs = ""): Promise<Finding[]> {
  return checkLinuxRouter(plan, parseSections(await run(linuxRouterScript(plan, vtyshArgs))), expectedVpsKey);
}

/** RouterOS durations as REST shows them ("1m3s", "45s", "1h2m3s", "250ms") in seconds. */
export function rosSeconds(text: string | undefined): number {
  if (!text) return Infinity;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(w|d|h|ms|m|s)/g)) {
    const n = Number(m[1]);
    total += n * ({ w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[m[2]!]!;
  }
  return total;
}

const truthy = (v: string | undefined) => v === "true" || v === "yes";

export async function verifyRouterOs(rest: RouterOsRest, plan: Plan, expectedVpsKey: string | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  const version = await rest.version();
  const want = plan.router.version ?? "";
  out.push(
    version === want || version.startsWith(`${want}.`)
      ? { check: "router.version", status: "pass", detail: `RouterOS ${version}` }
      : { check: "router.version", status: "fail", detail: `RouterOS ${version}, the site file says ${want}`, hint: "set router.version to the router's release and render again: commands differ between releases" },
  );
  const peers: RosObject[] = await rest.get("/interface/wireguard/peers");
  const peer = peers.find((p) => p.interface === plan.router.wgInterface && (!expectedVpsKey || p["public-key"] === expectedVpsKey));
  if (!peer)
    out.push({ check: "router.peer-key", status: "fail", detail: `no peer on ${plan.router.wgInterface} with the VPS's public key`, hint: "import the rendered router script (or relay6 apply router)", fault: "wrong-public-key" });
  else {
    const age = rosSeconds(peer["last-handshake"]);
    out.push(
      age <= HANDSHAKE_MAX_AGE_S
        ? { check: "router.handshake", status: "pass", detail: `latest handshake ${peer["last-handshake"]} ago` }
        : { check: "router.handshake", status: "fail", detail: peer["last-handshake"] ? `latest handshake ${peer["last-handshake"]} ago` : "no handshake yet", hint: `can the router reach ${plan.vps.endpoint}:${plan.wireguard.port} over UDP?`, fault: "tunnel-down" },
    );
  }
  const routes = (await rest.get("/ipv6/route")).filter((r) => r["dst-address"] === "::/0");
  const active = routes.filter((r) => truthy(r.active));
  if (plan.failover.mode === "bgp-bfd") {
    out.push(
      active.some((r) => truthy(r.bgp))
        ? { check: "router.default-route", status: "pass", detail: `::/0 from BGP via ${active.find((r) => truthy(r.bgp))!.gateway ?? "?"}` }
        : { check: "router.default-route", status: "fail", detail: active.length ? "the active ::/0 is not from BGP" : "no active ::/0", hint: "check BGP and BFD with the VPS", fault: "no-default-route" },
    );
    const bgp = (await rest.get("/routing/bgp/session")).find((s) => (s["remote.address"] ?? "").split("/")[0] === plan.transit.vps.address);
    out.push(
      bgp && truthy(bgp.established)
        ? { check: "router.bgp", status: "pass", detail: `BGP established with ${plan.transit.vps.address}` }
        : { check: "router.bgp", status: "fail", detail: bgp ? "BGP session not established" : "no BGP session to the VPS", hint: "is TCP 179 open on the VPS's wg0 from the router?", fault: "bgp-down" },
    );
    const bfd = (await rest.get("/routing/bfd/session")).find((s) => (s["remote-address"] ?? "").split("%")[0] === plan.transit.vps.address);
    out.push(
      bfd && bfd.state === "up"
        ? { check: "router.bfd", status: "pass", detail: `BFD up${bfd["hold-time"] ? `, hold time ${bfd["hold-time"]}` : ""}` }
        : { check: "router.bfd", status: "fail", detail: bfd ? `BFD ${bfd.state}` : "no BFD session to the VPS", hint: "is UDP 3784 open on the VPS's wg0, and BFD allowed on the router's input chain?", fault: "bfd-down" },
    );
  } else {
    const st = active.find((r) => r.gateway?.startsWith(plan.transit.vps.address));
    out.push(
      st
        ? { check: "router.default-route", status: st["check-gateway"] === "ping" ? "pass" : "warn", detail: `static ::/0 via ${st.gateway}${st["check-gateway"] === "ping" ? ", check-gateway=ping" : " without check-gateway"}` }
        : { check: "router.default-route", status: "fail", detail: "no active static ::/0 via the VPS", hint: "check-gateway found the VPS unreachable, or the route is missing", fault: "no-default-route" },
    );
  }
  return out;
}
