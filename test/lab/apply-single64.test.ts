// `relay6 apply vps` and `relay6 verify` for the single-/64 provider kinds, against the lab
// over real SSH, each from a bare VPS (sshd only) behind the lab's emulated provider:
//   on-link /64 (lab/sites/onlink.yaml): apply starts ndppd on the rendered static rule and
//     the internet host reaches the LAN only then; verify passes; ndppd killed, verify names
//     ndppd-down and the client is cut off; a rule that does not cover the LAN is
//     ndp-proxy-missing; the next apply starts ndppd again.
//   routed /64 (lab/sites/routed64.yaml): the VPS's own address sits in the /64 as the
//     provider put it; apply keeps it and takes its connected /64 away; verify passes;
//     the provider's route put back, verify names vps-address-connected; apply repairs it.
// The Linux router's half of verify runs on both (link-local BGP/BFD, static ::/0).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labDown } from "../../src/lab/down.js";
import { waitFor } from "../../src/lab/exec.js";
import { frrDir } from "../../src/lab/daemons.js";
import { nsRun, nsOf } from "../../src/lab/nodes.js";
import { slaacAddress } from "../../src/lab/probes.js";
import type { LabState } from "../../src/lab/state.js";
import { INTERNET_ROLE } from "../../src/lab/topology.js";
import { labSecretsFile, labUp } from "../../src/lab/up.js";
import { REPO } from "../helpers.js";
import { withHome } from "../netns-host.js";

const root = process.getuid?.() === 0;
const tag = (process.pid % 100000).toString(36);

function cli(state: LabState) {
  const key = join(state.dir, "ssh/id_ed25519");
  const knownHosts = join(state.dir, "known_hosts");
  const relay6 = (...args: string[]) => {
    // The lab's directory as the home ssh reads (never the machine's ~/.ssh).
    const r = spawnSync("ip", ["netns", "exec", nsOf(state, "inet"), ...withHome(state.dir, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])], {
      encoding: "utf8",
      cwd: REPO,
      env: { ...process.env, SSH_AUTH_SOCK: "" },
      timeout: 120_000,
    });
    return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
  };
  const ssh = ["--vps-host", state.addresses!.vpsUnderlay, "-i", key, "--known-hosts", knownHosts];
  return {
    /** `apply router` (linux target) over SSH, as a dry run: the lab installed the router's
     *  files from the same render, so each must read back unchanged. */
    applyRouterDry: (site: string) => {
      const r = relay6("apply", "router", site, "--router-ssh", state.addresses!.routerUnderlay, "-i", key, "--known-hosts", knownHosts, "--accept-new-host-key", "--secrets", labSecretsFile(state), "--dry-run", "--json");
      return { code: r.code, stderr: r.stderr, result: r.code === 0 ? (JSON.parse(r.stdout) as { outcome: string; changes: { path: string; action: string }[] }) : undefined };
    },
    apply: (site: string, ...more: string[]) => relay6("apply", "vps", site, ...ssh, "--secrets", labSecretsFile(state), "--accept-new-host-key", ...more),
    verify: (site: string) => {
      const r = relay6("verify", site, ...ssh, "--secrets", labSecretsFile(state), "--router-ssh", state.addresses!.routerUnderlay, "--vtysh-args", `--vty_socket ${frrDir(state)}`, "--accept-new-host-key", "--json");
      const findings = JSON.parse(r.stdout).findings as { check: string; status: string; fault?: string; detail: string }[];
      return { code: r.code, findings, by: new Map(findings.map((f) => [f.check, f])), bad: findings.filter((f) => f.status !== "pass" && f.status !== "skip") };
    },
  };
}

const pings = async (state: LabState, role: string, to: string, n = 3) =>
  Number(/(\d+) received/.exec((await nsRun(state, role, ["ping", "-6", "-n", "-c", String(n), "-i", "0.2", "-W", "1", to], { timeoutMs: 15_000 })).stdout)?.[1] ?? "0");

async function lanClient(state: LabState): Promise<string> {
  const c = state.nodes!.clients.find((x) => x.global !== false)!;
  return (await waitFor(`a SLAAC address on ${c.ns}`, () => slaacAddress(state, c), 15_000, 50))!;
}

describe.skipIf(!root)("apply vps and verify: on-link /64 (ndppd), from a bare VPS", () => {
  const NAME = `o${tag}`;
  const SITE = join(REPO, "lab/sites/onlink.yaml");
  let state: LabState;
  beforeAll(async () => {
    ({ state } = await labUp({ name: NAME, siteFile: SITE, bareVps: true }));
  }, 120_000);
  afterAll(async () => {
    await labDown(NAME).catch(() => {});
  }, 60_000);

  it("before apply the provider's solicitations for the LAN go unanswered: the internet host cannot reach it", async () => {
    const a = await lanClient(state);
    expect(await pings(state, INTERNET_ROLE, a)).toBe(0);
  }, 30_000);

  it("apply starts ndppd on the rendered static rule; BGP over link-locals; the internet host reaches the client", async () => {
    const r = cli(state).apply(SITE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("ndppd -d -c /etc/relay6/ndppd.conf");
    const a = await lanClient(state);
    await waitFor("internet host → client", async () => ((await pings(state, INTERNET_ROLE, a, 1)) > 0 ? true : undefined), 30_000, 200);
    expect(await pings(state, state.nodes!.clients[0]!.role, state.addresses!.internetHost)).toBe(3);
    const neigh = (await nsRun(state, "inet", ["ip", "-6", "neigh", "show", a, "dev", "vps0"])).stdout;
    expect(neigh).toContain("02:00:00:00:00:0a"); // answered for by the VPS's NIC
  }, 90_000);

  it("a second apply changes nothing; verify passes on both ends, ndppd and its rule included", () => {
    const { apply, verify } = cli(state);
    const r = apply(SITE, "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).outcome).toBe("no-changes");
    const v = verify(SITE);
    expect(v.bad, JSON.stringify(v.bad)).toEqual([]);
    expect(v.code).toBe(0);
    for (const c of ["vps.ndppd", "vps.ndppd-rules", "vps.bgp", "vps.bfd", "router.bgp", "router.bfd", "router.default-route"]) expect(v.by.get(c)?.status, c).toBe("pass");
  }, 60_000);

  it("apply router (linux target) over SSH, dry run: the router's files as the lab installed them are unchanged", () => {
    const r = cli(state).applyRouterDry(SITE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result!.outcome).toBe("dry-run");
    const byPath = new Map(r.result!.changes.map((c) => [c.path, c.action]));
    for (const p of ["/etc/wireguard/wg0.conf", "/etc/frr/frr.conf", "/etc/sysctl.d/99-relay6.conf", "/etc/wireguard/wg0.key"]) expect(byPath.get(p), p).toBe("unchanged");
    expect(r.result!.changes.filter((c) => c.action === "update" || c.action === "mode")).toEqual([]);
  }, 60_000);

  it("ndppd killed: verify names ndppd-down and the client is cut off; a rule missing the LAN is ndp-proxy-missing; apply starts it again", async () => {
    const { apply, verify } = cli(state);
    const a = await lanClient(state);
    await nsRun(state, "vps", ["bash", "-c", `for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && kill $p; done; sleep 0.3`]);
    await nsRun(state, "inet", ["ip", "-6", "neigh", "flush", "dev", "vps0"]);
    let v = verify(SITE);
    expect(v.code).toBe(1);
    expect(v.by.get("vps.ndppd")).toMatchObject({ status: "fail", fault: "ndppd-down" });
    expect(await pings(state, INTERNET_ROLE, a)).toBe(0);

    // The rule for another /64: ndppd runs, but answers for nobody on the LAN.
    await nsRun(state, "vps", ["bash", "-c", "sed -i 's#rule 2001:db8:4601:1::/64#rule 2001:db8:4601:9::/64#' /etc/relay6/ndppd.conf && ndppd -d -c /etc/relay6/ndppd.conf"]);
    v = verify(SITE);
    expect(v.by.get("vps.ndppd")?.status).toBe("pass");
    expect(v.by.get("vps.ndppd-rules")).toMatchObject({ status: "fail", fault: "ndp-proxy-missing" });

    const r = apply(SITE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("/etc/relay6/ndppd.conf");
    await waitFor("internet host → client again", async () => ((await pings(state, INTERNET_ROLE, a, 1)) > 0 ? true : undefined), 20_000, 200);
    v = verify(SITE);
    expect(v.bad, JSON.stringify(v.bad)).toEqual([]);
  }, 120_000);
});

describe.skipIf(!root)("apply vps and verify: routed /64 holding the VPS's own address, from a bare VPS", () => {
  const NAME = `h${tag}`;
  const SITE = join(REPO, "lab/sites/routed64.yaml");
  const OWN = "2001:db8:4602:1::2/64";
  let state: LabState;
  beforeAll(async () => {
    ({ state } = await labUp({ name: NAME, siteFile: SITE, bareVps: true }));
  }, 120_000);
  afterAll(async () => {
    await labDown(NAME).catch(() => {});
  }, 60_000);

  const vps = (cmd: string) => nsRun(state, "vps", ["bash", "-c", cmd]);

  it("apply keeps the provider's address, takes its connected /64 away; the internet host reaches the client and the VPS", async () => {
    const before = (await vps("ip -6 route show 2001:db8:4602:1::/64 dev eth0")).stdout;
    expect(before).toContain("proto kernel"); // the trap, as the provider left it
    const r = cli(state).apply(SITE);
    expect(r.code, r.stderr).toBe(0);
    expect((await vps("ip -6 -o addr show dev eth0")).stdout).toMatch(new RegExp(`${OWN.replace(/[/.]/g, "\\$&")} .*noprefixroute`));
    expect((await vps("ip -6 route show 2001:db8:4602:1::/64 dev eth0")).stdout.trim()).toBe("");
    const a = await lanClient(state);
    await waitFor("internet host → client", async () => ((await pings(state, INTERNET_ROLE, a, 1)) > 0 ? true : undefined), 30_000, 200);
    expect(await pings(state, INTERNET_ROLE, OWN.split("/")[0]!)).toBe(3);
  }, 90_000);

  it("verify passes on both ends: the own address without its connected route, RAs take no prefix", () => {
    const v = cli(state).verify(SITE);
    expect(v.bad, JSON.stringify(v.bad)).toEqual([]);
    expect(v.code).toBe(0);
    for (const c of ["vps.own-address", "vps.ra-prefix", "router.default-route", "router.vps-address"]) expect(v.by.get(c)?.status, c).toBe("pass");
  }, 60_000);

  it("apply router (linux target) over SSH, dry run: the router's files as the lab installed them are unchanged", () => {
    const r = cli(state).applyRouterDry(SITE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result!.outcome).toBe("dry-run");
    const byPath = new Map(r.result!.changes.map((c) => [c.path, c.action]));
    for (const p of ["/etc/wireguard/wg0.conf", "/etc/sysctl.d/99-relay6.conf", "/etc/wireguard/wg0.key"]) expect(byPath.get(p), p).toBe("unchanged");
    expect(r.result!.changes.filter((c) => c.action === "update" || c.action === "mode")).toEqual([]);
  }, 60_000);

  it("the provider's connected /64 put back: verify names vps-address-connected, the client is cut off; apply repairs it", async () => {
    const { apply, verify } = cli(state);
    const a = await lanClient(state);
    await vps(`ip -6 addr change ${OWN} dev eth0`);
    let v = verify(SITE);
    expect(v.code).toBe(1);
    expect(v.by.get("vps.own-address")).toMatchObject({ status: "fail", fault: "vps-address-connected" });
    expect(await pings(state, INTERNET_ROLE, a)).toBe(0);
    const r = apply(SITE);
    expect(r.code, r.stderr).toBe(0);
    await waitFor("internet host → client again", async () => ((await pings(state, INTERNET_ROLE, a, 1)) > 0 ? true : undefined), 20_000, 200);
    v = verify(SITE);
    expect(v.bad, JSON.stringify(v.bad)).toEqual([]);
  }, 120_000);

  it("the router's proxy entry for the VPS's address gone: verify names it", async () => {
    const own = OWN.split("/")[0]!;
    await nsRun(state, "rtr", ["ip", "-6", "neigh", "del", "proxy", own, "dev", "lan0"]);
    try {
      const v = cli(state).verify(SITE);
      expect(v.by.get("router.vps-address")).toMatchObject({ status: "fail", fault: "vps-address-unreachable" });
    } finally {
      await nsRun(state, "rtr", ["ip", "-6", "neigh", "replace", "proxy", own, "dev", "lan0"]);
    }
  }, 60_000);
});
