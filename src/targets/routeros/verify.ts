// The router half of `relay6 verify` for RouterOS: the router read over its REST API.
import type { RosObject, RouterOsRest } from "../../remote/routeros-rest.js";
import type { Plan } from "../../plan/plan.js";
import { openRest } from "../../remote/connect.js";
import { publicKeyFor } from "../../render/keys.js";
import type { Finding } from "../../verify/findings.js";
import { HANDSHAKE_MAX_AGE_S } from "../../verify/wireguard.js";
import { releaseMatches } from "./capabilities.js";
import { rosDurationMs } from "./duration.js";
import { judgeDrain } from "./drain.js";
import type { VerifyRequest } from "../types.js";
import { dnsReachProblems, readDnsState } from "./apply/dns.js";

/** Seconds since the peer's last handshake ("1m3s" on REST), Infinity without one. */
function handshakeAge(text: string | undefined): number {
  const ms = rosDurationMs(text);
  return ms === undefined ? Infinity : ms / 1000;
}

const truthy = (v: string | undefined) => v === "true" || v === "yes";

async function verifyRouterOs(rest: RouterOsRest, plan: Plan, expectedVpsKey: string | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  const version = await rest.version();
  const want = plan.router.version ?? "";
  out.push(
    releaseMatches(want, version)
      ? { check: "router.version", status: "pass", detail: `RouterOS ${version}` }
      : { check: "router.version", status: "fail", detail: `RouterOS ${version}, the site file says ${want}`, hint: "set router.version to the router's release and render again: commands differ between releases" },
  );
  const peers: RosObject[] = await rest.get("/interface/wireguard/peers");
  const peer = peers.find((p) => p.interface === plan.router.tunnelInterface && (!expectedVpsKey || p["public-key"] === expectedVpsKey));
  if (!peer)
    out.push({ check: "router.peer-key", status: "fail", detail: `no peer on ${plan.router.tunnelInterface} with the VPS's public key`, hint: "import the rendered router script (or relay6 apply router)", fault: "wrong-public-key" });
  else {
    const age = handshakeAge(peer["last-handshake"]);
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
    const bgp = (await rest.get("/routing/bgp/session")).find((s) => (s["remote.address"] ?? "").split(/[/%]/)[0] === plan.transit.vps.address);
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
  // The RA drain: ra-lifetime is its to set, so it is judged against the route, not a value.
  const interfaces = [...new Set(plan.segments.map((x) => x.interface))];
  const drain = judgeDrain(plan, interfaces, {
    routes,
    nd: await rest.get("/ipv6/nd"),
    netwatch: await rest.get("/tool/netwatch"),
    scripts: await rest.get("/system/script"),
  });
  out.push(
    drain.ok
      ? { check: "router.ra-drain", status: "pass", detail: drain.detail }
      : { check: "router.ra-drain", status: "fail", detail: drain.detail, hint: "import the rendered router script (or relay6 apply router): it installs the RA drain", fault: "ra-drain" },
  );
  out.push(...(await dnsFindings(rest, plan)));
  const previous = plan.segments.filter((s) => s.previous);
  if (previous.length > 0) {
    const entries = await rest.get("/ipv6/nd/prefix");
    for (const s of previous) {
      const e = entries.find((x) => x.prefix === s.previous && x.interface === s.interface);
      const pref = rosDurationMs(e?.["preferred-lifetime"]);
      out.push(
        e && pref === 0 && e.disabled !== "true"
          ? { check: `router.previous.${s.name}`, status: "pass", detail: `${s.previous} advertised on ${s.interface} with preferred lifetime 0, valid ${e["valid-lifetime"] ?? "?"}` }
          : { check: `router.previous.${s.name}`, status: "fail", detail: e ? `${s.previous} on ${s.interface}: preferred-lifetime ${e["preferred-lifetime"] ?? "?"}${e.disabled === "true" ? ", disabled" : ""}` : `no /ipv6/nd/prefix entry for ${s.previous} on ${s.interface}`, hint: "clients keep using their old addresses for new connections: import the rendered script (or relay6 apply router)" },
      );
    }
  }
  return out;
}

/** With dns.advertise: self the RAs name the router as DNS server: can it answer? */
async function dnsFindings(rest: RouterOsRest, plan: Plan): Promise<Finding[]> {
  if (plan.dns.advertise !== "self") return [];
  let problems: string[];
  try {
    problems = dnsReachProblems(plan, await readDnsState(rest));
  } catch (e) {
    return [{ check: "router.dns", status: "warn", detail: `could not read /ip/dns and the interface lists: ${e instanceof Error ? e.message : String(e)}`, hint: "does the REST user have read access?" }];
  }
  if (problems.length === 0) return [{ check: "router.dns", status: "pass", detail: "the router takes DNS queries from every segment (allow-remote-requests=yes, no input rule drops UDP 53)" }];
  return problems.map((p) => ({ check: "router.dns", status: "warn" as const, detail: p, hint: "clients get the router as DNS server from the RA and cannot resolve names" }));
}

export async function verify(req: VerifyRequest): Promise<Finding[]> {
  const url = req.access.rest.url;
  if (!url) return [{ check: "router", status: "skip", detail: "no --router-url: RouterOS checks skipped" }];
  const rest = await openRest(req.access.rest);
  try {
    req.log(`checking the router ${url}`);
    return await verifyRouterOs(rest, req.plan, publicKeyFor("vps", req.plan, req.ctx.secrets));
  } finally {
    rest.close();
  }
}
