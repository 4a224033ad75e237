// The checks only a RouterOS export allows: commands its release does not have, the
// input chain dropping BFD or BGP from the tunnel, the recipe's ping-checked static route.
import type { Diagnostic } from "../../../errors.js";
import { CORE_CODES, diagnostics } from "../../../doctor/codes.js";
import type { RouterCheck, RouterFacts } from "../../../doctor/router.js";
import { portIncludes } from "../../../doctor/ufw.js";
import type { LintCode } from "../../../lint/lint.js";
import { compareRelease, FEATURES, formatRelease, has, isSupported, parseRelease, SUPPORTED, type FeatureId, type Release } from "../capabilities.js";
import { adds, rosBool, type RosCommand, type RosScript } from "./export.js";

export const ROUTEROS_DOCTOR_CODES: readonly LintCode[] = [
  { code: "routeros-command-unsupported", severity: "error", summary: "The router's configuration uses a menu or argument its RouterOS version does not have." },
  { code: "routeros-version-untested", severity: "warning", summary: "The RouterOS version is outside the releases relay6 knows (7.15 to 7.24): commands were checked against the nearest known one." },
  { code: "routeros-input-drops-bfd", severity: "error", summary: "The router's input chain drops BFD (UDP 3784) from the tunnel: no accept comes before defconf's drop." },
  { code: "routeros-input-drops-bgp", severity: "warning", summary: "The router's input chain drops BGP (TCP 179) from the tunnel: the session only comes up when the router dials." },
];

const diag = diagnostics([...CORE_CODES, ...ROUTEROS_DOCTOR_CODES]);

/** --routeros-version: the release, when the export has no header (a hand-written script). */
type Options = { routerosVersion?: string };

/** Renamed or new syntax per capability, with both spellings: the table in
 *  targets/routeros/capabilities.ts says when the new one appeared; the captured trees
 *  (inspect-7.18.2/7.19/7.20.8) show the old one gone from that release on. */
const SYNTAX: { feature: FeatureId; menus: string[]; newArg?: string; oldArg?: string; menu?: string; value?: string }[] = [
  { feature: "bgp-instance", menus: ["/routing/bgp/instance"], menu: "/routing/bgp/instance" },
  { feature: "bgp-instance", menus: ["/routing/bgp/connection"], newArg: "instance", oldArg: "router-id" },
  { feature: "bgp-instance", menus: ["/routing/bgp/template"], oldArg: "router-id" },
  { feature: "bgp-afi-arg", menus: ["/routing/bgp/connection", "/routing/bgp/template"], newArg: "afi", oldArg: "address-families" },
  { feature: "wg-responder-arg", menus: ["/interface/wireguard/peers"], newArg: "responder", oldArg: "is-responder" },
  { feature: "wg-peer-name", menus: ["/interface/wireguard/peers"], newArg: "name" },
  { feature: "nd-advertise-dns-self", menus: ["/ipv6/nd"], newArg: "advertise-dns", value: "self" },
];

function routerRelease(s: RosScript, opts: Options): { release: Release; text: string; line?: number } | undefined {
  const text = opts.routerosVersion ?? s.version;
  if (!text) return undefined;
  const release = parseRelease(text);
  if (!release) return undefined;
  return { release, text, ...(opts.routerosVersion === undefined && s.versionLine ? { line: s.versionLine } : {}) };
}

const routerosCommands: RouterCheck<RosScript> = {
  codes: ["routeros-command-unsupported", "routeros-version-untested"],
  skip(s, _f, opts) {
    if (routerRelease(s, opts)) return undefined;
    const given = opts.routerosVersion ?? s.version;
    return given ? `"${given}" is not a RouterOS version` : "the export has no `by RouterOS x.y` header; pass --routeros-version";
  },
  run(s, f, opts) {
    const v = routerRelease(s, opts);
    if (!v) return [];
    const out: Diagnostic[] = [];
    let r = v.release;
    if (!isSupported(r)) {
      const nearest = compareRelease(r, SUPPORTED.from) < 0 ? SUPPORTED.from : ([7, 24, 0] as Release);
      out.push(diag("routeros-version-untested", `RouterOS ${v.text} is outside ${SUPPORTED.text}; checked as ${formatRelease(nearest)}`, "upgrade RouterOS to a release relay6 knows, or check the commands by hand", f.origin, v.line));
      r = nearest;
    }
    const since = (f: FeatureId) => formatRelease(FEATURES.find((x) => x.id === f)!.since);
    for (const c of s.commands) {
      for (const s of SYNTAX) {
        if (!s.menus.some((m) => c.menu === m || c.menu.startsWith(m + "/"))) continue;
        const have = has(r, s.feature);
        const what = FEATURES.find((x) => x.id === s.feature)!.what;
        if (s.menu && !have) {
          out.push(unsupported(f, c, c.line, `${c.menu} does not exist in RouterOS ${v.text} (${what}: from ${since(s.feature)})`, s.feature));
          continue;
        }
        if (s.newArg && !have && c.args.has(s.newArg) && (s.value === undefined || c.args.get(s.newArg)!.value === s.value))
          out.push(unsupported(f, c, c.args.get(s.newArg)!.line, `${c.menu} ${s.newArg}=${s.value ?? ""} is not in RouterOS ${v.text} (${what}: from ${since(s.feature)})`, s.feature));
        if (s.oldArg && have && c.args.has(s.oldArg))
          out.push(unsupported(f, c, c.args.get(s.oldArg)!.line, `${c.menu} ${s.oldArg}= is gone in RouterOS ${v.text}${s.newArg ? ` (since ${since(s.feature)}: ${s.newArg}=)` : ""}`, s.feature));
      }
    }
    return out;
  },
};

function unsupported(facts: RouterFacts, c: RosCommand, line: number, message: string, feature: FeatureId): Diagnostic {
  const f = FEATURES.find((x) => x.id === feature)!;
  return diag("routeros-command-unsupported", message, `for this release: ${f.before}`, facts.origin, line || c.line);
}

const staticFailover: RouterCheck<RosScript> = {
  codes: ["static-failover-slow"],
  run(s, f) {
    return adds(s, "/ipv6/route")
      .filter((c) => (c.args.get("dst-address")?.value ?? "::/0") === "::/0" && c.args.get("check-gateway")?.value === "ping" && rosBool(c.args.get("disabled")?.value) !== true)
      .map((c) =>
        diag(
          "static-failover-slow",
          "the default route is health-checked by ping (check-gateway=ping): a dead tunnel takes about 30 s to notice, while clients' IPv6 stalls",
          "replace it with BGP + BFD (the recipe's section 4) for sub-second failover",
          f.origin,
          c.args.get("check-gateway")!.line,
        ),
      );
  },
};

const routerosInput: RouterCheck<RosScript> = {
  codes: ["routeros-input-drops-bfd", "routeros-input-drops-bgp"],
  run(s, f) {
    const conns = adds(s, "/routing/bgp/connection");
    if (conns.length === 0) return [];
    const templates = adds(s, "/routing/bgp/template");
    const usesBfd = conns.some((c) => {
      if (rosBool(c.args.get("use-bfd")?.value)) return true;
      const names = (c.args.get("templates")?.value ?? "").split(",");
      return templates.some((t) => names.includes(t.args.get("name")?.value ?? "") && rosBool(t.args.get("use-bfd")?.value));
    });
    const wgs = f.wgInterfaces;
    if (wgs.length === 0) return [];
    const lists = new Map<string, string[]>();
    for (const m of adds(s, "/interface/list/member")) {
      const list = m.args.get("list")?.value;
      const iface = m.args.get("interface")?.value;
      if (list && iface) lists.set(list, [...(lists.get(list) ?? []), iface]);
    }
    const fromTunnel = (c: RosCommand): boolean => {
      const inIf = c.args.get("in-interface")?.value;
      if (inIf !== undefined && (inIf.startsWith("!") ? wgs.includes(inIf.slice(1)) : !wgs.includes(inIf))) return false;
      const inList = c.args.get("in-interface-list")?.value;
      if (inList !== undefined) {
        const neg = inList.startsWith("!");
        const members = lists.get(neg ? inList.slice(1) : inList) ?? [];
        const member = wgs.some((w) => members.includes(w)) || inList.replace("!", "") === "all";
        if (neg === member) return false;
      }
      return true;
    };
    const rules = adds(s, "/ipv6/firewall/filter").filter((c) => c.args.get("chain")?.value === "input" && rosBool(c.args.get("disabled")?.value) !== true);
    const NARROWING = ["protocol", "dst-port", "src-address", "src-address-list", "connection-state", "dst-address", "dst-address-list", "icmp-options", "port", "src-port"];
    const dropAt = rules.findIndex((c) => (c.args.get("action")?.value === "drop" || c.args.get("action")?.value === "reject") && fromTunnel(c) && !NARROWING.some((n) => c.args.has(n)));
    // A hand-written script shows only what was pasted: defconf's drop is on the router
    // already, so rules placed before it (place-before=) are what counts.
    if (dropAt < 0 && s.isExport) return [];
    const before = dropAt < 0 ? rules.filter((c) => c.args.has("place-before")) : rules.slice(0, dropAt).concat(rules.filter((c) => c.args.has("place-before")));
    // Matchers this check understands; a rule with any other (ipsec-policy=, src-address=,
    // ...) matches less than everything and cannot be counted as accepting BFD/BGP.
    const UNDERSTOOD = new Set(["chain", "action", "comment", "log", "log-prefix", "disabled", "place-before", "in-interface", "in-interface-list", "protocol", "dst-port", "connection-state"]);
    const accepts = (proto: string, port: number) =>
      before.some((c) => {
        if (c.args.get("action")?.value !== "accept" || !fromTunnel(c)) return false;
        if ([...c.args.keys()].some((k) => !UNDERSTOOD.has(k))) return false;
        const pr = c.args.get("protocol")?.value;
        if (pr !== undefined && pr !== proto) return false;
        const dp = c.args.get("dst-port")?.value;
        if (dp !== undefined && !portIncludes(dp.replace(/-/g, ":"), port)) return false;
        const cs = c.args.get("connection-state")?.value;
        if (cs !== undefined && !cs.split(",").includes("new")) return false;
        return true;
      });
    const drop = rules[dropAt];
    const where = drop ? `defconf's drop (${drop.args.get("comment")?.value ?? "input drop"})` : "defconf's drop on the router";
    const out: Diagnostic[] = [];
    if (usesBfd && !accepts("udp", 3784))
      out.push(
        diag(
          "routeros-input-drops-bfd",
          `no input rule accepts BFD (UDP 3784) from ${wgs.join(", ")} before ${where}: BFD from the VPS is dropped and use-bfd keeps BGP down`,
          `/ipv6/firewall/filter add chain=input action=accept protocol=udp dst-port=3784 in-interface=${wgs[0]} place-before=<the drop rule>`,
          f.origin,
          drop?.line,
        ),
      );
    if (!accepts("tcp", 179))
      out.push(
        diag(
          "routeros-input-drops-bgp",
          `no input rule accepts BGP (TCP 179) from ${wgs.join(", ")} before ${where}: bird's connects are dropped; the session comes up only when the router dials`,
          `/ipv6/firewall/filter add chain=input action=accept protocol=tcp dst-port=179 in-interface=${wgs[0]} place-before=<the drop rule>`,
          f.origin,
          drop?.line,
        ),
      );
    return out;
  },
};

export const ROUTEROS_CHECKS: readonly RouterCheck<RosScript>[] = [routerosCommands, staticFailover, routerosInput];
