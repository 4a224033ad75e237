// The recipe's traps, checked on a setup made by hand. Each check says which inputs it
// needs; doctor runs the ones it can and reports the rest as skipped, with the flags that
// would let them run.
import type { Diagnostic } from "../errors.js";
import { contains, containsAddress, formatAddress6, formatPrefix6, LINK_LOCAL, overlaps, parseAddress6 } from "../net/ipv6.js";
import {
  compareRelease,
  FEATURES,
  formatRelease,
  has,
  isSupported,
  parseRelease,
  SUPPORTED,
  type FeatureId,
  type Release,
} from "../targets/routeros/capabilities.js";
import type { InputKey } from "./inputs.js";
import { rosBool, type RosCommand } from "./routeros.js";
import {
  allowedIpEntries,
  connectedPrefixes,
  diag,
  hasBgp,
  rosAddsIn,
  routedConnected,
  routerSegments,
  routerTransit,
  routerWgInterfaces,
  type Parsed,
} from "./setup.js";
import { portIncludes, type UfwStatusRule } from "./ufw.js";

export interface CheckOptions {
  /** The router's RouterOS version when the export has no header (a hand-written script). */
  routerosVersion?: string;
}

export interface Check {
  /** The codes this check can emit. */
  codes: string[];
  /** Each entry must be present; an array entry is satisfied by any one of its inputs. */
  needs: (InputKey | InputKey[])[];
  run(p: Parsed, opts: CheckOptions): Diagnostic[];
  /** Why the check cannot run although its inputs are there (e.g. no RouterOS version). */
  skip?(p: Parsed, opts: CheckOptions): string | undefined;
}

const present = (p: Parsed, key: InputKey): boolean =>
  ({ wgConf: p.wg, birdConf: p.bird, ipRoute: p.routes, ipAddr: p.addrs, routerosExport: p.ros, ufwStatus: p.ufw })[key] !== undefined;

export function missingInputs(p: Parsed, check: Check): (InputKey | InputKey[])[] {
  return check.needs.filter((n) => (Array.isArray(n) ? !n.some((k) => present(p, k)) : !present(p, n)));
}

// ---- VPS: WireGuard -------------------------------------------------------------------

const allowedIpsCoverPrefix: Check = {
  codes: ["allowed-ips-covers-prefix"],
  needs: ["wgConf", ["ipRoute", "ipAddr"]],
  run(p) {
    const out: Diagnostic[] = [];
    const connected = connectedPrefixes(p);
    for (const e of allowedIpEntries(p)) {
      if (!e.prefix) continue;
      // A route to wg0 no longer than a connected route on the NIC ties on length (or
      // loses) and the NIC's lower metric wins: return traffic is solicited on the NIC.
      const c = connected.find((x) => overlaps(e.prefix!, x.prefix) && e.prefix!.length <= x.prefix.length);
      if (!c) continue;
      out.push(
        diag(
          "allowed-ips-covers-prefix",
          `AllowedIPs ${e.text} is as wide as the connected ${formatPrefix6(c.prefix)} on ${c.dev}${c.metric !== undefined ? ` (metric ${c.metric})` : ""}: that route wins and return traffic to the LAN is solicited on ${c.dev} and lost`,
          `replace ${e.text} with the router's transit /128 and one /64 per LAN segment, then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
          p.wg!.origin,
          e.line,
        ),
      );
    }
    return out;
  },
};

/** Is `inner` sent into the tunnel by an AllowedIPs entry that beats the connected route? */
function tunnelled(p: Parsed, inner: { network: bigint; length: number }): boolean {
  const connected = connectedPrefixes(p);
  return allowedIpEntries(p).some(
    (e) => e.prefix !== undefined && contains(e.prefix, inner) && !connected.some((c) => overlaps(c.prefix, e.prefix!) && e.prefix!.length <= c.prefix.length),
  );
}

const allowedIpsMissingSegment: Check = {
  codes: ["allowed-ips-missing-segment"],
  needs: ["wgConf", "routerosExport"],
  run(p) {
    // With the routed prefix known, only its /64s belong in the tunnel (an ISP's /64 on
    // another uplink does not).
    const routed = routedConnected(p);
    return routerSegments(p)
      .filter((s) => !routed || contains(routed.prefix, s.prefix))
      .filter((s) => !tunnelled(p, s.prefix))
      .map((s) =>
        diag(
          "allowed-ips-missing-segment",
          `the router advertises ${formatPrefix6(s.prefix)} on ${s.iface} (SLAAC), but no AllowedIPs entry in ${p.wg!.origin} sends it into the tunnel: return traffic to its hosts leaves by the VPS's NIC`,
          `add ${formatPrefix6(s.prefix)} to AllowedIPs, then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
          p.ros!.origin,
          s.line,
        ),
      );
  },
};

const allowedIpsMissingTransit: Check = {
  codes: ["allowed-ips-missing-transit"],
  needs: ["wgConf", ["routerosExport", "birdConf"]],
  run(p) {
    const t = routerTransit(p);
    if (!t || tunnelled(p, { network: t.address, length: 128 })) return [];
    const peerLine = p.wg!.conf.peers[0]?.line;
    return [
      diag(
        "allowed-ips-missing-transit",
        `the router's transit address ${formatAddress6(t.address)} is not in AllowedIPs: BGP and pings to the router fail`,
        `add ${formatAddress6(t.address)}/128 to AllowedIPs`,
        p.wg!.origin,
        peerLine,
      ),
    ];
  },
};

const linkLocal: Check = {
  codes: ["wg-link-local-missing"],
  needs: ["wgConf", "birdConf"],
  run(p) {
    const nhs = p.bird!.conf.bgp.find((b) => b.nextHopSelf);
    if (!nhs) return [];
    const hasLl = p.wg!.conf.interfaceAddresses.some((a) => {
      const addr = parseAddress6(a.value.split("/")[0]!);
      return addr !== undefined && containsAddress(LINK_LOCAL, addr);
    });
    if (hasLl) return [];
    const line = p.wg!.conf.sections.find((s) => s.name.toLowerCase() === "interface")?.line;
    return [
      diag(
        "wg-link-local-missing",
        `${p.wg!.iface} has no link-local Address, and bird's BGP protocol ${nhs.name} uses \`next hop self\` (${p.bird!.origin}:${nhs.nextHopSelf!.line}): bird needs a link-local next hop on ${p.wg!.iface}, and wg-quick adds none`,
        `add \`Address = fe80::1/64\` to [Interface], then wg-quick down ${p.wg!.iface} && wg-quick up ${p.wg!.iface}`,
        p.wg!.origin,
        line,
      ),
    ];
  },
};

// ---- VPS: bird ------------------------------------------------------------------------

const birdBfdOff: Check = {
  codes: ["bird-bgp-bfd-off"],
  needs: ["birdConf"],
  run(p) {
    return p.bird!.conf.bgp
      .filter((b) => !b.bfd?.on)
      .map((b) =>
        diag(
          "bird-bgp-bfd-off",
          `protocol bgp ${b.name} has ${b.bfd ? "`bfd off`" : "no `bfd on`"}: bird's BGP ignores BFD and stays Established on a dead tunnel; only the router's own BFD withdraws the route`,
          `add \`bfd on;\` to protocol bgp ${b.name}`,
          p.bird!.origin,
          b.bfd?.line ?? b.line,
        ),
      );
  },
};

const birdBfdPassive: Check = {
  codes: ["bird-bfd-passive"],
  needs: ["birdConf"],
  run(p) {
    if (p.bird!.conf.bgp.length === 0) return [];
    return p.bird!.conf.bfd
      .filter((b) => b.neighbors.length === 0)
      .map((b) => {
        const peer = p.bird!.conf.bgp.find((x) => x.neighbor)?.neighbor ?? "<router transit address>";
        const dev = b.interfaces[0]?.pattern ?? `"${p.wg?.iface ?? "wg0"}"`;
        return diag(
          "bird-bfd-passive",
          `protocol bfd${b.name ? ` ${b.name}` : ""} has only interface clauses: bird answers BFD but never starts it, so after an outage bird and the router each wait for the other and recovery needs \`birdc restart\``,
          `add \`neighbor ${peer} dev ${dev.startsWith('"') ? dev : `"${dev}"`};\` to protocol bfd`,
          p.bird!.origin,
          b.line,
        );
      });
  },
};

const BIRD_DEFAULTS = { errorWait: [60, 300], connectDelay: 5 } as const;

const birdTimers: Check = {
  codes: ["bird-slow-timers"],
  needs: ["birdConf"],
  run(p) {
    const out: Diagnostic[] = [];
    for (const b of p.bird!.conf.bgp) {
      const slow: string[] = [];
      const ew = b.errorWait;
      if (!ew) slow.push(`error wait time is bird's default ${BIRD_DEFAULTS.errorWait.join("-")} s`);
      else if (ew.min > 5) slow.push(`error wait time ${ew.min}, ${ew.max} s`);
      const cd = b.connectDelay;
      if (!cd) slow.push(`connect delay time is bird's default ${BIRD_DEFAULTS.connectDelay} s`);
      else if (cd.value > 2) slow.push(`connect delay time ${cd.value} s`);
      if (slow.length === 0) continue;
      out.push(
        diag(
          "bird-slow-timers",
          `protocol bgp ${b.name}: ${slow.join("; ")}: bird counts a BFD drop as an error and refuses the router's reconnect for that long (measured: ~57 s to restore)`,
          `add \`error wait time 0, 0; error forget time 0; connect delay time 0; connect retry time 1;\` to protocol bgp ${b.name}`,
          p.bird!.origin,
          ew && ew.min > 5 ? ew.line : cd && cd.value > 2 ? cd.line : b.line,
        ),
      );
    }
    return out;
  },
};

// ---- VPS: ufw -------------------------------------------------------------------------

/** Applies to IPv6: `(v6)` rules, or rules naming an IPv6 address. */
const v6Rule = (r: UfwStatusRule) => r.v6 || r.to.address.includes(":") || r.from.address.includes(":");

/** `OpenSSH`, `Nginx Full`: application profiles, which name their own ports. */
const isAppProfile = (address: string) => address !== "Anywhere" && !/[:.]/.test(address);

const ufwBgpBfd: Check = {
  codes: ["ufw-blocks-bgp-bfd"],
  needs: ["ufwStatus", ["birdConf", "routerosExport"]],
  run(p) {
    const st = p.ufw!.status;
    const incoming = st.defaults?.incoming;
    if (!st.active || !hasBgp(p) || (incoming !== "deny" && incoming !== "reject")) return [];
    const wg = p.wg?.iface ?? "wg0";
    const allows = (port: number, proto: string) =>
      st.rules.some(
        (r) =>
          (r.action === "ALLOW" || r.action === "LIMIT") &&
          (r.direction === undefined || r.direction === "IN") &&
          v6Rule(r) &&
          (r.to.iface === undefined || r.to.iface === wg) &&
          (r.to.proto === undefined || r.to.proto === proto) &&
          !isAppProfile(r.to.address) &&
          portIncludes(r.to.port, port),
      );
    const t = routerTransit(p);
    const rtr = t ? formatAddress6(t.address) : "<router transit address>";
    const missing = [allows(179, "tcp") ? undefined : "BGP (TCP 179)", allows(3784, "udp") ? undefined : "BFD (UDP 3784)"].filter((x) => x);
    if (missing.length === 0) return [];
    return [
      diag(
        "ufw-blocks-bgp-bfd",
        `ufw is active with default ${incoming} incoming and nothing allows ${missing.join(" or ")} in on ${wg}: the router's BFD goes down within seconds, its BGP connects are dropped and it loses its default route`,
        `ufw allow in on ${wg} from ${rtr} to any port 179 proto tcp; ufw allow in on ${wg} from ${rtr} to any port 3784 proto udp`,
        p.ufw!.origin,
        st.defaults?.line ?? st.statusLine,
      ),
    ];
  },
};

const ufwRouteOut: Check = {
  codes: ["ufw-route-allows-inbound"],
  needs: ["ufwStatus"],
  run(p) {
    const st = p.ufw!.status;
    if (!st.active) return [];
    const wg = p.wg?.iface ?? "wg0";
    // `ufw route allow out on wg0` prints as `Anywhere on wg0  ALLOW FWD  Anywhere`: no
    // source, port or inbound interface, so a NEW connection from any internet host to
    // any LAN host is forwarded.
    const r = st.rules.find(
      (x) =>
        x.action === "ALLOW" &&
        x.direction === "FWD" &&
        v6Rule(x) &&
        x.to.iface === wg &&
        x.to.port === undefined &&
        x.to.address === "Anywhere" &&
        x.from.address === "Anywhere" &&
        x.from.iface !== wg,
    );
    if (!r) return [];
    return [
      diag(
        "ufw-route-allows-inbound",
        `ufw forwards anything out on ${wg}${r.from.iface ? ` from ${r.from.iface}` : ""}: any internet host can open connections to every LAN host (replies to LAN-started traffic pass without it)`,
        `ufw route delete allow out on ${wg}; for a service that must be reachable: ufw route allow out on ${wg} to <host> port <port> proto tcp`,
        p.ufw!.origin,
        r.line,
      ),
    ];
  },
};

// ---- router: RouterOS -----------------------------------------------------------------

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

function routerRelease(p: Parsed, opts: CheckOptions): { release: Release; text: string; line?: number } | undefined {
  const text = opts.routerosVersion ?? p.ros!.script.version;
  if (!text) return undefined;
  const release = parseRelease(text);
  if (!release) return undefined;
  return { release, text, ...(opts.routerosVersion === undefined && p.ros!.script.versionLine ? { line: p.ros!.script.versionLine } : {}) };
}

const routerosCommands: Check = {
  codes: ["routeros-command-unsupported", "routeros-version-untested"],
  needs: ["routerosExport"],
  skip(p, opts) {
    if (routerRelease(p, opts)) return undefined;
    const given = opts.routerosVersion ?? p.ros!.script.version;
    return given ? `"${given}" is not a RouterOS version` : "the export has no `by RouterOS x.y` header; pass --routeros-version";
  },
  run(p, opts) {
    const v = routerRelease(p, opts);
    if (!v) return [];
    const out: Diagnostic[] = [];
    let r = v.release;
    if (!isSupported(r)) {
      const nearest = compareRelease(r, SUPPORTED.from) < 0 ? SUPPORTED.from : ([7, 24, 0] as Release);
      out.push(diag("routeros-version-untested", `RouterOS ${v.text} is outside ${SUPPORTED.text}; checked as ${formatRelease(nearest)}`, "upgrade RouterOS to a release relay6 knows, or check the commands by hand", p.ros!.origin, v.line));
      r = nearest;
    }
    const since = (f: FeatureId) => formatRelease(FEATURES.find((x) => x.id === f)!.since);
    for (const c of p.ros!.script.commands) {
      for (const s of SYNTAX) {
        if (!s.menus.some((m) => c.menu === m || c.menu.startsWith(m + "/"))) continue;
        const have = has(r, s.feature);
        const what = FEATURES.find((x) => x.id === s.feature)!.what;
        if (s.menu && !have) {
          out.push(unsupported(p, c, c.line, `${c.menu} does not exist in RouterOS ${v.text} (${what}: from ${since(s.feature)})`, s.feature));
          continue;
        }
        if (s.newArg && !have && c.args.has(s.newArg) && (s.value === undefined || c.args.get(s.newArg)!.value === s.value))
          out.push(unsupported(p, c, c.args.get(s.newArg)!.line, `${c.menu} ${s.newArg}=${s.value ?? ""} is not in RouterOS ${v.text} (${what}: from ${since(s.feature)})`, s.feature));
        if (s.oldArg && have && c.args.has(s.oldArg))
          out.push(unsupported(p, c, c.args.get(s.oldArg)!.line, `${c.menu} ${s.oldArg}= is gone in RouterOS ${v.text}${s.newArg ? ` (since ${since(s.feature)}: ${s.newArg}=)` : ""}`, s.feature));
      }
    }
    return out;
  },
};

function unsupported(p: Parsed, c: RosCommand, line: number, message: string, feature: FeatureId): Diagnostic {
  const f = FEATURES.find((x) => x.id === feature)!;
  return diag("routeros-command-unsupported", message, `for this release: ${f.before}`, p.ros!.origin, line || c.line);
}

const staticFailover: Check = {
  codes: ["static-failover-slow"],
  needs: ["routerosExport"],
  run(p) {
    return rosAddsIn(p, "/ipv6/route")
      .filter((c) => (c.args.get("dst-address")?.value ?? "::/0") === "::/0" && c.args.get("check-gateway")?.value === "ping" && rosBool(c.args.get("disabled")?.value) !== true)
      .map((c) =>
        diag(
          "static-failover-slow",
          "the default route is health-checked by ping (check-gateway=ping): a dead tunnel takes about 30 s to notice, while clients' IPv6 stalls",
          "replace it with BGP + BFD (the recipe's section 4) for sub-second failover",
          p.ros!.origin,
          c.args.get("check-gateway")!.line,
        ),
      );
  },
};

const routerosInput: Check = {
  codes: ["routeros-input-drops-bfd", "routeros-input-drops-bgp"],
  needs: ["routerosExport"],
  run(p) {
    const conns = rosAddsIn(p, "/routing/bgp/connection");
    if (conns.length === 0) return [];
    const templates = rosAddsIn(p, "/routing/bgp/template");
    const usesBfd = conns.some((c) => {
      if (rosBool(c.args.get("use-bfd")?.value)) return true;
      const names = (c.args.get("templates")?.value ?? "").split(",");
      return templates.some((t) => names.includes(t.args.get("name")?.value ?? "") && rosBool(t.args.get("use-bfd")?.value));
    });
    const wgs = routerWgInterfaces(p);
    if (wgs.length === 0) return [];
    const lists = new Map<string, string[]>();
    for (const m of rosAddsIn(p, "/interface/list/member")) {
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
    const rules = rosAddsIn(p, "/ipv6/firewall/filter").filter((c) => c.args.get("chain")?.value === "input" && rosBool(c.args.get("disabled")?.value) !== true);
    const NARROWING = ["protocol", "dst-port", "src-address", "src-address-list", "connection-state", "dst-address", "dst-address-list", "icmp-options", "port", "src-port"];
    const dropAt = rules.findIndex((c) => (c.args.get("action")?.value === "drop" || c.args.get("action")?.value === "reject") && fromTunnel(c) && !NARROWING.some((n) => c.args.has(n)));
    // A hand-written script shows only what was pasted: defconf's drop is on the router
    // already, so rules placed before it (place-before=) are what counts.
    if (dropAt < 0 && p.ros!.script.isExport) return [];
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
          p.ros!.origin,
          drop?.line,
        ),
      );
    if (!accepts("tcp", 179))
      out.push(
        diag(
          "routeros-input-drops-bgp",
          `no input rule accepts BGP (TCP 179) from ${wgs.join(", ")} before ${where}: bird's connects are dropped; the session comes up only when the router dials`,
          `/ipv6/firewall/filter add chain=input action=accept protocol=tcp dst-port=179 in-interface=${wgs[0]} place-before=<the drop rule>`,
          p.ros!.origin,
          drop?.line,
        ),
      );
    return out;
  },
};

export const CHECKS: readonly Check[] = [
  allowedIpsCoverPrefix,
  allowedIpsMissingSegment,
  allowedIpsMissingTransit,
  linkLocal,
  birdBfdOff,
  birdBfdPassive,
  birdTimers,
  ufwBgpBfd,
  ufwRouteOut,
  routerosCommands,
  staticFailover,
  routerosInput,
];
