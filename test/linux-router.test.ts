// A Linux router's router/setup.sh, undo.sh and relay6-router-net, run for real on a
// namespace router with its own copy of every path they write (NetnsHost). The real
// daemons run (wg-quick with wireguard-go, radvd, FRR's zebra/bgpd/bfdd); the one stand-in
// is systemctl (PID 1 here is not systemd): test/fixtures/systemctl starts and stops those
// daemons as their units do and enables units with systemctl's own symlinks.
//   - a failure injected at each step (shims in front of PATH) leaves exactly the state
//     before the run: files with modes and owners, ip6tables, addresses, routes, wg0,
//     sysctl, daemons, enabled units
//   - files are installed with the modes relay6 chose, whatever the copy's mode
//   - a reload of relay6-router-net that fails mid-refill leaves the old rules in place
//   - forwarded traffic into the tunnel from a source outside the site's prefixes is
//     refused with ICMPv6 type 1 code 5
//   - the RA drain's watcher is a unit like the others (started, rolled back, undone), and
//     radvd runs from its copy, which follows relay6's ::/0
//   - undo.sh brings the router back to its state before the first install
import { execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifacts } from "../src/io/write.js";
import { failureShims, hostState, ROUTER_PATHS } from "./host-state.js";
import { renderFile, REPO, tmp } from "./helpers.js";
import { NetnsHost, waitUntil } from "./netns-host.js";

const root = process.getuid?.() === 0;
const id = process.pid;
const rtr = new NetnsHost(`r6t-lr-${id}`);
const c1 = new NetnsHost(`r6t-lc-${id}`);
const work = tmp("relay6-linux-router-");
const INTERNET = "2001:db8:ffff::100";
const CLIENT = "2401:4520:110b:1::100";
const CLIENT_ULA = "fd12:3456:789a:1::100";
// A LAN host's address from another prefix on the same link (the ISP's own, a stale one):
// the router holds that prefix on the LAN too, so it can answer the host.
const FOREIGN = "2001:db8:bad::5";

const SITE = readFileSync(join(REPO, "test/linux/sites/recipe-linux.yaml"), "utf8").replace("prefix: 2401:4520:110b::/48", "prefix: 2401:4520:110b::/48\nula: fd12:3456:789a::/48");
// The update: a segment more with an inbound service, other BFD timers (frr.conf changes).
const GROWN = SITE.replace("failover:\n  mode: bgp-bfd", "  - { name: lab, index: 0x12, interface: vlan12, inbound: [{ name: web, proto: tcp, port: 443 }] }\nfailover:\n  mode: bgp-bfd\n  bfd: { intervalMs: 300 }");

function render(text: string, name: string): string {
  const site = join(work, `${name}.yaml`);
  writeFileSync(site, text);
  const out = join(work, name);
  const r = renderFile(site);
  writeArtifacts(out, r.artifacts, { sites: [{ site: r.plan.site }] });
  return out;
}

let path = "";
async function runScript(script: string, fail?: string) {
  const log = join(work, "fired");
  rmSync(log, { force: true });
  const r = await rtr.run(`bash ${script}`, { PATH: path, ...(fail ? { RELAY6_FAIL: fail, RELAY6_FAIL_LOG: log } : {}) });
  return { ...r, fired: existsSync(log) ? readFileSync(log, "utf8") : "" };
}
const state = async () => (await hostState(rtr, ROUTER_PATHS)) + (await rtr.run("ls /etc/systemd/system/multi-user.target.wants")).stdout;

describe.skipIf(!root)("the Linux router's setup.sh, rollback, relay6-router-net and undo.sh (namespace router)", () => {
  let bare = "";
  let installed = "";
  let out1 = "";
  let out2 = "";

  beforeAll(async () => {
    rtr.create();
    c1.create();
    for (const h of [rtr, c1]) h.sh("sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    // The segments' interfaces: lan to a client, the others to nothing but their peers.
    execFileSync("ip", ["link", "add", "bridge", "netns", rtr.ns, "type", "veth", "peer", "name", "eth0", "netns", c1.ns]);
    for (const v of ["vlan10", "vlan11", "vlan12"]) execFileSync("ip", ["-n", rtr.ns, "link", "add", v, "type", "veth", "peer", "name", `${v}p`]);
    expect(rtr.sh("set -e; for d in bridge vlan10 vlan10p vlan11 vlan11p vlan12 vlan12p; do ip link set $d up; done").code).toBe(0);
    expect(rtr.sh("ip -6 addr add 2001:db8:bad::1/64 dev bridge").code).toBe(0);
    expect(c1.sh(`set -e; ip link set eth0 up; ip -6 addr add ${CLIENT}/64 dev eth0; ip -6 addr add ${CLIENT_ULA}/64 dev eth0; ip -6 addr add ${FOREIGN}/64 dev eth0
      ip -6 route add default via 2401:4520:110b:1::1 dev eth0`).code).toBe(0);
    // systemctl's stand-in, and failure shims in front of everything.
    const standIn = join(work, "systemd");
    mkdirSync(standIn);
    copyFileSync(join(REPO, "test/fixtures/systemctl"), join(standIn, "systemctl"));
    chmodSync(join(standIn, "systemctl"), 0o755);
    const shims = failureShims(join(work, "shims"), ["install", "mv", "cp", "sysctl", "systemctl", "wg-quick", "ip", "ip6tables-restore", "dpkg", "apt-get", "radvd"]);
    path = `${shims}:${standIn}:${process.env.PATH}`;
    out1 = render(SITE, "home");
    out2 = render(GROWN, "grown");
    // The copies in the render output with other modes than relay6 chose: setup.sh must
    // install relay6's modes, not the copy's.
    chmodSync(join(out1, "router/files/etc/wireguard/wg0.conf"), 0o644);
    chmodSync(join(out1, "router/files/usr/local/sbin/relay6-router-net"), 0o700);
    bare = await state();
  }, 60_000);

  afterAll(() => {
    rtr.sh(`PATH=${path}; systemctl stop frr radvd relay6-router-net wg-quick@wg0 2>/dev/null`);
    rtr.destroy();
    c1.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const firstInstall: [string, string][] = [
    ["packages", "dpkg -s radvd ;; apt-get update *"],
    ["the first file", "install * /etc/wireguard/wg0.conf.relay6-new"],
    ["frr.conf's rename (FRR's own file replaced)", "mv -f /etc/frr/frr.conf.relay6-new *"],
    ["the key", "install * /etc/wireguard/wg0.key.relay6-new"],
    ["FRR's daemons file", "mv -f /etc/frr/daemons.relay6-new /etc/frr/daemons"],
    ["sysctl", "sysctl -q -p /etc/sysctl.d/99-relay6.conf"],
    ["relay6-router-net half way (an address added, the next fails)", "ip -6 addr replace 2401:4520:110b:10::1/64 dev vlan10"],
    ["enabling relay6-router-net", "systemctl enable -q relay6-router-net"],
    ["wg-quick up", "wg-quick up wg0"],
    ["radvd's start", "systemctl start radvd"],
    ["the RA drain's start", "systemctl start relay6-ra-drain"],
    ["FRR's start (the last step)", "systemctl start frr"],
  ];
  for (const [step, pattern] of firstInstall)
    it(`first install, failure at ${step}: the router is exactly as before`, async () => {
      const r = await runScript(`${out1}/router/setup.sh`, pattern);
      expect(r.fired, r.out).not.toBe("");
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain("rolled back: this host is as it was before the run");
      expect(await state()).toEqual(bare);
    }, 60_000);

  it("the first install: up, every file with the mode (and owner) relay6 chose", async () => {
    const r = await runScript(`${out1}/router/setup.sh`);
    expect(r.code, r.out).toBe(0);
    installed = await state();
    expect(rtr.sh("stat -c '%a %U:%G %n' /etc/wireguard/wg0.conf /etc/wireguard/wg0.key /usr/local/sbin/relay6-router-net /etc/frr/frr.conf /etc/radvd.conf").stdout).toBe(
      ["600 root:root /etc/wireguard/wg0.conf", "600 root:root /etc/wireguard/wg0.key", "755 root:root /usr/local/sbin/relay6-router-net", "640 frr:frr /etc/frr/frr.conf", "644 root:root /etc/radvd.conf", ""].join("\n"),
    );
    for (const d of ["radvd", "relay6-ra-drain", "zebra", "bgpd", "bfdd", "wireguard-go"]) expect(installed).toMatch(new RegExp(`^${d}$`, "m"));
    expect(rtr.sh("grep -E '^(bgpd|bfdd)=' /etc/frr/daemons").stdout).toBe("bgpd=yes\nbfdd=yes\n");
    expect(rtr.sh("ip6tables -S INPUT; ip6tables -S FORWARD").stdout).toMatch(/-A INPUT -j RELAY6-IN[\s\S]*-A FORWARD -j RELAY6-FWD/);
    const again = await runScript(`${out1}/router/setup.sh`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("no changes: the router already matches the plan");
    expect(await state()).toEqual(installed);
  }, 60_000);

  it("the installed RA drain: radvd runs from its copy, router lifetime 0 while relay6's ::/0 is missing, as rendered while it is there", async () => {
    const copy = () => rtr.sh("cat /run/relay6/radvd.conf").stdout;
    const conf = rtr.sh("cat /etc/radvd.conf").stdout;
    expect(rtr.sh("tr '\\0' ' ' < /proc/$(cat /run/radvd.pid)/cmdline").stdout).toContain("-C /run/relay6/radvd.conf");
    // No VPS here: no BGP route, so the router is drained.
    expect(conf).toMatch(/AdvDefaultLifetime [1-9]\d*;/);
    expect(copy()).toBe(conf.replace(/AdvDefaultLifetime \d+;/g, "AdvDefaultLifetime 0;"));
    // relay6's own ::/0 (BGP through wg0) appears: the rendered file; it goes: drained again.
    expect(rtr.sh("ip -6 route add default dev wg0 proto bgp").code).toBe(0);
    try {
      await waitUntil(() => copy() === conf, 10_000, "the drain to give radvd the rendered file");
    } finally {
      rtr.sh("ip -6 route del default dev wg0 proto bgp");
    }
    await waitUntil(() => copy() !== conf, 10_000, "the drain to set router lifetime 0 again");
    expect(await state()).toEqual(installed);
  }, 60_000);

  it("forwarded traffic into the tunnel from outside the site's prefixes gets ICMPv6 1/5; the segment's own address goes through", async () => {
    expect(rtr.sh(`ip -6 route replace ${INTERNET}/128 dev wg0`).code).toBe(0);
    try {
      const pcap = join(work, "c1.pcap");
      const cap: ChildProcess = c1.spawn(["tcpdump", "-Z", "root", "-i", "eth0", "-n", "-U", "-w", pcap, "icmp6 and ip6[40] == 1 and ip6[41] == 5"], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      cap.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      await waitUntil(() => err.includes("listening on"), 10_000, "tcpdump");
      const wg = rtr.spawn(["tcpdump", "-Z", "root", "-i", "wg0", "-n", "-U", "-w", join(work, "wg0.pcap"), "udp"], { stdio: ["ignore", "ignore", "pipe"] });
      let wgErr = "";
      wg.stderr!.on("data", (d: Buffer) => (wgErr += d.toString()));
      await waitUntil(() => wgErr.includes("listening on"), 10_000, "tcpdump on wg0");
      const send = (src: string, port: number) => c1.sh(`python3 -c "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('${src}', 0)); s.sendto(b'relay6', ('${INTERNET}', ${port}))"`);
      for (const [src, port] of [[FOREIGN, 6001], [CLIENT_ULA, 6002], [CLIENT, 6003]] as const) expect(send(src, port).code).toBe(0);
      await new Promise((r) => setTimeout(r, 700));
      for (const p of [cap, wg]) {
        p.kill("SIGINT");
        await new Promise((r) => p.on("close", r));
      }
      // Only ICMPv6 1/5 (source address failed ingress/egress policy) was captured: one
      // for each foreign source, none for the segment's own address.
      const refused = execFileSync("tcpdump", ["-r", pcap, "-n"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      // Each error quotes the packet it refuses (tcpdump shows it in hex: the UDP header's
      // destination port right after the two addresses).
      for (const [src, port] of [[FOREIGN, 6001], [CLIENT_ULA, 6002]] as const)
        expect(refused).toMatch(new RegExp(`> ${src}: ICMP6, destination unreachable, unknown unreach code \\(5\\)\\n(\\s+0x.*\\n){3}\\s+0x0030:\\s+[0-9a-f]{4} ${port.toString(16)} `));
      expect(refused.split("\n").filter((l) => /^\d/.test(l))).toHaveLength(2);
      expect(refused).not.toContain(`> ${CLIENT}:`);
      const through = execFileSync("tcpdump", ["-r", join(work, "wg0.pcap"), "-n"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(through).toContain(`${CLIENT}.`);
      expect(through).not.toContain(FOREIGN);
      expect(through).not.toContain(CLIENT_ULA);
    } finally {
      rtr.sh(`ip -6 route del ${INTERNET}/128 dev wg0`);
    }
  }, 60_000);

  it("relay6-router-net: a reload that fails mid-refill leaves the old rules in place, never an empty chain", async () => {
    const rules = () => rtr.sh("ip6tables-save | grep -v '^#' | sed 's/ \\[[0-9]*:[0-9]*\\]$//'").stdout;
    const before = rules();
    expect(before).toContain("-A RELAY6-FWD -i wg0 -j DROP");
    // The grown site's script with one rule in the middle of the filter table the kernel refuses.
    const script = readFileSync(join(out2, "router/files/usr/local/sbin/relay6-router-net"), "utf8");
    const broken = script.replace("-A RELAY6-FWD -i wg0 -m conntrack --ctstate INVALID -j DROP", "-A RELAY6-FWD -i wg0 -m conntrack --ctstate INVALID -j DROP\n-A RELAY6-FWD -i wg0 -j NO-SUCH-CHAIN");
    expect(broken).not.toBe(script);
    const f = join(work, "broken-router-net");
    writeFileSync(f, broken);
    const r = rtr.sh(`bash ${f}`);
    expect(r.code, r.out).not.toBe(0);
    expect(rules()).toBe(before);
    // It had added the new segment's address already; the installed script's next run
    // takes it away again: the router is as after the install.
    expect(rtr.sh("ip -6 addr show dev vlan12").stdout).toContain("2401:4520:110b:12::1/64");
    expect(rtr.sh("/usr/local/sbin/relay6-router-net reload").code).toBe(0);
    expect(await state()).toEqual(installed);
  }, 30_000);

  const update: [string, string][] = [
    ["frr.conf's rename, after radvd.conf and relay6-router-net were replaced", "mv -f /etc/frr/frr.conf.relay6-new *"],
    ["the firewall's new rules (ip6tables-restore)", "ip6tables-restore *"],
    ["radvd's reload (a new radvd.conf), after the firewall reloaded", "systemctl reload radvd"],
    ["FRR's restart (the last step)", "systemctl restart frr"],
  ];
  for (const [step, pattern] of update)
    it(`update, failure at ${step}: the router is exactly as after the install`, async () => {
      const r = await runScript(`${out2}/router/setup.sh`, pattern);
      expect(r.fired, r.out).not.toBe("");
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain("rolled back: this host is as it was before the run");
      expect(await state()).toEqual(installed);
    }, 60_000);

  it("undo.sh: the router as before the first install; a second run is a no-op", async () => {
    const grown = await runScript(`${out2}/router/setup.sh`);
    expect(grown.code, grown.out).toBe(0);
    expect(rtr.sh("ip -6 addr show dev vlan12").stdout).toContain("2401:4520:110b:12::1/64");
    const r = await runScript(`${out2}/router/undo.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("[#] systemctl stop relay6-router-net");
    expect(r.out).toContain("[#] systemctl stop relay6-ra-drain");
    expect(r.out).toContain("undone: relay6's files, rules, units and routes are gone");
    expect(await state()).toEqual(bare);
    const again = await runScript(`${out2}/router/undo.sh`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("nothing to undo");
    expect(await state()).toEqual(bare);
  }, 90_000);
});



// Static failover: the health-checked default route (relay6-gw-check, a unit wanted by
// wg-quick@wgvps: enabling it makes a .wants directory), a WAN with accept_ra.
describe.skipIf(!root)("the Linux router with static failover: rollback and undo.sh (namespace router)", () => {
  const host = new NetnsHost(`r6t-ls-${id}`);
  const dir = tmp("relay6-linux-static-");
  let bare = "";
  let out = "";
  let spath = "";
  const run = async (script: string, fail?: string) => {
    const log = join(dir, "fired");
    rmSync(log, { force: true });
    const r = await host.run(`bash ${script}`, { PATH: spath, ...(fail ? { RELAY6_FAIL: fail, RELAY6_FAIL_LOG: log } : {}) });
    return { ...r, fired: existsSync(log) ? readFileSync(log, "utf8") : "" };
  };
  const hstate = async () => (await hostState(host, ROUTER_PATHS)) + (await host.run("ls -R /etc/systemd/system | grep -v '^$'")).stdout;

  beforeAll(async () => {
    host.create();
    host.sh("sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    for (const [a, b] of [["br0", "br0p"], ["br0.20", "br020p"], ["eth0.100", "wanp"]]) execFileSync("ip", ["-n", host.ns, "link", "add", a!, "type", "veth", "peer", "name", b!]);
    expect(host.sh("set -e; for d in br0 br0p br0.20 br020p eth0.100 wanp; do ip link set $d up; done").code).toBe(0);
    const standIn = join(dir, "systemd");
    mkdirSync(standIn);
    copyFileSync(join(REPO, "test/fixtures/systemctl"), join(standIn, "systemctl"));
    chmodSync(join(standIn, "systemctl"), 0o755);
    spath = `${failureShims(join(dir, "shims"), ["systemctl", "install"])}:${standIn}:${process.env.PATH}`;
    const site = join(dir, "cabin.yaml");
    // An address for the VPS, not the golden site's DNS name: nothing resolves names here
    // (wg-quick would retry the lookup for minutes).
    writeFileSync(site, readFileSync(join(REPO, "test/linux/sites/static-linux.yaml"), "utf8").replace(/^  endpoint: .*$/m, "  endpoint: 203.0.113.10"));
    out = join(dir, "out");
    const r = renderFile(site);
    writeArtifacts(out, r.artifacts, { sites: [{ site: r.plan.site }] });
    bare = await hstate();
  }, 60_000);
  afterAll(() => {
    host.sh(`PATH=${spath}; systemctl stop relay6-gw-check radvd wg-quick@wgvps relay6-router-net 2>/dev/null`);
    host.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [step, pattern] of [
    ["the gateway check's unit file", "install * /etc/systemd/system/relay6-gw-check.service.relay6-new"],
    ["enabling the gateway check (its .wants directory is new)", "systemctl enable -q relay6-gw-check"],
    ["radvd's drop-in (the RA drain's; its directory is new)", "install * /etc/systemd/system/radvd.service.d/relay6.conf.relay6-new"],
    ["the RA drain's start", "systemctl start relay6-ra-drain"],
  ] as const)
    it(`failure at ${step}: the router is exactly as before`, async () => {
      const r = await run(`${out}/router/setup.sh`, pattern);
      expect(r.fired, r.out).not.toBe("");
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("rolled back: this host is as it was before the run");
      expect(await hstate()).toEqual(bare);
    }, 60_000);

  it("installs (the gateway check runs and holds ::/0 via the tunnel), then undo.sh brings back the state before", async () => {
    const r = await run(`${out}/router/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(host.sh("ls /etc/systemd/system/wg-quick@wgvps.service.wants/").stdout).toBe("relay6-gw-check.service\n");
    expect(host.sh("ip -6 route show default").stdout).toContain("dev wgvps");
    expect(host.sh("sysctl -n net.ipv6.conf.eth0/100.accept_ra").stdout.trim()).toBe("2");
    expect(await hstate()).toMatch(/^relay6-gw-check$/m);
    expect(await hstate()).toMatch(/^relay6-ra-drain$/m);
    const u = await run(`${out}/router/undo.sh`);
    expect(u.code, u.out).toBe(0);
    expect(await hstate()).toEqual(bare);
  }, 60_000);
});
