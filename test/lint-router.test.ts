// Lint that holds for every router platform (an IPv6 endpoint), the sources the VPS takes
// (AllowedIPs outside the prefix), and RouterOS interface names: errors, never a crash.
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { analyse, parseSite } from "../src/pipeline.js";
import { productionTargets } from "../src/targets/index.js";
import { runCli, tmp } from "./helpers.js";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const routers = productionTargets().flatMap((t) => (t.role === "router" && t.platform ? [t.platform] : []));

function site(platform: string, extra: { vps?: object; router?: object; segments?: object[] } = {}) {
  return stringify({
    site: "t",
    prefix: "2001:db8:40::/48",
    vps: { endpoint: "192.0.2.1", nic: "eth0", ...extra.vps },
    router: { platform, bridge: "br0", ...(platform === "routeros" ? { version: "7.22" } : {}), ...extra.router },
    segments: extra.segments ?? [{ name: "lan", index: 1, interface: "br0" }],
    failover: { mode: "static" },
  });
}
const findings = (text: string) => analyse(parseSite(text, "site.yaml")).findings;
const errors = (text: string) => findings(text).filter((d) => d.severity === "error");

describe("vps.endpoint on every router platform", () => {
  it("there are two router platforms to check", () => {
    expect(routers.map((p) => p.id).sort()).toEqual(["linux", "routeros"]);
  });

  for (const p of routers) {
    it(`${p.id}: an IPv6 endpoint is an error naming the loop and the clash`, () => {
      for (const endpoint of ["2001:db8:ffff::10", "2001:db8:ffff::1", "::ffff:192.0.2.1"]) {
        const ds = errors(site(p.id, { vps: { endpoint } }));
        expect(ds.map((d) => d.code), endpoint).toEqual(["vps-endpoint-ipv6-loop-clash"]);
        expect(ds[0]).toMatchObject({ path: "vps.endpoint", file: "site.yaml", line: expect.any(Number) });
        expect(ds[0]!.message).toMatch(/loop/);
        expect(ds[0]!.message).toMatch(/distance 1\).*beats the relay's \(BGP, distance 20\)/);
      }
    });
    it(`${p.id}: IPv4 and DNS-name endpoints pass`, () => {
      for (const endpoint of ["192.0.2.1", "vps.example.net"]) expect(errors(site(p.id, { vps: { endpoint } })), endpoint).toEqual([]);
    });
  }
});

describe("vps.allowedIps outside the site's prefix", () => {
  it("is an error (the VPS would take sources that are not the site's)", () => {
    const allowedIps = ["2001:db8:40::2/128", "2001:db8:40:1::/64", "2001:db9::/64"];
    const ds = errors(site("linux", { vps: { allowedIps } }));
    expect(ds.map((d) => `${d.code} ${d.path}`)).toEqual(["allowed-ips-outside-prefix vps.allowedIps[2]"]);
    expect(errors(site("linux", { vps: { allowedIps: allowedIps.slice(0, 2) } }))).toEqual([]);
  });
});

describe("RouterOS interface names", () => {
  it("a segment or tunnel interface with @ is a lint error at its path, not a crash", () => {
    const text = site("routeros", { router: { tunnelInterface: "wg@vps" }, segments: [{ name: "lan", index: 1, interface: "br0" }, { name: "guest", index: 16, interface: "vlan@10" }] });
    const ds = errors(text);
    expect(ds.map((d) => `${d.code} ${d.path}`)).toEqual(["routeros-interface-name router.tunnelInterface", "routeros-interface-name segments[1].interface"]);
    expect(ds[1]!.message).toContain('"@"');
    // the Linux router takes the same names (the schema's Linux limit allows @)
    expect(errors(site("linux", { router: { tunnelInterface: "wg@vps" }, segments: [{ name: "lan", index: 1, interface: "vlan@10" }] }))).toEqual([]);
  });

  it("render stops with exit 1 and the finding, nothing written, no stack trace", async () => {
    const dir = tmp();
    const file = join(dir, "site.yaml");
    writeFileSync(file, site("routeros", { segments: [{ name: "lan", index: 1, interface: "vlan@10" }] }));
    const r = await runCli("render", file, "-o", join(dir, "out"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("routeros-interface-name");
    expect(r.stderr).not.toMatch(/internal error|This is a bug/);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
