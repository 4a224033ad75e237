// The rendered vps/setup.sh of the single-/64 kinds, run for real as root in a network
// namespace (as test/vps-setup.test.ts does for the recipe): on an on-link /64 it starts
// ndppd (no systemd here: its own daemon, in this namespace only), keeps it across a
// no-op run and starts it again when it is gone; on a routed /64 it keeps the provider's
// address and takes its connected /64 away before wg0, repairs it when the provider's
// configuration puts it back, and `relay6-vps-net.sh down` restores it.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifacts } from "../src/io/write.js";
import { renderFile, REPO, tmp } from "./helpers.js";
import { NetnsHost } from "./netns-host.js";

const work = tmp("relay6-setup64-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

function render(name: string, out: string) {
  const site = join(work, `${name}.yaml`);
  writeFileSync(site, readFileSync(join(REPO, "test/golden/sites", `${name}.yaml`), "utf8"));
  const r = renderFile(site);
  writeArtifacts(out, r.artifacts, { sites: [{ site: r.plan.site }] });
}

function nic(host: NetnsHost, dev: string, address: string) {
  execFileSync("ip", ["-n", host.ns, "link", "add", dev, "type", "veth", "peer", "name", "up0"]);
  for (const d of [dev, "up0"]) execFileSync("ip", ["-n", host.ns, "link", "set", d, "up"]);
  execFileSync("ip", ["-n", host.ns, "addr", "add", address, "dev", dev, "nodad"]);
  execFileSync("ip", ["-n", host.ns, "-6", "route", "add", "default", "via", "fe80::1", "dev", dev, "onlink"]);
}

describe("vps/setup.sh, on-link /64 (ndppd, ULA transit)", () => {
  const host = new NetnsHost(`r6t-s64o-${process.pid}`);
  const out = join(work, "moved");
  beforeAll(() => {
    host.create();
    nic(host, "eth0", "2001:db8:77::a/64");
    render("moved-ula", out);
  });
  afterAll(() => host.destroy());

  const ndppd = () => host.sh(`for p in $(pgrep -x ndppd); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo "$p $(tr '\\0' ' ' < /proc/$p/cmdline)"; done`).out.trim();

  it("starts ndppd on the rendered configuration, in this namespace only", () => {
    const r = host.sh(`bash ${out}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("[#] ndppd -d -c /etc/relay6/ndppd.conf");
    expect(ndppd()).toMatch(/^\d+ ndppd -d -c \/etc\/relay6\/ndppd\.conf\s*$/);
    expect(readFileSync(join(host.etc, "relay6/ndppd.conf"), "utf8")).toBe(readFileSync(join(out, "vps/files/etc/relay6/ndppd.conf"), "utf8"));
    // The ULA on wg0 is deprecated: the VPS's own traffic keeps its global source.
    expect(host.sh("ip -6 addr show dev wg0").out).toMatch(/inet6 fd42:77:2:ffff::1\/64 scope global deprecated/);
  });

  it("a second run changes nothing and keeps the same ndppd; a dead ndppd is started again", () => {
    const pid = ndppd().split(" ")[0];
    const again = host.sh(`bash ${out}/vps/setup.sh`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("no changes: the VPS already matches the plan");
    expect(ndppd().split(" ")[0]).toBe(pid);
    host.sh(`kill ${pid}; sleep 0.2`);
    expect(ndppd()).toBe("");
    const repair = host.sh(`bash ${out}/vps/setup.sh`);
    expect(repair.code, repair.out).toBe(0);
    expect(repair.out).toContain("[#] ndppd -d -c /etc/relay6/ndppd.conf");
    expect(ndppd()).not.toBe("");
  });

  it("undo.sh stops relay6's ndppd (this namespace's only) and removes its configuration", () => {
    expect(ndppd()).not.toBe("");
    const r = host.sh(`bash ${out}/vps/undo.sh`);
    expect(r.code, r.out).toBe(0);
    expect(ndppd()).toBe("");
    expect(host.sh("test -e /etc/relay6/ndppd.conf && echo present || echo gone").out.trim()).toBe("gone");
  });
});

describe("vps/setup.sh, routed /64 holding the VPS's own address", () => {
  const host = new NetnsHost(`r6t-s64r-${process.pid}`);
  const out = join(work, "hetzner");
  const routes = () => host.sh("ip -6 route show dev enp0s31f6; ip -6 route get 2001:db8:4f8:10::1234").out;
  beforeAll(() => {
    host.create();
    nic(host, "enp0s31f6", "2001:db8:4f8:10::2/64");
    render("hetzner-routed64", out);
  });
  afterAll(() => host.destroy());

  it("before: the provider's connected /64 on the NIC takes the LAN (the trap)", () => {
    expect(routes()).toMatch(/^2001:db8:4f8:10::\/64 proto kernel/m);
  });

  it("keeps the address, drops its connected /64 before wg0 comes up; RAs take no prefix", () => {
    const r = host.sh(`bash ${out}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out.indexOf("[#] ip -6 addr change 2001:db8:4f8:10::2/64 dev enp0s31f6 noprefixroute")).toBeLessThan(r.out.indexOf("[#] wg-quick up wg0"));
    expect(host.sh("ip -6 addr show dev enp0s31f6").out).toMatch(/inet6 2001:db8:4f8:10::2\/64 scope global noprefixroute/);
    const after = routes();
    expect(after).not.toMatch(/^2001:db8:4f8:10::\/64/m);
    expect(after).toMatch(/2001:db8:4f8:10::1234 .*dev wg0/);
    expect(host.sh("sysctl -n net.ipv6.conf.enp0s31f6.accept_ra_pinfo net.ipv6.conf.enp0s31f6.accept_ra_rt_info_max_plen").out.split(/\s+/).slice(0, 2)).toEqual(["0", "0"]);
    const again = host.sh(`bash ${out}/vps/setup.sh`);
    expect(again.out).toContain("no changes: the VPS already matches the plan");
  });

  it("the provider's configuration puts the route back: the next run takes it away again", () => {
    host.sh("ip -6 addr change 2001:db8:4f8:10::2/64 dev enp0s31f6");
    expect(routes()).toMatch(/2001:db8:4f8:10::1234 .*dev enp0s31f6/);
    const r = host.sh(`bash ${out}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain("no changes");
    expect(routes()).toMatch(/2001:db8:4f8:10::1234 .*dev wg0/);
  });

  it("relay6-vps-net.sh down (wg0's PostDown) gives the provider's route back", () => {
    const down = host.sh("/etc/wireguard/relay6-vps-net.sh down");
    expect(down.code, down.out).toBe(0);
    expect(host.sh("ip -6 addr show dev enp0s31f6").out).not.toMatch(/noprefixroute/);
    expect(routes()).toMatch(/^2001:db8:4f8:10::\/64 proto kernel/m);
  });
});
