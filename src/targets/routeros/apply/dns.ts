// Can the DNS server the RAs advertise answer? With dns.advertise: self the router itself
// is every segment's DNS server (advertise-dns=self, or its own address before 7.21.4), so
// it must take remote requests (/ip/dns allow-remote-requests) and its input chain must
// let a segment's queries in: defconf drops input from any interface outside the LAN
// interface list, and a VLAN is not in that list unless someone put it there. Read from the
// live router by apply (a warning) and verify (a finding). The walk is pure.
import type { Plan } from "../../../plan/plan.js";
import type { RosObject, RouterOsRest } from "../../../remote/routeros-rest.js";
import { FILTER } from "../objects.js";

export interface DnsState {
  dns: RosObject | undefined;
  lists: RosObject[];
  members: RosObject[];
  filter: RosObject[];
}

const yes = (v: string | undefined) => v === "true" || v === "yes";

/** Whether `iface` is in interface list `name`: its members, the lists it includes, less
 *  the lists it excludes; the built-in all and static hold every configured interface. */
export function inList(name: string, iface: string, s: Pick<DnsState, "lists" | "members">, seen = new Set<string>()): boolean {
  if (name === "all" || name === "static") return true;
  if (name === "none" || name === "dynamic" || seen.has(name)) return false;
  seen.add(name);
  const list = s.lists.find((l) => l.name === name);
  const split = (v: string | undefined) => (v ?? "").split(",").filter(Boolean);
  const direct = s.members.some((m) => m.list === name && m.interface === iface && !yes(m.disabled));
  const included = split(list?.include).some((l) => inList(l, iface, s, new Set(seen)));
  const excluded = split(list?.exclude).some((l) => inList(l, iface, s, new Set(seen)));
  return (direct || included) && !excluded;
}

/** The first input rule a new DNS query (UDP 53) from `iface` meets, when it drops or
 *  rejects it. Rules with a matcher this walk does not know are taken not to match. */
export function dnsBlockedBy(iface: string, s: DnsState): RosObject | undefined {
  const known: Record<string, (v: string) => boolean> = {
    chain: (v) => v === "input",
    protocol: (v) => v === "udp",
    "dst-port": (v) => v.split(",").some((r) => { const [lo, hi] = r.split("-").map(Number); return 53 >= lo! && 53 <= (hi ?? lo)!; }),
    "in-interface": (v) => (v.startsWith("!") ? v.slice(1) !== iface : v === iface),
    "in-interface-list": (v) => (v.startsWith("!") ? !inList(v.slice(1), iface, s) : inList(v, iface, s)),
    "connection-state": (v) => v.split(",").includes("new"),
  };
  const ignore = new Set([".id", "action", "comment", "disabled", "dynamic", "invalid", "log", "log-prefix", "bytes", "packets", "reject-with", ".nextid"]);
  for (const r of s.filter) {
    if (yes(r.disabled) || r.chain !== "input") continue;
    const conds = Object.entries(r).filter(([k, v]) => !ignore.has(k) && v !== "");
    if (!conds.every(([k, v]) => known[k]?.(v) ?? false)) continue;
    return r.action === "drop" || r.action === "reject" ? r : undefined;
  }
  return undefined;
}

/** Why the DNS the RAs advertise may not answer, one line per cause; [] when nothing says so. */
export function dnsReachProblems(plan: Plan, s: DnsState): string[] {
  if (plan.dns.advertise !== "self") return [];
  const out: string[] = [];
  if (s.dns && !yes(s.dns["allow-remote-requests"]))
    out.push("the RAs name the router as DNS server, but /ip/dns has allow-remote-requests=no, so it answers no client: set /ip/dns allow-remote-requests=yes (defconf's input drop keeps port 53 closed to the WAN)");
  for (const iface of [...new Set(plan.segments.map((x) => x.interface))]) {
    const rule = dnsBlockedBy(iface, s);
    if (!rule) continue;
    const names = plan.segments.filter((x) => x.interface === iface).map((x) => x.name).join(", ");
    const list = rule["in-interface-list"]?.replace(/^!/, "");
    out.push(
      `segment ${names} (${iface}): the router's input chain drops its DNS queries (rule ${rule[".id"] ?? "?"}${rule.comment ? ` "${rule.comment}"` : ""})` +
        (list ? `: ${iface} is not in interface list ${list}; add it (/interface/list/member add list=${list} interface=${iface})` : "; accept UDP/TCP 53 from it before that rule"),
    );
  }
  return out;
}

/** The same, read from the live router. */
export async function readDnsState(rest: RouterOsRest, filter?: RosObject[]): Promise<DnsState> {
  const dnsAnswer = await rest.request<RosObject | RosObject[]>("GET", "/ip/dns");
  return {
    dns: Array.isArray(dnsAnswer) ? dnsAnswer[0] : dnsAnswer,
    lists: await rest.get("/interface/list"),
    members: await rest.get("/interface/list/member"),
    filter: filter ?? (await rest.get(FILTER)),
  };
}

/** apply's warnings: the router's state before the run (the firewall as it will stay, but
 *  for relay6's own rules, which never drop input). */
export async function dnsWarnings(rest: RouterOsRest, plan: Plan, state: { menus: Map<string, RosObject[]> }, log: (l: string) => void): Promise<string[]> {
  if (plan.dns.advertise !== "self") return [];
  try {
    return dnsReachProblems(plan, await readDnsState(rest, state.menus.get(FILTER)));
  } catch (e) {
    log(`could not read what DNS needs (/ip/dns, interface lists): ${e instanceof Error ? e.message : String(e)}`);
    return [`relay6 could not check that the router answers DNS on the segments (${e instanceof Error ? e.message : String(e)})`];
  }
}
