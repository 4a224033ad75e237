// The VPS's files for the single-/64 kinds, read back for meaning and checked by the real
// tools: wg0.conf on link-locals (and a deprecated ULA), bird.conf with the interface of a
// link-local neighbour (bird -p), ndppd.conf with static rules only (parsed as ndppd reads
// it), the ndppd unit (systemd-analyze verify), the routed /64's own-address move and its
// sysctls, and what verify makes of ndppd's state.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseIni } from "./ini.js";
import { REPO, renderFile, tmp } from "./helpers.js";
import { parseNdppdConf } from "../src/verify/ndppd.js";
import { ndppdFindings, ownAddressFindings, vpsScript } from "../src/targets/vps/verify.js";
import { relayPlanOf } from "../src/plan/relay.js";

const site = (n: string) => join(REPO, "test/golden/sites", `${n}.yaml`);
const get = (arts: { path: string; content: string }[], p: string) => {
  const a = arts.find((x) => x.path === p);
  if (!a) throw new Error(`no artifact ${p}`);
  return a.content;
};
const vultr = renderFile(site("vultr-onlink"));
const hetzner = renderFile(site("hetzner-routed64"));
const moved = renderFile(site("moved-ula"));
const relayOf = (r: typeof vultr) => relayPlanOf("site", r.plan.site, r.plan.prefix, [r.plan]);

function birdCheck(text: string): { status: number | null; stderr: string } {
  const dir = tmp();
  writeFileSync(join(dir, "bird.conf"), text);
  const r = spawnSync("bird", ["-p", "-c", join(dir, "bird.conf")], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

function unitCheck(name: string, text: string): { status: number | null; out: string } {
  const dir = tmp();
  writeFileSync(join(dir, name), text);
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", join(dir, name)], { encoding: "utf8" });
  expect(r.error, "systemd-analyze (package systemd) must be installed: scripts/install-deps.sh").toBeUndefined();
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

describe("link-local transit (a /64 site)", () => {
  it("wg0.conf: fe80::1/64 only; the router's fe80::2/128 in AllowedIPs beside the LAN /64", () => {
    const conf = parseIni(get(vultr.artifacts, "vps/files/etc/wireguard/wg0.conf"));
    expect(conf.find((s) => s.name === "Interface")!.values.Address).toEqual(["fe80::1/64"]);
    expect(conf.find((s) => s.name === "Peer")!.values.AllowedIPs![0]!.split(/,\s*/)).toEqual(["fe80::2/128", "2001:db8:77:1::/64"]);
  });

  it("bird: the neighbour with its interface, BFD from fe80::1; bird -p accepts it and refuses it without the interface", () => {
    const bird = get(vultr.artifacts, "vps/files/etc/bird/bird.conf");
    expect(bird).toContain("  local fe80::1 as 65002;\n  neighbor fe80::2 % 'wg0' as 65001;");
    expect(bird).toContain('  neighbor fe80::2 dev "wg0" local fe80::1;');
    expect(birdCheck(bird).status, birdCheck(bird).stderr).toBe(0);
    const bare = birdCheck(bird.replace(" % 'wg0'", ""));
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/[Ll]ink-local/);
  });

  it("ufw opens BGP and BFD from fe80::2 to fe80::1 on wg0 only", () => {
    const fw = get(vultr.artifacts, "vps/firewall.sh");
    expect(fw).toContain("rule 'BGP from the router' allow in on wg0 from fe80::2 to fe80::1 port 179 proto tcp");
    expect(fw).toContain("rule 'BFD from the router' allow in on wg0 from fe80::2 to fe80::1 port 3784 proto udp");
  });

  it("the hook and verify ping the router's link-local with its interface", () => {
    expect(get(vultr.artifacts, "vps/files/etc/wireguard/relay6-hook.sh")).toContain("ping -6 -c 1 -W 1 fe80::2%wg0");
    expect(vpsScript(relayOf(vultr))).toContain("ping -6 -c 2 -i 0.2 -W 1 fe80::2%wg0");
  });
});

describe("ULA transit", () => {
  it("the VPS's ULA is deprecated at once (PostUp), so its own global traffic never picks it as source", () => {
    const conf = parseIni(get(moved.artifacts, "vps/files/etc/wireguard/wg0.conf"));
    const iface = conf.find((s) => s.name === "Interface")!;
    expect(iface.values.Address).toEqual(["fd42:77:2:ffff::1/64"]);
    expect(iface.values.PostUp).toContain("ip -6 addr change fd42:77:2:ffff::1/64 dev %i preferred_lft 0");
  });
});

describe("vps.onLink: ndppd", () => {
  it("ndppd.conf: one proxy on the NIC, a static rule for the LAN /64, nothing for the ULA-only segment", () => {
    const r = parseNdppdConf(get(vultr.artifacts, "vps/files/etc/relay6/ndppd.conf"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.conf.proxies.map((p) => ({ iface: p.iface, rules: p.rules.map((x) => `${x.prefix} ${x.method}`) }))).toEqual([{ iface: "enp1s0", rules: ["2001:db8:77:1::/64 static"] }]);
  });

  it("the ndppd unit: Restart=always, ndppd -c /etc/relay6/ndppd.conf, and systemd-analyze verify has nothing to say", () => {
    const unit = get(vultr.artifacts, "vps/files/etc/systemd/system/ndppd.service");
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/ndppd -c \/etc\/relay6\/ndppd\.conf$/m);
    expect(unitCheck("ndppd.service", unit)).toEqual({ status: 0, out: "" });
    // The check bites: a unit systemd cannot read is reported.
    expect(unitCheck("ndppd.service", unit.replace("Restart=always", "Restart=sometimes")).out).toMatch(/restart specifier/);
  });

  it("setup.sh installs ndppd and starts it after wg0; a site without onLink gets none of it", () => {
    const setup = get(vultr.artifacts, "vps/setup.sh");
    expect(setup).toMatch(/for p in [^\n]* ndppd; do/);
    expect(setup).toContain("install_file files/etc/relay6/ndppd.conf /etc/relay6/ndppd.conf 644 root:root ndppd_changed");
    expect(setup.indexOf("step 'ndppd'")).toBeGreaterThan(setup.indexOf("step 'wg0'"));
    expect(spawnSync("bash", ["-n"], { input: setup }).status).toBe(0);
    expect(get(hetzner.artifacts, "vps/setup.sh")).not.toContain("ndppd");
    expect(hetzner.artifacts.some((a) => a.path.includes("ndppd"))).toBe(false);
  });

  it("verify: ndppd down, a rule that misses the LAN /64, or a non-static rule are each named", () => {
    const relay = relayOf(vultr);
    const conf = get(vultr.artifacts, "vps/files/etc/relay6/ndppd.conf");
    const section = (pids: string, text: string) => `${pids}conf /etc/relay6/ndppd.conf\n${text}`;
    const sites = relay.sites;
    const running = "pid 4242 /usr/sbin/ndppd -c /etc/relay6/ndppd.conf \n";
    expect(ndppdFindings(relay, sites, section(running, conf)).map((f) => `${f.check} ${f.status}`)).toEqual(["vps.ndppd pass", "vps.ndppd-rules pass"]);
    expect(ndppdFindings(relay, sites, section("", conf))).toEqual([expect.objectContaining({ check: "vps.ndppd", status: "fail", fault: "ndppd-down" })]);
    const other = ndppdFindings(relay, sites, section(running, conf.replace("2001:db8:77:1::/64", "2001:db8:77:2::/64")));
    expect(other[1]).toMatchObject({ check: "vps.ndppd-rules", status: "fail", fault: "ndp-proxy-missing" });
    expect(other[1]!.detail).toContain("no rule on enp1s0 covers 2001:db8:77:1::/64");
    const iface = ndppdFindings(relay, sites, section(running, conf.replace("    static\n", "    iface wg0\n")));
    expect(iface[1]).toMatchObject({ status: "fail", fault: "ndp-proxy-missing" });
    expect(iface[1]!.detail).toMatch(/method iface wg0: over WireGuard only static can answer/);
    const wrongNic = ndppdFindings(relay, sites, section(running, conf.replace("proxy enp1s0", "proxy eth9")));
    expect(wrongNic[1]).toMatchObject({ status: "fail", fault: "ndp-proxy-missing" });
  });

  it("verify's ndppd probe is valid shell and reads the config the running ndppd was given", () => {
    const script = vpsScript(relayOf(vultr));
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
    expect(script).toContain("pgrep -x ndppd");
    expect(script).toMatch(/-c\) c=\$2/);
  });
});

describe("routed /64 with the VPS's own address in it", () => {
  it("sysctl: RAs give no prefix route (pinfo 0, RIOs off); an on-link site keeps the RA's prefix (its own /64)", () => {
    const h = get(hetzner.artifacts, "vps/files/etc/sysctl.d/99-relay6.conf");
    expect(h).toMatch(/^net\.ipv6\.conf\.enp0s31f6\.accept_ra_pinfo = 0$/m);
    expect(h).toMatch(/^net\.ipv6\.conf\.enp0s31f6\.accept_ra_rt_info_max_plen = 0$/m);
    expect(h).toMatch(/^net\.ipv6\.conf\.enp0s31f6\.accept_ra = 2$/m);
    expect(get(vultr.artifacts, "vps/files/etc/sysctl.d/99-relay6.conf")).not.toContain("pinfo");
  });

  it("relay6-vps-net.sh keeps the address and drops its connected /64: before wg0 in setup.sh, and at each wg0 start", () => {
    const script = get(hetzner.artifacts, "vps/files/etc/wireguard/relay6-vps-net.sh");
    expect(script).toContain("nic=enp0s31f6 cidr=2001:db8:4f8:10::2/64 lan=2001:db8:4f8:10::/64");
    expect(script).toContain('run ip -6 addr change "$cidr" dev "$nic" noprefixroute');
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
    const setup = get(hetzner.artifacts, "vps/setup.sh");
    expect(setup.indexOf("run /etc/wireguard/relay6-vps-net.sh up")).toBeLessThan(setup.indexOf("step 'wg0'"));
    const iface = parseIni(get(hetzner.artifacts, "vps/files/etc/wireguard/wg0.conf")).find((s) => s.name === "Interface")!;
    expect(iface.values.PostUp).toContain("/etc/wireguard/relay6-vps-net.sh up");
    expect(iface.values.PostDown).toEqual(["/etc/wireguard/relay6-vps-net.sh down"]);
    expect(get(vultr.artifacts, "vps/files/etc/wireguard/wg0.conf")).not.toContain("relay6-vps-net");
  });

  it("verify names an address that kept its connected route, and RAs that may add it back", () => {
    const relay = relayOf(hetzner);
    const ok = ownAddressFindings(relay, "2: enp0s31f6    inet6 2001:db8:4f8:10::2/64 scope global noprefixroute \\       valid_lft forever", "0\n0");
    expect(ok.map((f) => `${f.check} ${f.status}`)).toEqual(["vps.own-address pass", "vps.ra-prefix pass"]);
    const back = ownAddressFindings(relay, "2: enp0s31f6    inet6 2001:db8:4f8:10::2/64 scope global \\       valid_lft forever", "1\n0");
    expect(back.map((f) => `${f.check} ${f.status} ${f.fault}`)).toEqual(["vps.own-address fail vps-address-connected", "vps.ra-prefix fail vps-address-connected"]);
  });
});
