// A relay of three sites in the lab, for real (root): one VPS, two bgp-bfd Linux routers and
// a static one, each with a client. Every `lab test` item passes for every site; each
// isolation claim fails once the relay6 rule (or WireGuard check) that makes it hold is
// taken away; `lab failover --site` blocks one site only and the others keep ::/0; removing
// and adding a site, and rotating a site's key, over `relay6 apply vps` (SSH) drop no ping
// and reset no BGP or BFD session of the other sites.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { labTest } from "../../src/lab/checks.js";
import { birdSocket, frrDir } from "../../src/lab/daemons.js";
import { labDown } from "../../src/lab/down.js";
import { sleep, waitFor } from "../../src/lab/exec.js";
import { drainOff, drainOn } from "../../src/lab/drain.js";
import { labFailover } from "../../src/lab/failover.js";
import { nsOf, nsRun } from "../../src/lab/nodes.js";
import { routerDefault, slaacAddress } from "../../src/lab/probes.js";
import { parseBfdSessions, parseBirdProtocols } from "../../src/status/bird.js";
import { labSites, loadState, type LabSite, type LabState } from "../../src/lab/state.js";
import { labSecretsFile, labUp } from "../../src/lab/up.js";
import { REPO, tmp } from "../helpers.js";
import { withHome } from "../netns-host.js";

const root = process.getuid?.() === 0;
const NAME = `r${(process.pid % 100000).toString(36)}`;
const DIR = join(REPO, "test/lab/relay");
const RELAY = join(DIR, "relay.yaml");

let state: LabState;
const site = (name: string): LabSite => labSites(state).find((x) => x.site === name)!;
const key = () => join(state.dir, "ssh/id_ed25519");
const knownHosts = () => join(state.dir, "known_hosts");

/** relay6 as a user runs it, from the internet side (the lab's inet namespace), with the
 *  lab's directory as the home ssh reads (never the machine's ~/.ssh). */
function relay6(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("ip", ["netns", "exec", nsOf(state, "inet"), ...withHome(state.dir, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, SSH_AUTH_SOCK: "" },
    timeout: 120_000,
  });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}

const applyVps = (input: string, ...more: string[]) =>
  relay6("apply", "vps", input, "--vps-host", state.addresses!.vpsUnderlay, "-i", key(), "--known-hosts", knownHosts(), "--accept-new-host-key", "--secrets", labSecretsFile(state), ...more);

/** A relay file listing these sites of the lab's relay (by absolute path). */
function relayOf(...sites: string[]): string {
  const file = join(tmp("relay6-lab-relay-"), "relay.yaml");
  const base = { relay: "labrelay", prefix: "2001:db8:4700::/48", vps: { endpoint: "198.18.0.2", nic: "eth0", upstream: { address: "2001:db8:4700::a/48" } } };
  writeFileSync(file, stringify({ ...base, sites: sites.map((s) => join(DIR, `${s}.yaml`)) }));
  return file;
}

const vps = (cmd: string[]) => nsRun(state, "vps", cmd);
const birdc = (...args: string[]) => vps(["birdc", "-s", birdSocket(state), ...args]);

/** What would change if a session were reset: bird's BGP and BFD states and since-times on
 *  the VPS (seconds since the epoch), FRR's count of sessions established on each bgp-bfd
 *  router, each peer on wg0. */
type Sessions = Record<string, string | number | undefined>;
async function sessions(names: string[]): Promise<Sessions> {
  const out: Sessions = {};
  const protocols = parseBirdProtocols((await birdc("show", "protocols")).stdout, "+0000");
  const bfd = parseBfdSessions((await birdc("show", "bfd", "sessions")).stdout, "+0000");
  const peers = (await vps(["wg", "show", "wg0", "allowed-ips"])).stdout;
  for (const n of names) {
    const x = site(n);
    out[`${n} wg0 peer`] = peers.split("\n").find((l) => l.startsWith(x.routerPublicKey)) ?? "(none)";
    if (x.plan.failover.mode !== "bgp-bfd") continue;
    const bgp = protocols.get(`router_${n}`);
    out[`${n} bird BGP`] = `${bgp?.state} ${bgp?.info}`;
    out[`${n} bird BGP since`] = bgp?.since;
    const b = bfd.find((r) => r.address === x.plan.transit.router.address);
    out[`${n} bird BFD`] = b?.state;
    out[`${n} bird BFD since`] = b?.since;
    const frr = await nsRun(state, x.rtr.role, ["vtysh", "--vty_socket", frrDir(state, x.rtr.role), "-c", "show bgp summary json"]);
    const peer = JSON.parse(frr.stdout.slice(frr.stdout.indexOf("{"), frr.stdout.lastIndexOf("}") + 1)).ipv6Unicast.peers[x.plan.transit.vps.address];
    // (its uptime start is computed from a rounded uptime: it moves by a second on its own)
    out[`${n} FRR BGP`] = `${peer.state}, ${peer.connectionsEstablished} sessions established so far`;
  }
  return out;
}

/** bird prints a since-time by way of two clocks (its monotonic one, then the wall clock):
 *  the same instant reads 1 ms apart from one `birdc show` to the next. A reset moves it by
 *  seconds; within 50 ms it is the same instant (closeTo(x, 1): |Δ| < 0.05). */
const kept = (before: Sessions) => Object.fromEntries(Object.entries(before).map(([k, v]) => [k, typeof v === "number" ? expect.closeTo(v, 1) : v]));
const sameSessions = (a: Sessions, b: Sessions) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([k, v]) => (typeof v === "number" && typeof b[k] === "number" ? Math.abs(v - (b[k] as number)) < 0.05 : v === b[k]));

/** The sessions once they hold still for 3 s (a failover just before may leave a session
 *  re-established twice in quick succession). */
async function steadySessions(names: string[]): Promise<Sessions> {
  let last = await sessions(names);
  for (let i = 0; i < 10; i++) {
    await sleep(3000);
    const now = await sessions(names);
    if (sameSessions(now, last)) return now;
    last = now;
  }
  throw new Error(`the sessions never held still: ${JSON.stringify(last)}`);
}

/** Pings from each site's client to the internet host every 50 ms while `during` runs. */
async function pingsDuring(names: string[], during: () => Promise<void> | void): Promise<Record<string, string>> {
  const runs = names.map((n) => {
    const c = site(n).clients[0]!;
    const child = spawn("ip", ["netns", "exec", c.ns, "ping", "-6", "-n", "-i", "0.05", "-W", "1", "-w", "30", state.addresses!.internetHost], { stdio: ["ignore", "pipe", "ignore"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    return { n, child, done: new Promise<string>((r) => child.on("close", () => r(text))) };
  });
  await sleep(1000);
  try {
    await during();
    await sleep(1000);
  } finally {
    for (const r of runs) r.child.kill("SIGINT");
  }
  const out: Record<string, string> = {};
  // A loss is a gap in the replies' sequence numbers, or replies that stopped before the
  // end: the one or two echoes sent just before the SIGINT may still be on their way
  // back, which ping's own summary counts as lost.
  for (const r of runs) {
    const text = await r.done;
    const seqs = [...text.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
    const sent = Number(/(\d+) packets transmitted/.exec(text)?.[1] ?? 0);
    const last = Math.max(...seqs);
    out[r.n] = seqs.length === 0 ? "no replies" : `${sent - last > 2 ? sent : last} sent, ${new Set(seqs).size}`;
  }
  return out;
}

const lost = (p: Record<string, string>) => Object.entries(p).filter(([, v]) => { const m = /^(\d+) sent, (\d+)$/.exec(v); return !m || m[1] !== m[2] || Number(m[1]) < 20; });

const item = (name: string) => labTest(NAME, undefined, (n) => n === name).then((rs) => rs[0]!);
const DRAIN_ITEM = "RA drain: the tunnel blocked, every client drops the router as default router; ULA between segments stays; back after the unblock";

/** relay6's ufw rules on the VPS by the site they are tagged with (`relay6 labrelay: <site>: …`;
 *  "" for the relay-wide ones), each as `ufw show added` prints it. */
async function ufwBySite(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const line of (await vps(["ufw", "show", "added"])).stdout.split("\n")) {
    const m = /comment 'relay6 labrelay: (?:([a-z]+): )?/.exec(line);
    if (m) (out[m[1] ?? ""] ??= []).push(line);
  }
  return out;
}

/** The machine's own ufw files: the lab's VPS (and relay6 apply vps over its sshd) must
 *  change only its node's copies. */
const MACHINE_UFW = ["/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/ufw/ufw.conf", "/etc/default/ufw"];
const machineUfw = () => MACHINE_UFW.map((f) => `${f} ${readFileSync(f, "utf8")}`);
let machineUfwBefore: string[] = [];

/** The sources of the hook's ICMPv6 source guard on the VPS, as ip6tables prints them. */
const guardSources = async () => [...(await vps(["ip6tables", "-t", "mangle", "-S", "RELAY6-SRC"])).stdout.matchAll(/-s (\S+) -j RETURN/g)].map((m) => m[1]!);
const planSources = (names: string[]) => names.flatMap((n) => [`${site(n).plan.transit.router.address}/128`, ...site(n).plan.segments.map((x) => x.prefix)]);
/** The ufw commands a setup.sh run printed (apply shows its log indented). */
const ufwCommands = (stderr: string) => stderr.split("\n").map((l) => l.trim()).filter((l) => /^\[#\] ufw (route )?(allow|delete)/.test(l));

async function settled(): Promise<void> {
  for (const x of labSites(state)) {
    await waitFor(`::/0 on ${x.site}'s router`, async () => ((await routerDefault(state, x.rtr.role)) ? true : undefined), 40_000, 100);
    await waitFor(`${x.site}'s client to reach the internet host`, async () =>
      (await nsRun(state, x.clients[0]!.role, ["ping", "-6", "-n", "-c", "1", "-W", "1", state.addresses!.internetHost])).code === 0 ? true : undefined, 20_000, 100);
  }
}

describe.skipIf(!root)("a relay of three sites in the lab", () => {
  beforeAll(async () => {
    machineUfwBefore = machineUfw();
    ({ state } = await labUp({ name: NAME, siteFile: RELAY, ssh: true }));
  }, 180_000);
  afterAll(async () => {
    await labDown(NAME).catch(() => {});
  }, 60_000);

  it("lab up: one router and client per site, one wg0 with a peer per site", async () => {
    expect(labSites(state).map((x) => [x.site, x.rtr.role, x.clients.map((c) => c.role).join(",")])).toEqual([
      ["a", "rtr", "c1"],
      ["b", "rtr2", "s2c1"],
      ["c", "rtr3", "s3c1"],
    ]);
    const peers = (await vps(["wg", "show", "wg0", "peers"])).stdout.trim().split("\n").sort();
    expect(peers).toEqual(labSites(state).map((x) => x.routerPublicKey).sort());
    expect(await routerDefault(state, "rtr")).toMatch(/proto bgp/);
    expect(await routerDefault(state, "rtr3")).toContain("via 2001:db8:4700::1 dev wg0");
  });

  it("every `lab test` item passes for every site, isolation and the other sites' named services included", async () => {
    const results = await labTest(NAME);
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    const names = results.map((r) => r.name);
    for (const s of ["a", "b", "c"]) {
      expect(names).toContain(`${s}: WireGuard handshake (router and VPS)`);
      expect(names).toContain(`${s}: unsolicited inbound to a client is dropped; client-initiated flows`);
      // Each site's clients have IPv4 through their own router's NAT44, and each router
      // drains its RAs when its own tunnel goes (c's: the static probe's route).
      expect(names).toContain(`${s}: clients reach the internet host over IPv4 (the router's NAT44); dual.lab has an A and an AAAA`);
      expect(names).toContain(`${s}: ${DRAIN_ITEM}`);
    }
    for (const [a, b] of [["a", "b"], ["b", "c"], ["c", "a"]]) {
      expect(names).toContain(`isolation: a client of ${a} cannot open a TCP connection to a client of ${b}`);
      expect(names).toContain(`isolation: ${a}'s router sending from ${b}'s prefix never gets past the VPS's wg0`);
      expect(names).toContain(`a client of ${a} opens ${b}'s named inbound service tcp/5201 as internet hosts do`);
    }
    expect(names).toContain("a: negative case: AllowedIPs = the whole prefix loses the return traffic");
    expect(results).toHaveLength(40);
    await settled(); // the trap case restarted wg0
  }, 300_000);

  it("a client of a cannot open a connection into b's LAN: holds with either relay6 layer alone, fails with both gone", async () => {
    const name = "isolation: a client of a cannot open a TCP connection to a client of b";
    const routerDrop = ["RELAY6-FWD", "-i", "wg0", "-j", "DROP"];
    const rtr2 = site("b").rtr.role;
    try {
      expect((await nsRun(state, rtr2, ["ip6tables", "-D", ...routerDrop])).code).toBe(0);
      const vpsAlone = await item(name);
      expect(vpsAlone.ok, vpsAlone.detail).toBe(true); // the VPS's ufw (routed: deny) still drops it
      expect((await nsRun(state, rtr2, ["ip6tables", "-A", ...routerDrop])).code).toBe(0);
      expect((await vps(["ufw", "default", "allow", "routed"])).code).toBe(0);
      await settled(); // ufw reloads every rule: a BFD session may drop a packet or two
      const routerAlone = await item(name);
      expect(routerAlone.ok, routerAlone.detail).toBe(true); // b's router still drops it
      expect((await nsRun(state, rtr2, ["ip6tables", "-D", ...routerDrop])).code).toBe(0);
      const open = await item(name);
      expect(open.ok).toBe(false);
      expect(open.detail).toMatch(/c1 \(a\) opened a connection to \[2001:db8:4700:200:/);
    } finally {
      await nsRun(state, rtr2, ["ip6tables", "-D", ...routerDrop]);
      await nsRun(state, rtr2, ["ip6tables", "-A", ...routerDrop]);
      await vps(["ufw", "default", "deny", "routed"]);
    }
    await settled();
    const again = await item(name);
    expect(again.ok, again.detail).toBe(true);
  }, 120_000);

  it("a's router cannot send from b's prefix past the VPS's wg0: WireGuard's AllowedIPs check does it (with b's /64 in a's peer it passes)", async () => {
    const name = "isolation: a's router sending from b's prefix never gets past the VPS's wg0";
    const a = site("a");
    const b = site("b");
    const list = (x: LabSite) => x.plan.vps.allowedIps.join(",");
    try {
      expect((await vps(["wg", "set", "wg0", "peer", a.routerPublicKey, "allowed-ips", `${list(a)},${b.plan.segments[0]!.prefix}`])).code).toBe(0);
      const r = await item(name);
      expect(r.ok, r.detail).toBe(false);
      expect(r.detail).toMatch(/[1-9]\d* came out of the VPS's wg0/);
    } finally {
      await vps(["wg", "set", "wg0", "peer", b.routerPublicKey, "allowed-ips", list(b)]);
      await vps(["wg", "set", "wg0", "peer", a.routerPublicKey, "allowed-ips", list(a)]);
    }
    const again = await item(name);
    expect(again.ok, again.detail).toBe(true);
  }, 60_000);

  it("a client of a opens b's named service only through relay6's wg0 → wg0 rule for it", async () => {
    const name = "a client of a opens b's named inbound service tcp/5201 as internet hosts do";
    const rule = ["route", "allow", "in", "on", "wg0", "out", "on", "wg0", "to", site("b").plan.segments[0]!.prefix, "port", "5201", "proto", "tcp"];
    try {
      expect((await vps(["ufw", ...rule.slice(0, 1), "delete", ...rule.slice(1)])).code).toBe(0);
      await settled();
      const r = await item(name);
      expect(r.ok, r.detail).toBe(false);
    } finally {
      await vps(["bash", join(state.dir, "artifacts/vps/firewall.sh")]);
    }
    await settled();
    expect((await item(name)).ok).toBe(true);
  }, 60_000);

  it("b's RA drain item fails with b's drain stopped (b's client keeps its default route); a's still passes", async () => {
    try {
      // The lab's state as it is on disk now (earlier items restarted daemons).
      await drainOff(loadState(NAME)!, site("b"));
      const off = await item(`b: ${DRAIN_ITEM}`);
      expect(off.ok, off.detail).toBe(false);
      expect(off.detail).toMatch(/kept its IPv6 default route/);
      const a = await item(`a: ${DRAIN_ITEM}`);
      expect(a.ok, a.detail).toBe(true);
    } finally {
      await drainOn(loadState(NAME)!, site("b"));
    }
    const on = await item(`b: ${DRAIN_ITEM}`);
    expect(on.ok, on.detail).toBe(true);
    await settled();
  }, 120_000);

  it("lab failover --site a: only a's tunnel is blocked and the others keep ::/0; blocking every tunnel instead, they do not", async () => {
    const r = await labFailover(NAME, 1, undefined, { site: "a" });
    expect(r).toMatchObject({ site: "a", others_kept: true, runs: 1 });
    expect(r.vps_restart_ms).toBeUndefined();
    expect(r.detect_ms!.min).toBeGreaterThan(300);
    // a's client lost its default route with a's tunnel (a's RA drain), and got it back.
    expect(r.drain).toBe(true);
    expect(r.ra_drain_ms).not.toBeNull();
    expect(r.ra_restore_ms).not.toBeNull();
    // The control: the same run with the port of every site blocked.
    const all = await labFailover(NAME, 1, undefined, { site: "a", everyTunnel: true });
    expect(all.others_kept).toBe(false);
    await settled();
  }, 240_000);

  it("removing site b and adding it back with apply vps: a and c lose no ping and keep every session", async () => {
    const first = applyVps(RELAY);
    expect(first.code, first.stderr).toBe(0);
    await settled();
    const before = await steadySessions(["a", "c"]);
    const rulesBefore = await ufwBySite();
    expect(Object.keys(rulesBefore).sort()).toEqual(["", "a", "b", "c"]);
    expect((await guardSources()).sort()).toEqual(planSources(["a", "b", "c"]).sort());
    let removed = { code: -1, stdout: "", stderr: "" };
    const pings = await pingsDuring(["a", "c"], () => {
      removed = applyVps(relayOf("a", "c"));
    });
    expect(removed.code, removed.stderr).toBe(0);
    // apply's ufw commands ran on the node's own ufw files, never on the machine's.
    expect(machineUfw()).toEqual(machineUfwBefore);
    // b's peer left by wg syncconf, its BGP session and BFD neighbour by birdc configure.
    expect(removed.stderr).toContain("wg syncconf wg0");
    expect(removed.stderr).toContain("[#] birdc configure");
    expect(lost(pings), JSON.stringify(pings)).toEqual([]);
    expect(await sessions(["a", "c"])).toEqual(kept(before));
    expect((await vps(["wg", "show", "wg0", "peers"])).stdout).not.toContain(site("b").routerPublicKey);
    expect((await birdc("show", "protocols")).stdout).not.toContain("router_b");
    // ufw: b's rules pruned (each deleted once), nothing added, a's, c's and the relay's as they were.
    const rulesWithout = await ufwBySite();
    expect(rulesWithout).toEqual({ "": rulesBefore[""], a: rulesBefore.a, c: rulesBefore.c });
    expect(ufwCommands(removed.stderr)).toHaveLength(rulesBefore.b!.length);
    expect(ufwCommands(removed.stderr).every((l) => l.startsWith("[#] ufw delete") || l.startsWith("[#] ufw route delete"))).toBe(true);
    // The hook's source guard, refilled after the live sync: b's sources gone, the others kept.
    expect((await guardSources()).sort()).toEqual(planSources(["a", "c"]).sort());

    let added = { code: -1, stdout: "", stderr: "" };
    const pings2 = await pingsDuring(["a", "c"], () => {
      added = applyVps(RELAY);
    });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain("[#] birdc configure");
    expect(lost(pings2), JSON.stringify(pings2)).toEqual([]);
    expect(await sessions(["a", "c"])).toEqual(kept(before));
    // ufw: b's rules added again (only b's), the others untouched; the guard holds b's sources again.
    expect(ufwCommands(added.stderr).every((l) => l.includes(" comment relay6 labrelay: b: "))).toBe(true);
    expect(ufwCommands(added.stderr)).toHaveLength(rulesBefore.b!.length);
    expect(await ufwBySite()).toEqual(rulesBefore);
    expect((await guardSources()).sort()).toEqual(planSources(["a", "b", "c"]).sort());
    // b is back: its peer, its BGP session, its client online.
    await waitFor("b's ::/0 from BGP again", async () => ((await routerDefault(state, "rtr2"))?.includes("proto bgp") ? true : undefined), 40_000, 100);
    await settled();
    console.log(`remove b: pings ${JSON.stringify(pings)}; add b: pings ${JSON.stringify(pings2)}; sessions kept: ${JSON.stringify(before)}`);

    // The detector has teeth: a restart of a's session shows.
    expect((await birdc("restart", "router_a")).code).toBe(0);
    await sleep(1500);
    await settled();
    const after = await sessions(["a", "c"]);
    expect(after["a bird BGP"]).toBe("up Established");
    expect(Math.abs((after["a bird BGP since"] as number) - (before["a bird BGP since"] as number))).toBeGreaterThan(1);
    expect(after).not.toEqual(kept(before));
    expect(after["a FRR BGP"]).not.toBe(before["a FRR BGP"]); // one more session
    expect(after["c wg0 peer"]).toBe(before["c wg0 peer"]);
  }, 240_000);

  it("keys --rotate --site b, apply vps: only b's peer changes (a and c lose no ping, keep every session); b comes back with its new key", async () => {
    await settled();
    const secrets = labSecretsFile(state);
    const rotated = relay6("keys", RELAY, "--rotate", "--site", "b", "--secrets", secrets, "--json");
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKey = (JSON.parse(rotated.stdout).keys as { end: string; publicKey: string }[]).find((k) => k.end === "router of b")!.publicKey;
    expect(newKey).not.toBe(site("b").routerPublicKey);
    const before = await steadySessions(["a", "c"]);
    let applied = { code: -1, stdout: "", stderr: "" };
    const pings = await pingsDuring(["a", "c"], () => {
      applied = applyVps(RELAY, "--json");
    });
    expect(applied.code, applied.stderr).toBe(0);
    const changes = (JSON.parse(applied.stdout).changes as { path: string; action: string }[]).filter((c) => c.action !== "unchanged").map((c) => c.path);
    expect(changes).toEqual(["/etc/wireguard/wg0.conf"]);
    expect(lost(pings), JSON.stringify(pings)).toEqual([]);
    expect(await sessions(["a", "c"])).toEqual(kept(before));
    const peers = (await vps(["wg", "show", "wg0", "peers"])).stdout;
    expect(peers).toContain(newKey);
    expect(peers).not.toContain(site("b").routerPublicKey);

    // b's router, as apply router --site b would leave it: its new key (the dry run names that file only).
    const dry = relay6("apply", "router", RELAY, "--site", "b", "--router-ssh", site("b").underlay.address, "-i", key(), "--known-hosts", knownHosts(), "--accept-new-host-key", "--secrets", secrets, "--dry-run", "--json");
    expect(dry.code, dry.stderr).toBe(0);
    const keyChange = (JSON.parse(dry.stdout).changes as { path: string; action: string; secret: boolean }[]).find((c) => c.path === "/etc/wireguard/wg0.key")!;
    expect(keyChange).toMatchObject({ action: "update", secret: true });
    const out = join(tmp("relay6-lab-render-"), "out");
    expect(relay6("render", RELAY, "-o", out, "--secrets", secrets).code).toBe(0);
    const installed = `/etc/netns/${site("b").rtr.ns}/wireguard/wg0.key`;
    copyFileSync(join(out, "sites/b/router/secrets/wg0.key"), installed);
    const pings2 = await pingsDuring(["a", "c"], async () => {
      expect((await nsRun(state, "rtr2", ["wg", "set", "wg0", "private-key", "/etc/wireguard/wg0.key"])).code).toBe(0);
      await waitFor("b's BGP session with its new key", async () => ((await routerDefault(state, "rtr2"))?.includes("proto bgp") ? true : undefined), 30_000, 100);
    });
    expect(lost(pings2), JSON.stringify(pings2)).toEqual([]);
    expect(await sessions(["a", "c"])).toEqual(kept(before));
    expect(readFileSync(installed, "utf8")).not.toContain(site("b").routerPublicKey);
    await waitFor("b's client to reach the internet host", async () =>
      (await slaacAddress(state, site("b").clients[0]!)) && (await nsRun(state, "s2c1", ["ping", "-6", "-n", "-c", "1", "-W", "1", state.addresses!.internetHost])).code === 0 ? true : undefined, 30_000, 200);
    console.log(`rotate b: pings ${JSON.stringify(pings)} / ${JSON.stringify(pings2)}; sessions of a and c kept: ${JSON.stringify(before)}`);
  }, 240_000);

  it("verify on the relay: every site's VPS side, and a router by --site", () => {
    const r = relay6("verify", RELAY, "--vps-host", state.addresses!.vpsUnderlay, "-i", key(), "--known-hosts", knownHosts(), "--accept-new-host-key", "--secrets", labSecretsFile(state), "--json",
      "--site", "a", "--router-ssh", site("a").underlay.address, "--vtysh-args", `--vty_socket ${frrDir(state, "rtr")}`);
    expect(r.stdout, r.stderr).toMatch(/^\{/);
    const findings = JSON.parse(r.stdout).findings as { check: string; status: string }[];
    expect(findings.filter((f) => f.status !== "pass"), JSON.stringify(findings)).toEqual([]);
    for (const c of ["vps.a.handshake", "vps.a.bgp", "vps.a.bfd", "vps.firewall", "router.bgp", "router.default-route"]) expect(findings.map((f) => f.check), c).toContain(c);
    const all = relay6("verify", RELAY, "--vps-host", state.addresses!.vpsUnderlay, "-i", key(), "--known-hosts", knownHosts(), "--secrets", labSecretsFile(state), "--json");
    const every = JSON.parse(all.stdout).findings as { check: string; status: string }[];
    for (const s of ["a", "b", "c"]) expect(every.find((f) => f.check === `vps.${s}.handshake`)?.status, s).toBe("pass");
    expect(every.filter((f) => f.status === "fail"), JSON.stringify(every)).toEqual([]);
    expect(all.code).toBe(0);
  }, 120_000);

  it("lab down removes every site's namespaces", async () => {
    await labDown(NAME);
    const ns = (await nsRun(loadState(NAME) ?? state, "inet", ["true"]).catch(() => ({ code: 1 }))).code;
    expect(ns).not.toBe(0);
    expect(spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout).not.toContain(`r6-${NAME}-`);
  }, 60_000);
});
