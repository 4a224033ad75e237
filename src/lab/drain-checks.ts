// `lab test` items for what LAN clients see beside the relay: IPv4 through the router's
// NAT44, and the RA drain (the router stops being their default router while the tunnel's
// ::/0 is gone, and on-link and inter-segment ULA keep working).
import { existsSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { containsAddress, parseAddress6, parsePrefix6 } from "../net/ipv6.js";
import { clientDefault } from "./drain.js";
import { sleep, waitFor } from "./exec.js";
import { blockTunnel } from "./failover.js";
import { DUAL_NAME } from "./ipv4.js";
import { daemon, ipIn, nsOf, nsRun } from "./nodes.js";
import { routerDefault } from "./probes.js";
import { INTERNET_ROLE } from "./topology.js";
import { labSites, requireReadyLab, saveState, type LabClient, type LabSite } from "./state.js";

type Ready = ReturnType<typeof requireReadyLab>;

const must = (ok: unknown, msg: string): void => {
  if (!ok) throw new Error(msg);
};

/** The client's SLAAC address in its segment's ULA /64, if the segment has one. */
async function ulaAddress(s: Ready, site: LabSite, c: LabClient): Promise<string | undefined> {
  const seg = site.plan.segments.find((x) => x.name === c.segment);
  if (!seg?.ula) return undefined;
  const p = parsePrefix6(seg.ula.prefix);
  if (!p.ok) return undefined;
  const r = await ipIn(s, c.role, ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
  for (const m of r.stdout.matchAll(/inet6 ([0-9a-f:]+)\/64 /g)) {
    const a = parseAddress6(m[1]!);
    if (a !== undefined && containsAddress(p.prefix, a)) return m[1]!;
  }
  return undefined;
}

/** The first router advertisement with router lifetime 0 the client gets from now on
 *  (tcpdump -c 1; the lifetime is the RA's bytes 6-7, right after the fixed IPv6 header). */
function captureDrainedRa(s: Ready, c: LabClient, file: string): number {
  return daemon(s, c.role, "ra-drained", ["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-c", "1", "-U", "-w", file, "icmp6 and ip6[40] == 134 and ip6[46:2] == 0"]);
}

function readRa(file: string): string {
  try {
    return execFileSync("tcpdump", ["-r", file, "-n", "-vv"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? "");
  }
}

/** One site's items (its router, its clients). In a relay of several sites only this
 *  site's tunnel is blocked (by its router's underlay address). */
export function drainChecks(s: Ready, site: LabSite): { name: string; run: (s: Ready) => Promise<string> }[] {
  const clients = site.clients;
  const plan = site.plan;
  const block = (on: boolean) => blockTunnel(s, on, labSites(s).length > 1 ? site : undefined);
  return [
    {
      name: `clients reach the internet host over IPv4 (the router's NAT44); ${DUAL_NAME} has an A and an AAAA`,
      run: async () => {
        const seen: string[] = [];
        for (const c of clients) {
          const v4 = s.addresses.internetHost4 ?? "";
          const r = await nsRun(s, c.role, ["ping", "-4", "-n", "-c", "2", "-i", "0.2", "-W", "1", v4], { timeoutMs: 10_000 });
          must(/ [1-9]\d* received/.test(r.stdout), `[${c.ns}] ping ${v4}: ${r.stdout.trim().split("\n").pop() ?? r.stderr}`);
          const h = await nsRun(s, c.role, ["getent", "ahosts", DUAL_NAME]);
          must(h.stdout.includes(v4) && h.stdout.includes(s.addresses.internetHost), `[${c.ns}] getent ahosts ${DUAL_NAME}: ${h.stdout.trim() || h.stderr.trim()}`);
          seen.push(`${c.role} ${c.ipv4} → ${v4}`);
        }
        // dual.lab is one host: both its addresses on the internet host's namespace (a
        // fetch by either family reaches the same server).
        const own = (await nsRun(s, INTERNET_ROLE, ["ip", "-o", "addr", "show"])).stdout;
        for (const a of [s.addresses.internetHost4 ?? "", s.addresses.internetHost]) must(own.includes(` ${a}/`), `${DUAL_NAME}'s ${a} is not an address of the internet host (${nsOf(s, INTERNET_ROLE)})`);
        return `${seen.join("; ")}; ${DUAL_NAME} = ${s.addresses.internetHost4}, ${s.addresses.internetHost}`;
      },
    },
    {
      name: "RA drain: the tunnel blocked, every client drops the router as default router; ULA between segments stays; back after the unblock",
      run: async () => {
        for (const c of clients) await waitFor(`${c.role}'s IPv6 default route before the block`, () => clientDefault(s, c).then((d) => d ?? undefined), 15_000, 50);
        const first = clients[0]!;
        const pcap = join(s.dir, `ra-drained-${first.role}.pcap`);
        const capture = captureDrainedRa(s, first, pcap);
        await sleep(300); // tcpdump listening
        const budget = plan.failover.mode === "static" ? 30_000 : 10_000;
        const parts: string[] = [];
        await block(true);
        const t0 = Date.now();
        try {
          await waitFor("the router's ::/0 to go", async () => ((await routerDefault(s, site.rtr.role)) ? undefined : true), budget, 20);
          const detect = Date.now() - t0;
          for (const c of clients) {
            const gone = await waitFor(`${c.role} to drop its IPv6 default route`, async () => ((await clientDefault(s, c)) === null ? true : undefined), 3000, 20).catch(() => false);
            must(gone, `${c.role} kept its IPv6 default route 3 s after the router's ::/0 went: nothing told it the router is no default router (${(await clientDefault(s, c)) ?? ""})`);
          }
          parts.push(`router's ::/0 gone after ${detect} ms, every client's default route ${Date.now() - t0} ms after the block`);
          // The RA that did it: router lifetime 0, RDNSS still there.
          await waitFor("the drained RA on disk", () => (existsSync(pcap) && statSync(pcap).size > 24 ? true : undefined), 3000, 50).catch(() => undefined);
          const ra = readRa(pcap);
          must(/router lifetime 0s/.test(ra), `${first.role} got no RA with router lifetime 0 during the drain: ${ra.split("\n")[1]?.trim() ?? "none captured"}`);
          const rdnss = plan.dns.advertise !== "none";
          if (rdnss) must(/rdnss option/.test(ra), "the drained RA dropped the RDNSS option");
          parts.push(`the RA said router lifetime 0${rdnss ? ", RDNSS kept" : ""}`);
          // On-link ULA and (through the RIO) the other segments' ULAs still answer.
          const [a, b] = [clients[0], clients[1]];
          if (plan.ula && a && b) {
            const to = await ulaAddress(s, site, b);
            if (to) {
              const rio = (await ipIn(s, a.role, ["-6", "route", "show", plan.ula])).stdout.trim();
              must(rio.includes("proto ra"), `${a.role} has no route for the ULA ${plan.ula} from the RA's route information option (${rio || "none"})`);
              const p = await nsRun(s, a.role, ["ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "1", to], { timeoutMs: 10_000 });
              must(/ [1-9]\d* received/.test(p.stdout), `${a.role} → ${b.role}'s ULA ${to} during the drain: ${p.stdout.trim().split("\n").pop()}`);
              parts.push(`${a.role} → ${b.role}'s ULA ${to} answers (RIO ${plan.ula})`);
            }
          }
        } finally {
          await block(false);
          try {
            process.kill(-capture, "SIGKILL");
          } catch {
            /* done */
          }
          s.daemons = s.daemons.filter((d) => d.pid !== capture);
          saveState(s);
        }
        const t1 = Date.now();
        for (const c of clients) await waitFor(`${c.role}'s IPv6 default route after the unblock`, () => clientDefault(s, c).then((d) => d ?? undefined), budget, 20);
        parts.push(`back on every client ${Date.now() - t1} ms after the unblock`);
        return parts.join("; ");
      },
    },
  ];
}
