// `relay6 apply vps` and `relay6 verify` against the lab, over real SSH: the lab's VPS
// starts bare (sshd only), apply brings it up from the internet side, the router's BGP
// default route follows; a second apply is a no-op; a segment added later never drops
// the tunnel (pings uninterrupted, BGP session kept); verify passes, and each fault the
// lab injects is reported as its own named finding.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { labDown } from "../../src/lab/down.js";
import { waitFor } from "../../src/lab/exec.js";
import { nsRun, nsOf } from "../../src/lab/nodes.js";
import type { LabState } from "../../src/lab/state.js";
import { birdSocket, frrDir } from "../../src/lab/daemons.js";
import { routerDefault } from "../../src/lab/probes.js";
import { INTERNET_HOST } from "../../src/lab/topology.js";
import { bundledSite, labSecretsFile, labUp } from "../../src/lab/up.js";
import { generateKeyPair, writeSecrets } from "../../src/keys/wireguard.js";
import { REPO } from "../helpers.js";
import { withHome } from "../netns-host.js";

const root = process.getuid?.() === 0;
const NAME = `a${(process.pid % 100000).toString(36)}`;

let state: LabState;
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

const ssh = () => ["--vps-host", state.addresses!.vpsUnderlay, "-i", key(), "--known-hosts", knownHosts()];
const apply = (site: string, ...more: string[]) => relay6("apply", "vps", site, ...ssh(), "--secrets", labSecretsFile(state), ...more);

function verify(site: string, secrets = labSecretsFile(state)) {
  const r = relay6("verify", site, ...ssh(), "--secrets", secrets, "--router-ssh", state.addresses!.routerUnderlay, "--vtysh-args", `--vty_socket ${frrDir(state)}`, "--accept-new-host-key", "--json");
  const findings = JSON.parse(r.stdout).findings as { check: string; status: string; fault?: string }[];
  return { code: r.code, findings, by: new Map(findings.map((f) => [f.check, f])) };
}

const vps = (cmd: string) => nsRun(state, "vps", ["bash", "-c", cmd]);

describe.skipIf(!root)("apply vps and verify, in the lab over SSH", () => {
  beforeAll(async () => {
    ({ state } = await labUp({ name: NAME, siteFile: bundledSite(), bareVps: true }));
  }, 120_000);
  afterAll(async () => {
    await labDown(NAME).catch(() => {});
  }, 60_000);

  it("dry run against the bare VPS: the diff, nothing changed", () => {
    const r = apply(bundledSite(), "--dry-run", "--accept-new-host-key");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("~ /etc/wireguard/wg0.conf: new (600 root:root)");
    expect(r.stdout).toContain("dry run: nothing changed");
    expect(readFileSync(knownHosts(), "utf8")).toMatch(/ssh-ed25519/);
  });

  it("applies the bare VPS: the router learns ::/0 over BGP and clients reach the internet", async () => {
    const r = apply(bundledSite());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`applied to ${state.addresses!.vpsUnderlay}`);
    expect(r.stderr).toContain("[#] wg-quick up wg0");
    expect(r.stderr).toContain("[#] bird -c /etc/bird/bird.conf");
    expect(r.stderr).toContain("[#] ufw --force enable");
    await waitFor("::/0 on the router", async () => ((await routerDefault(state))?.includes("proto bgp") ? true : undefined), 20_000, 50);
    await waitFor("c1 → internet", async () => ((await nsRun(state, "c1", ["ping", "-6", "-c", "1", "-W", "1", INTERNET_HOST])).code === 0 ? true : undefined), 15_000, 100);
  }, 60_000);

  it("a second apply changes nothing", () => {
    const r = apply(bundledSite(), "--json");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.outcome).toBe("no-changes");
    expect(result.changes.filter((c: { action: string }) => c.action !== "unchanged")).toEqual([]);
  });

  it("verify: every check passes on both ends", () => {
    const v = verify(bundledSite());
    expect(v.findings.filter((f) => f.status !== "pass"), JSON.stringify(v.findings)).toEqual([]);
    expect(v.code).toBe(0);
    for (const c of ["vps.handshake", "vps.bgp", "vps.bfd", "vps.firewall", "router.peer-key", "router.default-route", "router.bgp", "router.bfd"]) expect(v.by.get(c)?.status, c).toBe("pass");
  }, 60_000);

  it("the rendered smoke tests pass on the VPS, the router and a client (exit 0)", async () => {
    const art = join(state.dir, "artifacts");
    const v = await nsRun(state, "vps", ["bash", join(art, "vps/smoke-test.sh")], { env: { BIRD_SOCKET: birdSocket(state) } });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain("PASS  BGP session router_lab Established");
    const r = await nsRun(state, "rtr", ["bash", join(art, "router/smoke-test.sh")], { env: { VTYSH_ARGS: `--vty_socket ${frrDir(state)}` } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("PASS  ::/0 from BGP via wg0");
    const c = await nsRun(state, "c1", ["bash", join(art, "client/smoke-test.sh"), INTERNET_HOST]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toMatch(/PASS  SLAAC address \S+ in segment lan 2001:db8:4600:1::\/64/);
  }, 60_000);

  it("apply router (linux target) over SSH, dry run: the router's files as the lab installed them are unchanged", () => {
    const r = relay6("apply", "router", bundledSite(), "--router-ssh", state.addresses!.routerUnderlay, "-i", key(), "--known-hosts", knownHosts(), "--accept-new-host-key", "--secrets", labSecretsFile(state), "--dry-run", "--json");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { outcome: string; changes: { path: string; action: string; secret: boolean }[] };
    expect(result.outcome).toBe("dry-run");
    const byPath = new Map(result.changes.map((c) => [c.path, c]));
    // The lab put the rendered /etc files and the key in place, with the same keys.
    for (const p of ["/etc/wireguard/wg0.conf", "/etc/frr/frr.conf", "/etc/sysctl.d/99-relay6.conf"]) expect(byPath.get(p)?.action, p).toBe("unchanged");
    expect(byPath.get("/etc/wireguard/wg0.key")).toMatchObject({ action: "unchanged", secret: true });
    // Files the lab runs from the render output instead of installing them: still to create.
    expect(byPath.get("/usr/local/sbin/relay6-router-net")?.action).toBe("create");
    expect(byPath.get("/etc/radvd.conf")?.action).toBe("create");
    expect(result.changes.filter((c) => c.action === "update" || c.action === "mode")).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(parse(readFileSync(labSecretsFile(state), "utf8")).router.privateKey);
  });

  it("a segment added later: applied live, the tunnel never drops (pings uninterrupted, BGP session kept)", async () => {
    const site = parse(readFileSync(bundledSite(), "utf8"));
    site.segments.push({ name: "lab", index: 0x20, interface: "lab0" });
    const grown = join(state.dir, "grown.yaml");
    writeFileSync(grown, stringify(site));
    const bgpBefore = (await vps(`birdc -s ${birdSocket(state)} show protocols`)).stdout.split("\n").find((l) => l.startsWith("router_"));
    const ifindex = (await vps("cat /sys/class/net/wg0/ifindex")).stdout;
    // 0.05 s apart for the whole apply: one lost echo would show.
    const ping = spawn("ip", ["netns", "exec", nsOf(state, "c1"), "ping", "-6", "-n", "-i", "0.05", "-w", "8", INTERNET_HOST]);
    let pingOut = "";
    ping.stdout.on("data", (d: Buffer) => (pingOut += d.toString()));
    const done = new Promise<number>((res) => ping.on("close", (c) => res(c ?? 255)));
    await new Promise((r) => setTimeout(r, 500));
    const r = apply(grown);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("+AllowedIPs = 2001:db8:4600::2/128, 2001:db8:4600:1::/64, 2001:db8:4600:10::/64, 2001:db8:4600:20::/64");
    expect(r.stderr).toContain("wg syncconf wg0");
    expect(r.stderr).not.toMatch(/wg-quick (down|up)/);
    await done;
    const stats = /(\d+) packets transmitted, (\d+) received/.exec(pingOut)!;
    expect(Number(stats[1])).toBeGreaterThan(50);
    expect(stats[2]).toBe(stats[1]); // not one echo lost
    expect((await vps(`birdc -s ${birdSocket(state)} show protocols`)).stdout.split("\n").find((l) => l.startsWith("router_"))).toBe(bgpBefore);
    expect((await vps("cat /sys/class/net/wg0/ifindex")).stdout).toBe(ifindex);
    expect((await vps("ip -6 route get 2001:db8:4600:20::1")).stdout).toContain("dev wg0");
  }, 60_000);

  it("verify names each fault: tunnel blocked, bird stopped, a segment missing from AllowedIPs, a wrong public key", async () => {
    const site = join(state.dir, "grown.yaml"); // what the VPS has now (the test before)
    // A segment missing from AllowedIPs (the live state drifted from the files).
    const peer = (await vps("wg show wg0 peers")).stdout.trim();
    await vps(`wg set wg0 peer ${peer} allowed-ips 2001:db8:4600::2/128,2001:db8:4600:1::/64 && ip -6 route del 2001:db8:4600:10::/64 dev wg0`);
    let v = verify(site);
    expect(v.code).toBe(1);
    expect(v.by.get("vps.allowed-ips")).toMatchObject({ status: "fail", fault: "allowed-ips-missing-segment" });
    expect(v.by.get("vps.route.guest")).toMatchObject({ status: "fail", fault: "allowed-ips-missing-segment" });
    // apply puts the live state back, though no file changed.
    const fixed = apply(site);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain("wg0 drifted from the plan: syncing it");
    v = verify(site);
    expect(v.by.get("vps.allowed-ips")?.status).toBe("pass");
    expect(v.by.get("vps.route.guest")?.status).toBe("pass");

    // A wrong public key: relay6's secrets name another router than the one the VPS knows.
    const wrong = join(state.dir, "wrong-secrets.yaml");
    const real = parse(readFileSync(labSecretsFile(state), "utf8"));
    writeSecrets(wrong, { vps: real.vps, router: { privateKey: generateKeyPair().privateKey } });
    v = verify(site, wrong);
    expect(v.by.get("vps.peer-key")).toMatchObject({ status: "fail", fault: "wrong-public-key" });

    // The tunnel blocked on the VPS, as in the recipe's 4c.
    const rule = "-p udp --dport 51820 -j DROP";
    await vps(`iptables -I INPUT ${rule} && iptables -I OUTPUT -p udp --sport 51820 -j DROP`);
    try {
      await waitFor("::/0 gone on the router", async () => ((await routerDefault(state)) === null ? true : undefined), 10_000, 50);
      v = verify(site);
      expect(v.by.get("vps.transit-ping")).toMatchObject({ status: "fail", fault: "tunnel-down" });
      expect(v.by.get("vps.bfd")).toMatchObject({ status: "fail", fault: "bfd-down" });
      expect(v.by.get("router.default-route")).toMatchObject({ status: "fail", fault: "no-default-route" });
    } finally {
      await vps(`iptables -D INPUT ${rule}; iptables -D OUTPUT -p udp --sport 51820 -j DROP`);
    }
    await waitFor("::/0 back on the router", async () => ((await routerDefault(state)) !== null ? true : undefined), 20_000, 50);

    // bird stopped.
    await vps(`birdc -s ${birdSocket(state)} down`);
    v = verify(site);
    expect(v.by.get("vps.bird")).toMatchObject({ status: "fail", fault: "bird-down" });
  }, 120_000);
});
