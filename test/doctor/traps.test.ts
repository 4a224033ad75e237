// doctor finds each of the recipe's traps in a setup made by hand from the recipe's text,
// one assertion per code, and none of them once the setup is fixed.
import { describe, expect, it } from "vitest";
import { DOCTOR_CODES, REUSED_LINT_CODES, type DoctorReport } from "../../src/doctor/index.js";
import { LINT_CODES } from "../../src/lint/lint.js";
import { inputsOf, ROUTERS, runDoctor } from "./fixtures.js";

const codes = (r: DoctorReport) => r.findings.map((d) => d.code);
const only = (r: DoctorReport, code: string) => r.findings.filter((d) => d.code === code);

describe("the recipe as written (RouterOS 7.18.2)", () => {
  const r = runDoctor(inputsOf("recipe-as-written", { routeros: "routeros-7.18.2.rsc" }));

  it("bird-bgp-bfd-off: the recipe's protocol bgp has no `bfd on`", () => {
    expect(only(r, "bird-bgp-bfd-off")).toEqual([
      expect.objectContaining({ severity: "error", file: "test/doctor/fixtures/recipe-as-written/bird.conf", line: 23 }),
    ]);
  });
  it("bird-slow-timers: default error wait (60-300 s) and connect delay", () => {
    const [d] = only(r, "bird-slow-timers");
    expect(d).toMatchObject({ severity: "warning", line: 23 });
    expect(d!.message).toContain("60-300 s");
    expect(d!.message).toContain("connect delay time is bird's default 5 s");
  });
  it("ufw-blocks-bgp-bfd: active, default deny incoming, only 22/tcp and 51820/udp allowed", () => {
    const [d] = only(r, "ufw-blocks-bgp-bfd");
    expect(d).toMatchObject({ severity: "error", file: "test/doctor/fixtures/recipe-as-written/ufw-status.txt", line: 3 });
    expect(d!.message).toContain("BGP (TCP 179) or BFD (UDP 3784)");
  });
  it("ufw-route-allows-inbound: `ufw route allow out on wg0` (the IPv6 line)", () => {
    expect(only(r, "ufw-route-allows-inbound")).toEqual([expect.objectContaining({ severity: "error", line: 16 })]);
  });
  it("routeros-command-unsupported: /routing/bgp/instance, instance= and afi= (and advertise-dns=self) on 7.18.2", () => {
    const ds = only(r, "routeros-command-unsupported");
    const text = ds.map((d) => `${d.line} ${d.message}`);
    expect(text).toEqual([
      expect.stringMatching(/^24 \/ipv6\/nd advertise-dns=self is not in RouterOS 7\.18\.2/),
      expect.stringMatching(/^27 \/routing\/bgp\/instance does not exist in RouterOS 7\.18\.2/),
      expect.stringMatching(/^29 \/routing\/bgp\/connection instance= is not in RouterOS 7\.18\.2/),
      expect.stringMatching(/^29 \/routing\/bgp\/connection afi= is not in RouterOS 7\.18\.2/),
    ]);
    expect(ds.find((d) => d.message.includes("afi="))!.fix).toContain("address-families=ipv6");
  });
  it("static-failover-slow: the check-gateway=ping default route (info)", () => {
    expect(only(r, "static-failover-slow")).toEqual([expect.objectContaining({ severity: "info", line: 25 })]);
  });
  it("does not report what the recipe gets right", () => {
    for (const c of ["allowed-ips-covers-prefix", "allowed-ips-missing-segment", "allowed-ips-missing-transit", "wg-link-local-missing", "bird-bfd-passive", "routeros-input-drops-bfd", "routeros-input-drops-bgp"])
      expect(codes(r)).not.toContain(c);
    expect(r.skipped).toEqual([]);
  });
});

describe("the recipe as written on RouterOS 7.22", () => {
  const r = runDoctor(inputsOf("recipe-as-written"));
  it("its commands exist on 7.22, and 4b.4 removed the static route", () => {
    expect(codes(r)).not.toContain("routeros-command-unsupported");
    expect(codes(r)).not.toContain("static-failover-slow");
    expect([...new Set(codes(r))].sort()).toEqual(["bird-bgp-bfd-off", "bird-slow-timers", "ufw-blocks-bgp-bfd", "ufw-route-allows-inbound"]);
  });
  it("address-families= on 7.22 is the other direction of the same trap", () => {
    const inputs = inputsOf("recipe-as-written");
    inputs.routerosExport!.text = inputs.routerosExport!.text.replace("add afi=ipv6 instance=", "add address-families=ipv6 instance=");
    const ds = only(runDoctor(inputs), "routeros-command-unsupported");
    expect(ds.map((d) => d.message)).toEqual([expect.stringContaining("address-families= is gone in RouterOS 7.22 (since 7.19: afi=)")]);
  });
  it("router-id= on a BGP connection or template is gone from 7.20 (it moved to the instance)", () => {
    const inputs = inputsOf("recipe-as-written");
    inputs.routerosExport!.text = inputs.routerosExport!.text.replace("add as=65001 name=tpl-host use-bfd=yes", "add as=65001 name=tpl-host router-id=192.168.88.1 use-bfd=yes");
    const ds = only(runDoctor(inputs), "routeros-command-unsupported");
    expect(ds.map((d) => d.message)).toEqual([expect.stringContaining("/routing/bgp/template router-id= is gone in RouterOS 7.22")]);
  });
  it("is-responder= is gone from 7.17; a script with no header is checked against --routeros-version", () => {
    const script = "/interface/wireguard/peers add interface=wg-host is-responder=yes public-key=\"x\"\n";
    const r2 = runDoctor({ routerosExport: { origin: "paste.rsc", text: script } }, { routerosVersion: "7.22" });
    expect(only(r2, "routeros-command-unsupported").map((d) => d.message)).toEqual([expect.stringContaining("is-responder= is gone")]);
    const r3 = runDoctor({ routerosExport: { origin: "paste.rsc", text: script } });
    expect(r3.skipped).toContainEqual({ codes: ["routeros-command-unsupported", "routeros-version-untested"], reason: expect.stringContaining("--routeros-version") });
  });
  it("routeros-version-untested: a release outside the table is checked as the nearest known one", () => {
    const inputs = inputsOf("recipe-as-written");
    inputs.routerosExport!.text = inputs.routerosExport!.text.replace("by RouterOS 7.22", "by RouterOS 7.12.1");
    const r4 = runDoctor(inputs);
    expect(only(r4, "routeros-version-untested")).toEqual([expect.objectContaining({ severity: "warning", line: 1 })]);
    expect(only(r4, "routeros-command-unsupported").length).toBeGreaterThan(0); // checked as 7.15
  });
});

describe("the mistakes the recipe warns about", () => {
  const r = runDoctor(inputsOf("recipe-mistakes"));
  it("allowed-ips-covers-prefix: AllowedIPs 2401:4520:110b::/48 ties with the NIC's connected /48", () => {
    const [d] = only(r, "allowed-ips-covers-prefix");
    expect(d).toMatchObject({ severity: "error", file: "test/doctor/fixtures/recipe-mistakes/wg0.conf", line: 11 });
    expect(d!.message).toContain("connected 2401:4520:110b::/48 on enp3s0 (metric 256)");
    expect(only(r, "allowed-ips-covers-prefix")).toHaveLength(1);
  });
  it("allowed-ips-missing-segment: the guest VLAN's /64 is advertised but not in AllowedIPs (the /48 entry does not count)", () => {
    const ds = only(r, "allowed-ips-missing-segment");
    expect(ds).toEqual([expect.objectContaining({ severity: "error", file: "test/doctor/fixtures/recipe-mistakes/routeros-7.22.rsc", line: 27 })]);
    expect(ds[0]!.message).toContain("2401:4520:110b:30::/64 on vlan30");
  });
  it("wg-link-local-missing: section 4a.1 skipped while bird uses next hop self", () => {
    expect(only(r, "wg-link-local-missing")).toEqual([expect.objectContaining({ severity: "error", line: 1 })]);
  });
  it("bird-bfd-passive: protocol bfd with an interface clause only", () => {
    expect(only(r, "bird-bfd-passive")).toEqual([expect.objectContaining({ severity: "error", line: 13 })]);
    expect(only(r, "bird-bfd-passive")[0]!.fix).toContain('neighbor 2401:4520:110b::2 dev "wg0"');
  });
  it("routeros-input-drops-bfd and -bgp: nothing accepts them from wg-host before defconf's drop", () => {
    expect(only(r, "routeros-input-drops-bfd")).toEqual([expect.objectContaining({ severity: "error", line: 36 })]);
    expect(only(r, "routeros-input-drops-bgp")).toEqual([expect.objectContaining({ severity: "warning", line: 36 })]);
  });
  it("bfd yes and fast timers are not reported", () => {
    expect(codes(r)).not.toContain("bird-bgp-bfd-off");
    expect(codes(r)).not.toContain("bird-slow-timers");
  });
  it("says which checks it skipped for lack of input (no ufw status here)", () => {
    expect(r.skipped).toEqual([
      { codes: ["ufw-blocks-bgp-bfd"], reason: "needs --ufw-status" },
      { codes: ["ufw-route-allows-inbound"], reason: "needs --ufw-status" },
    ]);
  });
  it("allowed-ips-missing-transit: the router's transit /128 left out of AllowedIPs", () => {
    const inputs = inputsOf("fixed");
    inputs.wgConf!.text = inputs.wgConf!.text.replace("AllowedIPs = 2401:4520:110b::2/128\n", "");
    expect(only(runDoctor(inputs), "allowed-ips-missing-transit")).toEqual([expect.objectContaining({ severity: "error", line: 8 })]); // the [Peer] line
  });
});

describe("the fixed setup", () => {
  const r = runDoctor(inputsOf("fixed"));
  it("has no findings at all, and every check ran", () => {
    expect(r.findings).toEqual([]);
    expect(r.skipped).toEqual([]);
  });
  it("a script pasted without place-before still trips the input check (defconf's drop is on the router)", () => {
    const paste = "/interface/wireguard add name=wg-host\n/routing/bgp/connection add name=c use-bfd=yes remote.address=2001:db8::1\n/ipv6/firewall/filter add chain=input action=accept protocol=udp dst-port=3784 in-interface=wg-host\n";
    const r2 = runDoctor({ routerosExport: { origin: "paste.rsc", text: paste } }, { routerosVersion: "7.22" });
    expect(codes(r2)).toContain("routeros-input-drops-bfd");
    const placed = paste.replace("in-interface=wg-host\n", 'in-interface=wg-host place-before=[find comment="defconf: drop everything else not coming from LAN"]\n');
    expect(codes(runDoctor({ routerosExport: { origin: "paste.rsc", text: placed } }, { routerosVersion: "7.22" }))).not.toContain("routeros-input-drops-bfd");
  });
});

describe("inputs that are not what their flag says", () => {
  it("input-not-recognised and input-unreadable, and the checks are then skipped", () => {
    const r = runDoctor({
      wgConf: { origin: "bird.conf", text: "protocol device { }\n" },
      birdConf: { origin: "broken.conf", text: "protocol bgp x {\n  bfd on;\n" },
    });
    expect(r.findings.map((d) => [d.code, d.file, d.line])).toEqual([
      ["input-unreadable", "broken.conf", 1],
      ["input-not-recognised", "bird.conf", undefined],
      ["input-not-recognised", "bird.conf", 1],
    ]);
    expect(r.skipped.map((s) => s.codes[0])).toContain("bird-bgp-bfd-off");
  });
});

describe("codes", () => {
  it("doctor-only codes do not collide with lint codes, and reused codes are lint's", () => {
    const lint = new Set(LINT_CODES.map((c) => c.code));
    const own = [...DOCTOR_CODES, ...ROUTERS.flatMap((r) => r.doctor.codes)];
    for (const c of own) expect(lint.has(c.code)).toBe(false);
    for (const c of REUSED_LINT_CODES) expect(lint.has(c)).toBe(true);
    for (const c of own) expect(c.code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});

describe("facts doctor reads off the VPS and router", () => {
  it("finds the tunnel device from ip -6 addr when wg0.conf was copied under another name", () => {
    const inputs = inputsOf("recipe-as-written");
    inputs.wgConf!.origin = "/tmp/vps-copy.conf";
    // the ufw trap names wg0, which only ip -6 addr could tell
    expect(runDoctor(inputs).findings.find((d) => d.code === "ufw-route-allows-inbound")?.message).toContain("out on wg0");
    const noAddr = inputsOf("recipe-as-written", { omit: ["ipAddr"] });
    noAddr.wgConf!.origin = "/tmp/vps-copy.conf";
    expect(runDoctor(noAddr).findings.find((d) => d.code === "ufw-route-allows-inbound")?.message).toContain("out on wg0");
  });
  it("does not ask for /64s outside the routed prefix, nor delegated (from-pool) ones, in AllowedIPs", () => {
    const inputs = inputsOf("fixed");
    inputs.routerosExport!.text = inputs.routerosExport!.text.replace(
      "add address=2401:4520:110b:1::1/64 interface=bridge",
      "add address=2401:4520:110b:1::1/64 interface=bridge\nadd address=2001:db8:aaaa:1::1/64 interface=vlan30\nadd address=::1 from-pool=isp-pd interface=bridge",
    );
    expect(codes(runDoctor(inputs))).not.toContain("allowed-ips-missing-segment");
    // ...but without the VPS's routes doctor cannot tell where the relay's prefix ends
    const { ipRoute: _r, ipAddr: _a, ...blind } = inputs;
    expect(only(runDoctor(blind), "allowed-ips-missing-segment").map((d) => d.message)).toEqual([expect.stringContaining("2001:db8:aaaa:1::/64 on vlan30")]);
  });
});
