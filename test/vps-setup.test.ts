// The rendered vps/setup.sh run for real, as root, in a network namespace with its own
// mount namespace (NetnsHost: its own /etc, /var, /run): a bare VPS
// brought up, a second run that changes nothing, a segment added live without dropping
// the tunnel's peer, and a failing step rolled back.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFile, REPO, tmp } from "./helpers.js";
import { writeArtifacts } from "../src/io/write.js";
import { failureShims } from "./host-state.js";
import { NetnsHost } from "./netns-host.js";

const host = new NetnsHost(`r6t-setup-${process.pid}`);
const work = tmp("relay6-setup-");

function render(siteText: string, out: string) {
  const site = join(work, "site.yaml");
  writeFileSync(site, siteText);
  const { plan, artifacts } = renderFile(site);
  writeArtifacts(out, artifacts, { sites: [{ site: plan.site }] });
}

const inNs = (script: string) => host.sh(script);

const SITE = readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8");

describe("vps/setup.sh on a bare VPS (namespace)", () => {
  beforeAll(() => {
    host.create();
    execFileSync("ip", ["-n", host.ns, "link", "add", "enp3s0", "type", "veth", "peer", "name", "up0"]); // no dummy module here
    for (const d of ["enp3s0", "up0"]) execFileSync("ip", ["-n", host.ns, "link", "set", d, "up"]);
    // The provider's address on the NIC, with the prefix's own mask.
    execFileSync("ip", ["-n", host.ns, "addr", "add", "2401:4520:110b::a/48", "dev", "enp3s0", "nodad"]);
    execFileSync("ip", ["-n", host.ns, "route", "add", "default", "dev", "enp3s0"]);
  });

  afterAll(() => {
    host.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("brings the VPS up, then a second run changes nothing", () => {
    const out1 = join(work, "out1");
    render(SITE, out1);
    // An older relay6's forwarding rule (from any source) and another site's rule.
    expect(inNs("ufw route allow in on wg0 out on enp3s0 comment 'relay6 home: LAN to internet' && ufw allow 8080/tcp comment 'relay6 other: web'").code).toBe(0);
    const first = inNs(`bash ${out1}/vps/setup.sh`);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("[#] wg-quick up wg0");
    expect(first.out).toContain("[#] bird -c /etc/bird/bird.conf");
    expect(first.out).toContain("[#] ufw --force enable");
    expect(readFileSync(join(host.etc, "wireguard/wg0.conf"), "utf8")).toBe(readFileSync(join(out1, "vps/files/etc/wireguard/wg0.conf"), "utf8"));

    const state = inNs("wg show wg0 allowed-ips; ip -6 route show; birdc show status; ufw status verbose; sysctl net.ipv6.conf.enp3s0.accept_ra; stat -c '%a %U' /etc/wireguard/wg0.key /etc/bird/bird.conf");
    expect(state.out).toContain("2401:4520:110b:11::/64 dev wg0");
    expect(state.out).toMatch(/BIRD [\d.]+ ready/);
    expect(state.out).toContain("Status: active");
    expect(state.out).toMatch(/2401:4520:110b::1 179\/tcp on wg0\s+ALLOW IN\s+2401:4520:110b::2 /);
    expect(state.out).toMatch(/2401:4520:110b::1 3784\/udp on wg0\s+ALLOW IN\s+2401:4520:110b::2 /);
    expect(state.out).not.toMatch(/ALLOW FWD\s+Anywhere( \(v6\))? on enp3s0/); // nothing new from the internet into wg0
    // This site's stale rule is gone, the other site's stays as it was.
    expect(first.out).toContain("[#] ufw route delete allow in on wg0 out on enp3s0");
    const added = inNs("ufw show added").out;
    expect(added).not.toContain("relay6 home: LAN to internet");
    expect(added).toContain("ufw allow 8080/tcp comment 'relay6 other: web'");
    expect(added).toContain("ufw route allow in on wg0 out on enp3s0 from 2401:4520:110b:1::/64 comment 'relay6 home: to internet from lan'");
    expect(state.out).toContain("net.ipv6.conf.enp3s0.accept_ra = 2");
    expect(state.out).toContain("600 root");
    expect(state.out).toContain("640 bird");
    const route = inNs("ip -6 route get 2401:4520:110b:10::1234");
    expect(route.out).toContain("dev wg0");

    const second = inNs(`bash ${out1}/vps/setup.sh`);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain("no changes: the VPS already matches the plan");
    const commands = second.out.split("\n").filter((l) => l.startsWith("[#]"));
    expect(commands).toEqual(["[#] sysctl -q -p /etc/sysctl.d/99-relay6.conf", expect.stringContaining("firewall.sh")]);
    const count = (s: string) => (s.match(/relay6 home/g) ?? []).length;
    expect(count(inNs("ufw status").out)).toBe(count(state.out));
  });

  it("adds a segment live: same wg0, peer kept, new route, no wg-quick down", () => {
    const before = inNs("cat /sys/class/net/wg0/ifindex; wg show wg0 peers").out;
    const out2 = join(work, "out2");
    render(SITE.replace("failover:", "  - { name: lab, index: 0x12, interface: vlan12 }\nfailover:"), out2);
    const r = inNs(`bash ${out2}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("wg syncconf wg0");
    expect(r.out).not.toContain("wg-quick down");
    expect(r.out).not.toContain("birdc configure"); // bird.conf did not change: bird is left alone
    const after = inNs("cat /sys/class/net/wg0/ifindex; wg show wg0 peers; wg show wg0 allowed-ips; wg show wg0 private-key | wc -c; ip -6 route show");
    expect(after.out.split("\n").slice(0, 2)).toEqual(before.split("\n").slice(0, 2)); // same interface, same peer
    expect(after.out).toContain("2401:4520:110b:12::/64");
    expect(after.out).toMatch(/^45$/m); // the private key survived syncconf
    expect(after.out).toContain("2401:4520:110b:12::/64 dev wg0");
  });

  it("rolls back every file when a step fails", () => {
    const good = readFileSync(join(host.etc, "wireguard/wg0.conf"), "utf8");
    const goodBird = readFileSync(join(host.etc, "bird/bird.conf"), "utf8");
    const out3 = join(work, "out3");
    render(SITE.replace("failover:", "  - { name: lab, index: 0x12, interface: vlan12 }\n  - { name: more, index: 0x13, interface: vlan13 }\nfailover:"), out3);
    // A bird.conf bird refuses: birdc configure fails after wg0 was already changed.
    const bad = join(out3, "vps/files/etc/bird/bird.conf");
    writeFileSync(bad, readFileSync(bad, "utf8").replace("bfd on;", "bfd on; this is not bird syntax;"));
    const r = inNs(`bash ${out3}/vps/setup.sh`);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("FAILED");
    expect(r.out).toContain("restored /etc/wireguard/wg0.conf");
    expect(readFileSync(join(host.etc, "wireguard/wg0.conf"), "utf8")).toBe(good);
    expect(readFileSync(join(host.etc, "bird/bird.conf"), "utf8")).toBe(goodBird);
    const live = inNs("wg show wg0 allowed-ips; ip -6 route show; birdc show status");
    expect(live.out).not.toContain("2401:4520:110b:13::/64"); // the live state went back too
    expect(live.out).toContain("2401:4520:110b:12::/64");
    expect(live.out).toMatch(/BIRD [\d.]+ ready/);
    expect(existsSync(join(host.etc, "wireguard/wg0.conf.relay6-new"))).toBe(false);
  });

  it("firewall.sh with ufw active and a default to change: SSH first; when sshd -T fails, the known ports, said so", () => {
    const out4 = join(work, "out4");
    render(SITE.replace("nic: enp3s0", "nic: enp3s0\n  ssh: { port: 2022 }"), out4);
    // ufw active with default allow incoming (the user's), and sshd unable to answer.
    expect(inNs("ufw default allow incoming").code).toBe(0);
    const shims = failureShims(join(work, "shims"), ["sshd"]);
    const r = host.sh(`bash ${out4}/vps/firewall.sh`, { PATH: `${shims}:${process.env.PATH}`, RELAY6_FAIL: "sshd -T", RELAY6_FAIL_LOG: join(work, "fired"), SSH_CONNECTION: "192.0.2.9 50000 192.0.2.1 2200" });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("WARNING: could not ask sshd which ports it listens on (`sshd -T` failed or sshd is absent): allowing only the ports known: 2200 2022 (vps.ssh.port 2022, and the port of this session)");
    const cmds = r.out.split("\n").filter((l) => l.startsWith("[#] "));
    const at = (s: string) => cmds.findIndex((l) => l.includes(s));
    expect(at("ufw allow 2200/tcp comment relay6 home: ssh")).toBeGreaterThan(-1);
    expect(at("ufw allow 2022/tcp comment relay6 home: ssh")).toBeGreaterThan(-1);
    expect(at("ufw default deny incoming")).toBeGreaterThan(at("ufw allow 2200/tcp"));
    expect(at("ufw default deny incoming")).toBeGreaterThan(at("ufw allow 2022/tcp"));
    expect(inNs("ufw status verbose").out).toMatch(/Default: deny \(incoming\)/);
  });
});
