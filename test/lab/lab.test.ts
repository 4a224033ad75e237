// The namespace lab, for real: the bundled bgp-bfd site and a static-failover site, up at
// the same time under unique names, every `lab test` item, failover behaviour, a crashed
// bring-up cleaned up, and nothing left behind by `lab down`. Needs root and the Debian
// packages of scripts/install-deps.sh.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labTest, type CheckResult } from "../../src/lab/checks.js";
import { labDown, processesMentioning } from "../../src/lab/down.js";
import { isRunning, run, sleep, waitFor } from "../../src/lab/exec.js";
import { labFailover } from "../../src/lab/failover.js";
import { nsRun } from "../../src/lab/nodes.js";
import { labDir, loadState, type LabState } from "../../src/lab/state.js";
import { routerDefault } from "../../src/lab/probes.js";
import { INTERNET_HOST } from "../../src/lab/topology.js";
import { drainOff, drainOn } from "../../src/lab/drain.js";
import { daemon } from "../../src/lab/nodes.js";
import { saveState } from "../../src/lab/state.js";
import { bundledSite, labUp } from "../../src/lab/up.js";
import { REPO, runCli } from "../helpers.js";

const root = process.getuid?.() === 0;
const tag = (process.pid % 100000).toString(36);
const BGP = `b${tag}`;
const STATIC = `s${tag}`;
const STATIC_SITE = join(REPO, "test/lab/sites/static.yaml");
const DRAIN_ITEM = "RA drain: the tunnel blocked, every client drops the router as default router; ULA between segments stays; back after the unblock";

/** The static lab's gateway check started again with `env` (RELAY6_CHECK_MISSES=1, say). */
async function restartGwCheck(s: LabState, env: Record<string, string>): Promise<void> {
  for (const d of s.daemons.filter((x) => x.name === "gw-check")) {
    try {
      process.kill(-d.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 100 && isRunning(d.pid); i++) await sleep(10);
  }
  s.daemons = s.daemons.filter((x) => x.name !== "gw-check");
  saveState(s);
  daemon(s, "rtr", "gw-check", ["bash", join(s.dir, "artifacts/router/files/usr/local/sbin/relay6-gw-check")], env);
}

/** Every pid in the lab's namespaces, to check that `lab down` ended them all. */
async function labPids(state: LabState): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of state.namespaces) {
    const r = await run(["ip", "netns", "pids", ns]);
    for (const p of r.stdout.split(/\s+/)) if (/^\d+$/.test(p)) pids.push(Number(p));
  }
  return pids;
}

async function expectNothingLeft(name: string, pids: number[]): Promise<void> {
  const ns = (await run(["ip", "netns", "list"])).stdout;
  expect(ns).not.toContain(`r6-${name}-`);
  expect(existsSync("/etc/netns") ? readdirSync("/etc/netns").filter((d) => d.startsWith(`r6-${name}-`)) : []).toEqual([]);
  expect(existsSync(labDir(name))).toBe(false);
  expect(processesMentioning(`${labDir(name)}/`)).toEqual([]);
  // Zombies may wait for PID 1 to reap them; none may still run.
  expect(pids.filter(isRunning)).toEqual([]);
}

function byName(results: CheckResult[]): Record<string, CheckResult> {
  return Object.fromEntries(results.map((r) => [r.name, r]));
}

describe.skipIf(!root)("namespace lab", () => {
  let bgpPids: number[] = [];

  beforeAll(async () => {
    const { state, ms } = await labUp({ name: BGP, siteFile: bundledSite() });
    expect(state.ready).toBe(true);
    expect(ms).toBeLessThan(60_000);
    bgpPids = await labPids(state);
  }, 120_000);

  afterAll(async () => {
    await labDown(BGP).catch(() => {});
    await labDown(STATIC).catch(() => {});
  }, 120_000);

  it("lab up returned with the relay carrying traffic", async () => {
    const s = loadState(BGP)!;
    const r = await nsRun(s, "c1", ["ping", "-6", "-n", "-c", "1", "-W", "2", INTERNET_HOST]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await routerDefault(s)).toMatch(/proto bgp/);
  });

  it("every `lab test` item passes on the bundled bgp-bfd site", async () => {
    const results = await labTest(BGP);
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    expect(failed).toEqual([]);
    const names = Object.keys(byName(results));
    for (const want of [
      "WireGuard handshake (router and VPS)",
      "transit pings both ways",
      "c1 (lan): SLAAC address in 2001:db8:4600:1::/64 and RDNSS",
      "c2 (guest): SLAAC address in 2001:db8:4600:10::/64 and RDNSS",
      "c1 (lan): ping and bulk TCP to the internet host and back",
      "c2 (guest): ping and bulk TCP to the internet host and back",
      "VPS routes every client into wg0 (ip -6 route get)",
      "router's ::/0 comes from BGP",
      "unsolicited inbound to a client is dropped; client-initiated flows",
      "ICMPv6 packet-too-big dropped on the path: bulk TCP both ways, both initiators",
      "clients reach the internet host over IPv4 (the router's NAT44); dual.lab has an A and an AAAA",
      DRAIN_ITEM,
      "negative case: AllowedIPs = the whole prefix loses the return traffic",
    ])
      expect(names).toContain(want);
    // The PMTU item ran all four transfers, the internet-initiated ones included.
    expect(byName(results)["ICMPv6 packet-too-big dropped on the path: bulk TCP both ways, both initiators"]!.detail).toMatch(/internet→c1 download/);
  }, 240_000);

  it("the inbound guard holds with either layer alone, and the check fails with both removed", async () => {
    const s = loadState(BGP)!;
    const item = "unsolicited inbound to a client is dropped; client-initiated flows";
    const check = () => labTest(BGP, undefined, (n) => n === item).then((rs) => rs[0]!);
    const routerGuard = ["RELAY6-FWD", "-i", "wg0", "-j", "DROP"];
    // The recipe's own VPS rule: lets any internet host open connections into wg0.
    const recipeRule = ["route", "allow", "out", "on", "wg0"];
    try {
      expect((await nsRun(s, "rtr", ["ip6tables", "-D", ...routerGuard])).code).toBe(0);
      expect((await check()).ok).toBe(true); // the VPS's ufw still drops it
      expect((await nsRun(s, "rtr", ["ip6tables", "-A", ...routerGuard])).code).toBe(0);
      expect((await nsRun(s, "vps", ["ufw", ...recipeRule])).code).toBe(0);
      expect((await check()).ok).toBe(true); // the router still drops it
      expect((await nsRun(s, "rtr", ["ip6tables", "-D", ...routerGuard])).code).toBe(0);
      const open = await check();
      expect(open.ok).toBe(false);
      expect(open.detail).toMatch(/opened a connection/);
    } finally {
      await nsRun(s, "rtr", ["ip6tables", "-D", ...routerGuard]);
      await nsRun(s, "rtr", ["ip6tables", "-A", ...routerGuard]);
      await nsRun(s, "vps", ["ufw", "route", "delete", "allow", "out", "on", "wg0"]);
    }
  }, 120_000);

  it("the PMTU item fails once the MSS clamps of both ends are removed (the check has teeth)", async () => {
    const s = loadState(BGP)!;
    const item = "ICMPv6 packet-too-big dropped on the path: bulk TCP both ways, both initiators";
    const check = () => labTest(BGP, undefined, (n) => n === item).then((rs) => rs[0]!);
    try {
      expect((await nsRun(s, "rtr", ["ip6tables", "-t", "mangle", "-F", "RELAY6-MSS"])).code).toBe(0);
      expect((await nsRun(s, "vps", ["ip6tables", "-t", "mangle", "-F", "FORWARD"])).code).toBe(0);
      const r = await check();
      expect(r.ok, r.detail).toBe(false);
    } finally {
      // Put them back with the rendered scripts themselves.
      await nsRun(s, "rtr", ["bash", join(s.dir, "artifacts/router/files/usr/local/sbin/relay6-router-net")]);
      await nsRun(s, "vps", ["/etc/wireguard/relay6-hook.sh", "up", "wg0"]);
    }
    const again = await check();
    expect(again.ok, again.detail).toBe(true);
  }, 180_000);

  it("the RA drain item fails with the drain stopped: the client keeps its default route (negative control)", async () => {
    const s = loadState(BGP)!;
    const check = () => labTest(BGP, undefined, (n) => n === DRAIN_ITEM).then((rs) => rs[0]!);
    try {
      await drainOff(s);
      const off = await check();
      expect(off.ok, off.detail).toBe(false);
      expect(off.detail).toMatch(/kept its IPv6 default route/);
      // And the failover figures say the same: no client drain without the drain.
      const f = await labFailover(BGP, 1, undefined, { vpsRestart: false });
      expect(f.drain).toBe(false);
      expect(f.samples.ra_drain_ms).toEqual([null]);
      expect(f.ra_drain_ms).toBeNull();
    } finally {
      await drainOn(loadState(BGP)!);
    }
    const on = await check();
    expect(on.ok, on.detail).toBe(true);
  }, 120_000);

  it("failover (2 runs): ::/0 withdrawn on a blocked tunnel, back after unblock and after a VPS restart; the client's with it", async () => {
    const r = await labFailover(BGP, 2);
    expect(r.runs).toBe(2);
    expect(r.samples.detect_ms).toHaveLength(2);
    expect(r.samples.restore_ms).toHaveLength(2);
    expect(r.samples.vps_restart_ms).toHaveLength(2);
    for (const k of ["detect_ms", "restore_ms", "ra_drain_ms", "ra_restore_ms", "vps_restart_ms"] as const) {
      const st = r[k]!;
      expect(st, k).not.toBeNull();
      expect(st.min).toBeGreaterThan(0);
      expect(st.min).toBeLessThanOrEqual(st.median);
      expect(st.median).toBeLessThanOrEqual(st.max);
    }
    // The client's route goes after the router's (the RA follows the route), and comes back
    // after it; each run's figures, not only the medians.
    r.samples.detect_ms.forEach((d, i) => expect(r.samples.ra_drain_ms[i]!).toBeGreaterThanOrEqual(d!));
    r.samples.restore_ms.forEach((d, i) => expect(r.samples.ra_restore_ms[i]!).toBeGreaterThanOrEqual(d!));
    // A sanity bound, not a target: BFD cannot declare the path dead in less than
    // (multiplier - 1) intervals; a smaller figure would mean the route was already going.
    expect(r.detect_ms!.min).toBeGreaterThan(300);
    // And the relay works afterwards.
    const s = loadState(BGP)!;
    expect(await routerDefault(s)).toMatch(/proto bgp/);
    await waitFor("c1 to reach the internet host after failover", async () =>
      (await nsRun(s, "c1", ["ping", "-6", "-n", "-c", "1", "-W", "1", INTERNET_HOST])).code === 0 ? true : undefined, 20_000, 100);
  }, 120_000);

  it("restore after a 1 s outage: median under 400 ms over 5 runs (FRR's BFD passive, the transit /64 nudging bird; without either 0.6-0.8 s)", async () => {
    const r = await labFailover(BGP, 5, undefined, { vpsRestart: false });
    expect(r.restore_ms!.median, JSON.stringify(r.samples.restore_ms)).toBeLessThan(400);
    // The nudge reaches bird and stays out of its table and the VPS's kernel (import none).
    const s = loadState(BGP)!;
    const adv = await nsRun(s, "rtr", ["vtysh", "--vty_socket", join(s.dir, "frr"), "-c", `show bgp ipv6 unicast neighbors ${s.plan!.transit.vps.address} advertised-routes`]);
    expect(adv.stdout).toContain(s.plan!.transit.prefix);
    const vpsRoutes = (await nsRun(s, "vps", ["ip", "-6", "route", "show", s.plan!.transit.prefix])).stdout;
    expect(vpsRoutes).not.toMatch(/proto bird/);
  }, 120_000);

  it("the CLI: `lab failover --runs 1 --json` prints the documented object; `lab test --json` too", async () => {
    const f = await runCli("lab", "failover", "--name", BGP, "--runs", "1", "--json");
    expect(f.code, f.stderr).toBe(0);
    const j = JSON.parse(f.stdout) as Record<string, unknown>;
    expect(Object.keys(j).sort()).toEqual(["detect_ms", "drain", "ra_drain_ms", "ra_restore_ms", "restore_ms", "runs", "vps_restart_ms"]);
    expect(j.runs).toBe(1);
    expect(j.drain).toBe(true);
    for (const k of ["detect_ms", "restore_ms", "ra_drain_ms", "ra_restore_ms", "vps_restart_ms"]) expect(Object.keys(j[k] as object).sort()).toEqual(["max", "median", "min"]);
    const t = await runCli("lab", "test", "--name", BGP, "--json");
    expect(t.code, t.stderr).toBe(0);
    const tj = JSON.parse(t.stdout) as { ok: boolean; results: { ok: boolean }[] };
    expect(tj.ok).toBe(true);
    expect(tj.results.length).toBe(13);
    // A lab that is not up: the machine's state (exit 1), not a crash.
    const none = await runCli("lab", "test", "--name", "nosuchlab");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no lab "nosuchlab" is up/);
  }, 180_000);

  it("a crashed `lab up` is cleaned up, and `lab up` over leftovers of the same name starts afresh", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "test/lab/fixtures/up-child.mts"), STATIC, STATIC_SITE], {
      cwd: REPO,
      stdio: "ignore",
    });
    // Kill it once it has made namespaces (mid bring-up).
    await waitFor("the child's first namespace", async () =>
      (await run(["ip", "netns", "list"])).stdout.includes(`r6-${STATIC}-`) ? true : undefined, 30_000, 20);
    await sleep(800);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect((await run(["ip", "netns", "list"])).stdout).toContain(`r6-${STATIC}-`);

    // Same name again: the leftovers are removed first, then a working lab, next to BGP's.
    const { state } = await labUp({ name: STATIC, siteFile: STATIC_SITE });
    expect(state.ready).toBe(true);
    expect(await routerDefault(state)).toContain(`via ${state.plan!.transit.vps.address} dev wg0`);
    expect(loadState(BGP)!.ready).toBe(true);
    expect(await routerDefault(loadState(BGP)!)).toMatch(/proto bgp/);
  }, 120_000);

  it("static failover: the health-checked ::/0 is withdrawn after 3 missed probes (3-4 s) and comes back; the client's with it", async () => {
    const r = await labFailover(STATIC, 2, undefined, { vpsRestart: false });
    expect(r.mode).toBe("static");
    // 3 probes a second apart: never before 2 s, and well under the old 10 s × 3.
    for (const d of r.samples.detect_ms) {
      expect(d!).toBeGreaterThan(2_000);
      expect(d!).toBeLessThan(10_000);
    }
    expect(r.ra_drain_ms).not.toBeNull();
    const s = loadState(STATIC)!;
    expect(await routerDefault(s)).toContain("dev wg0");
  }, 120_000);

  it("static failover: isolated lost probes never fail over; the same loss with one miss enough does (miss counting has teeth)", async () => {
    const s = loadState(STATIC)!;
    // Every 4th tunnel packet into the VPS dropped: in static mode that is every 4th probe,
    // never two in a row (deterministic, unlike random loss).
    const loss = ["INPUT", "-p", "udp", "--dport", String(s.plan!.wireguard.port), "-m", "statistic", "--mode", "nth", "--every", "4", "--packet", "0", "-j", "DROP"];
    // How often the router's ::/0 was deleted in `ms` (the kernel's own record: a withdrawal
    // and the restore a probe later can be a few ms apart, too short to poll).
    const watch = async (ms: number) => {
      const r = await nsRun(s, "rtr", ["timeout", String(ms / 1000), "ip", "-6", "monitor", "route"], { timeoutMs: ms + 5000 });
      return r.stdout.split("\n").filter((l) => /^Deleted default\b/.test(l)).length;
    };
    const gwCheck = (env: Record<string, string>) => restartGwCheck(s, env);
    try {
      expect((await nsRun(s, "vps", ["iptables", "-I", ...loss])).code).toBe(0);
      expect(await watch(15_000)).toBe(0);
      const dropped = (await nsRun(s, "vps", ["iptables", "-nvxL", "INPUT"])).stdout;
      expect(Number(/^\s*(\d+)\s.*statistic mode nth/m.exec(dropped)?.[1] ?? 0), dropped).toBeGreaterThanOrEqual(3);
      // Control: the same loss, but one unanswered probe withdraws the route.
      await gwCheck({ RELAY6_CHECK_MISSES: "1" });
      expect(await watch(15_000)).toBeGreaterThan(0);
    } finally {
      await nsRun(s, "vps", ["iptables", "-D", ...loss]);
      await gwCheck({});
    }
    await waitFor("::/0 back", async () => ((await routerDefault(s)) ? true : undefined), 20_000, 50);
  }, 120_000);

  it("lab down removes namespaces, /etc/netns dirs, state and every daemon", async () => {
    const s = loadState(STATIC)!;
    const staticPids = await labPids(s);
    expect(staticPids.length).toBeGreaterThan(3);
    await labDown(STATIC);
    await expectNothingLeft(STATIC, staticPids);

    const b = loadState(BGP)!;
    bgpPids = [...new Set([...bgpPids, ...(await labPids(b))])];
    await labDown(BGP);
    await expectNothingLeft(BGP, bgpPids);
    // A second down finds nothing and fails nothing.
    expect((await labDown(BGP)).namespaces).toEqual([]);
  }, 120_000);
});

describe.skipIf(root)("namespace lab (skipped)", () => {
  it("needs root: the lab makes network namespaces", () => {
    expect(readFileSync("/proc/self/status", "utf8")).toBeTruthy();
  });
});
