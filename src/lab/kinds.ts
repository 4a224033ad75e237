// `lab test`'s checks for the kind of provider the site has (provider.ts) and the traps of
// single-/64 sites, each with its negative control: the fix taken away, the claim must
// fail, traffic the client starts included (a reply that never comes back is as lost as
// an unsolicited packet); then the fix put back and the claim holding again.
//
//   on-link     ndppd's static rule makes clients reachable; without ndppd, or with an
//               `iface wg0` or `auto` rule, every packet to them is lost.
//   routed-64   the VPS's own address keeps no connected /64; with it back (or an RA's
//               prefix route: accept_ra_pinfo 1) every packet to the LAN is lost; LAN
//               hosts reach the VPS's address only through the router's proxy entry.
//   any /64     the router's own traffic leaves from its LAN address (a ULA transit
//               deprecated: preferred again, it leaves from the ULA and is lost); with a
//               ULA transit the VPS's own traffic keeps its global source even when that
//               global is deprecated; ULA-only segments and previous /64s behave.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containsAddress, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import { isGlobal } from "../plan/plan.js";
import { NDPPD_ARTIFACT, startNdppd } from "./daemons.js";
import { isRunning, sleep, waitFor } from "./exec.js";
import { ipIn, nsRun } from "./nodes.js";
import { slaacAddress } from "./probes.js";
import { providerOf, VPS_NIC_MAC, type Provided } from "./provider.js";
import { saveState, type LabClient, type LabSite, type LabState, requireReadyLab } from "./state.js";
import { INTERNET_ROLE } from "./topology.js";

type Ready = ReturnType<typeof requireReadyLab>;

/** What the provider gives: the relay's prefix and VPS (a standalone site's own). */
const relayOf = (s: Ready): Provided => s.relay ?? s.plan;

/** The kind of provider the lab's inet emulates for this lab. */
export const relayKind = (s: Ready) => providerOf(relayOf(s)).kind;
type Check = { name: string; run: (s: Ready) => Promise<string> };

class Failed extends Error {}
const fail = (msg: string): never => {
  throw new Failed(msg);
};

/** Echo replies `role` gets from `to` out of `count` (0.2 s apart). */
async function replies(s: LabState, role: string, to: string, count = 3, wait = 1): Promise<number> {
  const r = await nsRun(s, role, ["ping", "-6", "-n", "-c", String(count), "-i", "0.2", "-W", String(wait), to], { timeoutMs: 15_000 });
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? "0");
}

async function reaches(s: LabState, role: string, to: string, what: string): Promise<void> {
  await waitFor(what, async () => ((await replies(s, role, to, 1, 1)) > 0 ? true : undefined), 20_000, 100);
}

async function ip(s: LabState, role: string, ...args: string[]): Promise<string> {
  const r = await ipIn(s, role, args);
  if (r.code !== 0) fail(`[${role}] ip ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

const INTERNET = INTERNET_ROLE;

/** The first client with a global address, and that address. */
async function globalClient(s: Ready, site: LabSite): Promise<{ c: LabClient; a: string }> {
  const c = site.clients.find((x) => x.global !== false) ?? fail("no client with a global address");
  return { c, a: (await slaacAddress(s, c)) ?? fail(`${c.role} has no address in ${c.prefix}`) };
}

/** Both directions lost: the internet host's pings to the client, and the client's own to
 *  the internet host (its echo requests leave; the replies never come back). */
async function expectCut(s: Ready, c: LabClient, a: string, why: string): Promise<string> {
  const inbound = await replies(s, INTERNET, a, 5);
  const outbound = await replies(s, c.role, s.addresses.internetHost, 5);
  if (inbound > 0 || outbound > 0) fail(`${why}: still ${inbound}/5 replies from ${a} and ${outbound}/5 to ${c.role}'s own pings`);
  return `${why}: internet → ${c.role} 0/5, ${c.role} → internet 0/5`;
}

async function expectFlows(s: Ready, c: LabClient, a: string, what: string): Promise<void> {
  await reaches(s, INTERNET, a, `${what}: the internet host to reach ${a}`);
  await reaches(s, c.role, s.addresses.internetHost, `${what}: ${c.role} to reach the internet host`);
}

/** The provider router forgets the LAN hosts it had resolved (as its cache expires). */
const forgetNeighbours = (s: LabState) => ipIn(s, "inet", ["-6", "neigh", "flush", "dev", "vps0"]);

// --- ndppd ------------------------------------------------------------------------------

function ndppdPids(s: LabState): number[] {
  return s.daemons.filter((d) => d.name === "ndppd").map((d) => d.pid);
}

async function stopNdppd(s: LabState): Promise<void> {
  for (const pid of ndppdPids(s)) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(10);
  }
  s.daemons = s.daemons.filter((d) => d.name !== "ndppd");
  saveState(s);
}

/** ndppd on `conf`: the rendered one unless a variant is given. */
async function restartNdppd(s: LabState, conf = join(s.dir, "artifacts", NDPPD_ARTIFACT)): Promise<void> {
  await stopNdppd(s);
  startNdppd(s, conf);
  await sleep(200);
}

/** The rendered ndppd.conf with its rules' method replaced (`iface wg0`, `auto`). */
function ndppdVariant(s: LabState, method: string): string {
  const rendered = readFileSync(join(s.dir, "artifacts", NDPPD_ARTIFACT), "utf8");
  const text = rendered.replace(/^(\s*)static$/gm, `$1${method}`);
  if (text === rendered) fail("the rendered ndppd.conf has no static rule to replace");
  const file = join(s.dir, `ndppd-${method.replace(/\s+/g, "-")}.conf`);
  writeFileSync(file, text);
  return file;
}

function onLinkChecks(s: Ready, site: LabSite): Check[] {
  const plan = relayOf(s);
  return [
    {
      name: "on-link: the provider solicits the LAN's addresses on the VPS's link; ndppd's static rule answers",
      run: async () => {
        const { c, a } = await globalClient(s, site);
        const route = (await ip(s, "inet", "-6", "route", "show", plan.prefix)).trim();
        if (/ via /.test(route) || !/dev vps0/.test(route)) fail(`inet should hold ${plan.prefix} on its link with no gateway, has: ${route}`);
        await forgetNeighbours(s);
        await expectFlows(s, c, a, "on-link with ndppd");
        const n = (await ip(s, "inet", "-6", "neigh", "show", a, "dev", "vps0")).trim();
        if (!n.includes(VPS_NIC_MAC)) fail(`inet's neighbour entry for ${a} should name the VPS's MAC ${VPS_NIC_MAC}: ${n || "none"}`);
        return `inet: ${route}; ${a} resolved to the VPS's NIC (${n})`;
      },
    },
    {
      name: "negative control: without ndppd every packet to a client is lost, replies to its own connections too",
      run: async () => {
        const { c, a } = await globalClient(s, site);
        await stopNdppd(s);
        let detail = "";
        try {
          await forgetNeighbours(s);
          detail = await expectCut(s, c, a, "ndppd stopped");
        } finally {
          await restartNdppd(s);
        }
        await forgetNeighbours(s);
        await expectFlows(s, c, a, "ndppd back");
        return `${detail}; ndppd back: both directions flow`;
      },
    },
    {
      name: "negative control: a non-static ndppd rule (iface wg0, auto) loses the clients",
      run: async () => {
        const { c, a } = await globalClient(s, site);
        const seen: string[] = [];
        try {
          for (const method of ["iface wg0", "auto"]) {
            await restartNdppd(s, ndppdVariant(s, method));
            await forgetNeighbours(s);
            seen.push(await expectCut(s, c, a, `rule method ${method}`));
          }
        } finally {
          await restartNdppd(s);
        }
        await forgetNeighbours(s);
        await expectFlows(s, c, a, "static again");
        return `${seen.join("; ")}; static again: both directions flow`;
      },
    },
  ];
}

// --- routed /64 ---------------------------------------------------------------------------

const VPS_NET = "/etc/wireguard/relay6-vps-net.sh";

function routed64Checks(s: Ready, site: LabSite): Check[] {
  const plan = relayOf(s);
  const nic = plan.vps.nic;
  const own = site.plan.vps.ownAddress;
  const provider = providerOf(plan);
  const rtr = site.rtr.role;
  const checks: Check[] = [
    {
      name: "routed /64: inet routes it to the VPS's link-local; the VPS's own address keeps no connected /64",
      run: async () => {
        const { c, a } = await globalClient(s, site);
        const route = (await ip(s, "inet", "-6", "route", "show", plan.prefix)).trim();
        if (!/ via fe80::/.test(route)) fail(`inet should route ${plan.prefix} via the VPS's link-local: ${route}`);
        if (!own?.dropPrefixRoute) fail("the plan should move the VPS's own address (vps.upstream.address in the /64)");
        const addr = (await ip(s, "vps", "-6", "-o", "addr", "show", "dev", nic)).split("\n").find((l) => l.includes(` ${own!.cidr} `)) ?? "";
        if (!/noprefixroute/.test(addr)) fail(`${own!.cidr} on ${nic} should have no prefix route: ${addr.trim() || "absent"}`);
        const onNic = (await ip(s, "vps", "-6", "route", "show", plan.prefix, "dev", nic)).trim();
        if (onNic) fail(`a route for ${plan.prefix} is on ${nic}: ${onNic}`);
        await expectFlows(s, c, a, "routed /64");
        await reaches(s, INTERNET, own!.address, "the internet host to reach the VPS's own address");
        return `inet: ${route}; ${own!.cidr} noprefixroute; internet ↔ ${c.role} and → the VPS's ${own!.address}`;
      },
    },
    {
      name: "negative control: the provider's connected /64 back on the NIC loses every client",
      run: async () => {
        const { c, a } = await globalClient(s, site);
        let detail = "";
        try {
          await ip(s, "vps", "-6", "addr", "change", own!.cidr, "dev", nic);
          const r = (await ip(s, "vps", "-6", "route", "get", a)).trim();
          if (!new RegExp(` dev ${nic} `).test(r + " ")) fail(`with the connected /64 back the VPS should route ${a} to ${nic}: ${r}`);
          detail = await expectCut(s, c, a, `connected ${plan.prefix} on ${nic}`);
        } finally {
          await nsRun(s, "vps", ["bash", VPS_NET, "up"]);
        }
        await expectFlows(s, c, a, "relay6-vps-net.sh up again");
        return `${detail}; ${VPS_NET} up: both directions flow`;
      },
    },
    {
      name: "negative control: an RA's prefix route (accept_ra_pinfo 1) loses every client; pinfo 0 keeps it off",
      run: async () => {
        if (!provider.radvd) fail("the lab's provider should advertise the /64 on the VPS's link");
        const { c, a } = await globalClient(s, site);
        await sleep(5000); // at least one RA from inet (MaxRtrAdvInterval 4 s) while pinfo is 0
        const before = (await ip(s, "vps", "-6", "route", "show", plan.prefix, "dev", nic)).trim();
        if (before) fail(`with pinfo 0 an RA still put ${before}`);
        const key = `net.ipv6.conf.${nic.replace(/\./g, "/")}.accept_ra_pinfo`;
        let detail = "";
        try {
          await nsRun(s, "vps", ["sysctl", "-q", "-w", `${key}=1`]);
          // The kernel installs an RA's on-link prefix as a route that expires (proto kernel).
          const ra = await waitFor("an RA-learned route for the /64 on the NIC", async () => {
            const r = (await ipIn(s, "vps", ["-6", "route", "show", plan.prefix, "dev", nic])).stdout.trim();
            return r ? r : undefined;
          }, 15_000, 200);
          detail = `${await expectCut(s, c, a, `pinfo 1: ${ra}`)}`;
        } finally {
          await nsRun(s, "vps", ["sysctl", "-q", "-w", `${key}=0`]);
          await ipIn(s, "vps", ["-6", "addr", "flush", "dev", nic, "scope", "global", "dynamic"]);
          await nsRun(s, "vps", ["bash", VPS_NET, "up"]);
        }
        await expectFlows(s, c, a, "pinfo 0 again");
        return `pinfo 0: no route from inet's RAs; ${detail}; pinfo 0 again: both directions flow`;
      },
    },
    {
      name: "LAN clients reach the VPS's own address in their /64 (the router answers for it); without the proxy entry they cannot",
      run: async () => {
        const { c } = await globalClient(s, site);
        const x = own!.address;
        await reaches(s, c.role, x, `${c.role} to reach the VPS's ${x}`);
        let detail = "";
        try {
          await ip(s, rtr, "-6", "neigh", "del", "proxy", x, "dev", own!.interface);
          await ipIn(s, c.role, ["-6", "neigh", "flush", "dev", "eth0"]);
          const got = await replies(s, c.role, x, 5);
          if (got > 0) fail(`without the router's proxy entry ${c.role} still got ${got}/5 replies from ${x}`);
          detail = `without the proxy entry: ${c.role} → ${x} 0/5`;
        } finally {
          await nsRun(s, rtr, ["bash", join(s.dir, "artifacts", site.dir, "router/files/usr/local/sbin/relay6-router-net")]);
        }
        await reaches(s, c.role, x, "the proxy entry back");
        return `${c.role} → ${x} answered; ${detail}; relay6-router-net again: answered`;
      },
    },
  ];
  return checks;
}

// --- any /64 site ------------------------------------------------------------------------

/** The source address of the router's pings to the internet host, as the host sees it. */
async function routerPingSource(s: Ready, rtr: string): Promise<string | undefined> {
  const capture = nsRun(s, INTERNET, ["timeout", "6", "tcpdump", "-i", "eth0", "-n", "-l", "-c", "1", "icmp6 and ip6[40] == 128"], { timeoutMs: 10_000 });
  await sleep(700);
  await replies(s, rtr, s.addresses.internetHost, 3);
  const out = (await capture).stdout;
  return /IP6 ([0-9a-f:]+) > /.exec(out)?.[1];
}

function single64Checks(s: Ready, site: LabSite): Check[] {
  const plan = site.plan;
  const rtr = site.rtr.role;
  const lan = plan.segments.find(isGlobal)!;
  const checks: Check[] = [
    {
      name: "the router's own traffic leaves from its LAN address and reaches the internet host",
      run: async () => {
        const got = await routerPingSource(s, rtr);
        if (got !== lan.router.address) fail(`the router's pings reached the internet host from ${got ?? "nowhere"}, not its LAN address ${lan.router.address}`);
        return `${rtr} → ${s.addresses.internetHost}: seen from ${got} (${plan.transit.kind} transit)`;
      },
    },
  ];
  if (plan.transit.kind === "ula") {
    const wg = plan.router.tunnelInterface;
    checks.push(
      {
        name: "negative control: the router's ULA transit preferred again (no PostUp deprecation): its own traffic leaves from the ULA and is lost",
        run: async () => {
          let detail = "";
          try {
            await ip(s, rtr, "-6", "addr", "change", plan.transit.router.cidr, "dev", wg, "preferred_lft", "forever");
            const src = /src (\S+)/.exec(await ip(s, rtr, "-6", "route", "get", s.addresses.internetHost))?.[1];
            if (src !== plan.transit.router.address) fail(`with the ULA preferred the router's source should be ${plan.transit.router.address}, is ${src}`);
            const got = await replies(s, rtr, s.addresses.internetHost, 3);
            if (got > 0) fail(`from the ULA the router still got ${got}/3 replies`);
            detail = `ULA preferred: source ${src}, 0/3 replies`;
          } finally {
            await ip(s, rtr, "-6", "addr", "change", plan.transit.router.cidr, "dev", wg, "preferred_lft", "0");
          }
          const back = await routerPingSource(s, rtr);
          if (back !== lan.router.address) fail(`deprecated again, the router's source is ${back}`);
          return `${detail}; deprecated again: from ${back}`;
        },
      },
      {
        name: "the VPS's own IPv6 keeps its global source with a ULA on wg0, its global deprecated; preferred, the ULA would take over",
        run: async () => {
          const provider = providerOf(relayOf(s));
          const nic = relayOf(s).vps.nic;
          const src = async () => /src (\S+)/.exec(await ip(s, "vps", "-6", "route", "get", s.addresses.internetHost))?.[1];
          let detail = "";
          try {
            await ip(s, "vps", "-6", "addr", "change", provider.vpsCidr, "dev", nic, "preferred_lft", "0");
            const a = await src();
            if (a !== provider.vpsAddress) fail(`with its global deprecated the VPS's source should stay ${provider.vpsAddress} (the ULA is deprecated too), is ${a}`);
            if ((await replies(s, "vps", s.addresses.internetHost, 3)) === 0) fail("the VPS's own pings to the internet host got no reply");
            await ip(s, "vps", "-6", "addr", "change", plan.transit.vps.cidr, "dev", "wg0", "preferred_lft", "forever");
            const b = await src();
            if (b !== plan.transit.vps.address) fail(`with the ULA preferred the VPS's source should turn to ${plan.transit.vps.address}, is ${b}`);
            const got = await replies(s, "vps", s.addresses.internetHost, 3);
            if (got > 0) fail(`from the ULA the VPS still got ${got}/3 replies`);
            detail = `global deprecated: source ${a}, replies; ULA preferred too: source ${b}, 0/3`;
          } finally {
            await ip(s, "vps", "-6", "addr", "change", plan.transit.vps.cidr, "dev", "wg0", "preferred_lft", "0");
            await ip(s, "vps", "-6", "addr", "change", provider.vpsCidr, "dev", nic, "preferred_lft", "forever");
          }
          return detail;
        },
      },
    );
  }
  return checks;
}

function ulaOnlyChecks(s: Ready, site: LabSite): Check[] {
  const plan = site.plan;
  return site.clients
    .filter((c) => c.global === false)
    .map((c) => ({
      name: `${c.role} (${c.segment}, ULA only): reaches the router's ULA; its packets to the internet are dropped at the VPS (not in AllowedIPs)`,
      run: async () => {
        const seg = plan.segments.find((x) => x.name === c.segment)!;
        const addrs = (await ip(s, c.role, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")).trim().split("\n").filter(Boolean);
        const ula = parsePrefix6(seg.prefix);
        for (const l of addrs) {
          const m = /inet6 ([0-9a-f:]+)\//.exec(l)?.[1];
          const v = m ? parseAddress6(m) : undefined;
          if (v === undefined || !ula.ok || !containsAddress(ula.prefix, v)) fail(`${c.role} holds ${m}, outside its ULA ${seg.prefix}`);
        }
        await reaches(s, c.role, seg.router.address, `${c.role} to reach the router's ${seg.router.address}`);
        const out = await replies(s, c.role, s.addresses.internetHost, 3);
        if (out > 0) fail(`${c.role} reached the internet host from its ULA (${out}/3)`);
        return `${addrs.length} ULA address(es) only; router ${seg.router.address} answers; internet 0/3`;
      },
    }));
}

function previousChecks(s: Ready, site: LabSite): Check[] {
  const plan = site.plan;
  return site.clients.flatMap((c) => {
    const seg = plan.segments.find((x) => x.name === c.segment);
    if (!seg?.previous) return [];
    return [
      {
        name: `${c.role} (${c.segment}): its address in the old ${seg.previous} is deprecated, valid 2 h at most; new connections use ${seg.prefix}`,
        run: async () => {
          const old = parsePrefix6(seg.previous!);
          const lines = (await ip(s, c.role, "-6", "addr", "show", "dev", "eth0", "scope", "global")).split("\n");
          const i = lines.findIndex((l) => {
            const m = /inet6 ([0-9a-f:]+)\//.exec(l)?.[1];
            const v = m ? parseAddress6(m) : undefined;
            return v !== undefined && old.ok && containsAddress(old.prefix, v);
          });
          if (i < 0) fail(`${c.role} formed no address in ${seg.previous}`);
          const [line, life] = [lines[i]!, lines[i + 1] ?? ""];
          const valid = Number(/valid_lft (\d+)sec/.exec(life)?.[1] ?? "NaN");
          if (!/deprecated/.test(line) || !/preferred_lft 0sec/.test(life)) fail(`the old address is not deprecated: ${line.trim()} / ${life.trim()}`);
          if (!(valid <= 7200)) fail(`the old address's valid lifetime is ${life.trim()}, above 2 h`);
          const src = /src (\S+)/.exec(await ip(s, c.role, "-6", "route", "get", s.addresses.internetHost))?.[1] ?? "";
          const cur = parsePrefix6(seg.prefix);
          const v = parseAddress6(src);
          if (v === undefined || !cur.ok || !containsAddress(cur.prefix, v)) fail(`new connections leave from ${src}, not from ${seg.prefix}`);
          return `${line.trim().split(" ").slice(0, 2).join(" ")} deprecated, valid ${valid} s; new connections from ${src}`;
        },
      },
    ];
  });
}

/** The checks of one site: its /64 traps, ULA-only segments and previous /64s; with
 *  `provider`, also the provider kind's (one site's clients stand for the relay's). */
export function kindChecks(s: Ready, site: LabSite, provider: boolean): Check[] {
  const kind = relayKind(s);
  return [
    ...(provider && kind === "on-link" ? onLinkChecks(s, site) : []),
    ...(provider && kind === "routed-64" ? routed64Checks(s, site) : []),
    ...(site.plan.transit.kind ? single64Checks(s, site) : []),
    ...ulaOnlyChecks(s, site),
    ...previousChecks(s, site),
  ];
}
