// The lab's IPv4, as every home LAN has it beside the relay's IPv6: the internet host is
// dual-stack, each client has a private IPv4 address behind its site's router, and the
// router NATs it (NAT44) out of its WAN. relay6 renders none of this (the home router's
// IPv4 is not its business); the lab needs it to show what clients fall back to when IPv6
// dies. Each client's /etc/hosts names the internet host once with both families (DUAL_NAME).
import { mkdirSync, writeFileSync } from "node:fs";
import { LabError } from "./exec.js";
import { ipIn, nsMust, nsOf } from "./nodes.js";
import { saveState, type LabClient, type LabState } from "./state.js";

/** The internet host's IPv4 address (TEST-NET-3, in the internet host's namespace beside its
 *  IPv6 one, inet .1 of its /24). */
export const INTERNET_HOST4 = "203.0.113.100";
/** A name with an A and an AAAA record (the internet host), in every client's /etc/hosts. */
export const DUAL_NAME = "dual.lab";

/** Client N's IPv4 subnet behind the router of site number `site` (0-based): the first
 *  site's 192.168.N.0/24, the others' 10.<site>.N.0/24; router .1, client .2. */
export const clientIpv4 = (site: number, n: number) => {
  const net = site === 0 ? `192.168.${n}` : `10.${site}.${n}`;
  return { router: `${net}.1`, client: `${net}.2`, length: 24 };
};

const ip = async (state: LabState, role: string, ...args: string[]) => {
  const r = await ipIn(state, role, args);
  if (r.code !== 0) throw new LabError(`[${nsOf(state, role)}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
};

/** The internet host's IPv4 address, once per lab. */
export async function addInternetIpv4(state: LabState, hostRole: string): Promise<void> {
  await ip(state, hostRole, "addr", "add", `${INTERNET_HOST4}/24`, "dev", "eth0");
  await ip(state, "inet", "addr", "add", `${INTERNET_GW4}/24`, "dev", "hst0");
  await ip(state, hostRole, "-4", "route", "add", "default", "via", INTERNET_GW4);
}
const INTERNET_GW4 = "203.0.113.1";

/** One site's IPv4: its clients' addresses, the router's side of each, NAT44 out of its WAN. */
export async function addSiteIpv4(state: LabState, site: number, rtr: string, clients: LabClient[], wan: string, internetHost6: string): Promise<void> {
  await nsMust(state, rtr, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  for (const [i, c] of clients.entries()) {
    const a = clientIpv4(site, i + 1);
    await ip(state, rtr, "addr", "add", `${a.router}/${a.length}`, "dev", c.routerIf);
    await ip(state, c.role, "addr", "add", `${a.client}/${a.length}`, "dev", "eth0");
    c.ipv4 = a.client;
    c.ipv4Gateway = a.router;
    writeHosts(state, c, internetHost6);
  }
  saveState(state);
  await nsMust(state, rtr, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"]);
}

/** The default route comes once the client's link is up. */
export async function clientIpv4Routes(state: LabState, clients: LabClient[]): Promise<void> {
  for (const c of clients) {
    if (!c.ipv4Gateway) continue;
    const r = await ipIn(state, c.role, ["-4", "route", "replace", "default", "via", c.ipv4Gateway]);
    if (r.code !== 0) throw new LabError(`[${c.ns}] ip route add default: ${r.stderr.trim()}`);
  }
}

/** /etc/netns/<client>/hosts: `ip netns exec` mounts it over /etc/hosts for the client. */
function writeHosts(state: LabState, c: LabClient, internetHost6: string): void {
  const dir = `/etc/netns/${c.ns}`;
  mkdirSync(dir, { recursive: true });
  if (!state.etcDirs.includes(dir)) state.etcDirs.push(dir);
  writeFileSync(`${dir}/hosts`, ["127.0.0.1 localhost", "::1 localhost", `${INTERNET_HOST4} ${DUAL_NAME}`, `${internetHost6} ${DUAL_NAME}`, ""].join("\n"));
}
