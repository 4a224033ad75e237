// Issue 10, the site model: single-/64 sites (index 0 is the LAN), vps.onLink, the
// link-local and ULA transits, ULA-only segments, the VPS's own address against the
// prefix, and previousPrefix. Plans read back for their addresses; lint's findings by code
// and YAML path.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { analyseInput, buildPlan, checkSite, loadInput, parseSite } from "../src/pipeline.js";
import { tmp } from "./helpers.js";

type Obj = Record<string, unknown>;

function siteText(extra: Obj = {}, vps: Obj = {}): string {
  return stringify({
    site: "t",
    prefix: "2001:db8:77:1::/64",
    vps: { endpoint: "192.0.2.1", nic: "eth0", onLink: true, upstream: { address: "2001:db8:77::a/64" }, ...vps },
    router: { platform: "linux", bridge: "br0" },
    segments: [{ name: "lan", index: 0, interface: "br0" }],
    failover: { mode: "bgp-bfd" },
    ...extra,
  });
}
const site = (extra: Obj = {}, vps: Obj = {}) => parseSite(siteText(extra, vps), "t.yaml").site;
const codes = (extra: Obj = {}, vps: Obj = {}) => checkSite(site(extra, vps)).map((d) => `${d.severity} ${d.code} ${d.path}`);
const errors = (extra: Obj = {}, vps: Obj = {}) => checkSite(site(extra, vps)).filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}`);

describe("a /64 site", () => {
  it("index 0 is the LAN, the whole /64; the transit is link-local; AllowedIPs hold fe80::2/128 and the /64", () => {
    expect(errors()).toEqual([]);
    const plan = buildPlan(site());
    expect(plan.segments[0]).toMatchObject({ prefix: "2001:db8:77:1::/64", router: { cidr: "2001:db8:77:1::1/64" } });
    expect(plan.transit).toEqual({ kind: "link-local", prefix: "fe80::/64", vps: { address: "fe80::1", cidr: "fe80::1/64" }, router: { address: "fe80::2", cidr: "fe80::2/64" } });
    expect(plan.vps.allowedIps).toEqual(["fe80::2/128", "2001:db8:77:1::/64"]);
    expect(plan.vps.routes.map((r) => `${r.dst} ${r.dev}`)).toEqual(["fe80::2/128 wg0", "2001:db8:77:1::/64 wg0", "fe80::/64 wg0", "2001:db8:77::/64 eth0", "::/0 eth0"]);
  });

  it("another index does not fit a /64", () => {
    expect(errors({ segments: [{ name: "lan", index: 1, interface: "br0" }] })).toEqual(["segment-index-out-of-range segments[0].index"]);
  });

  it("a /40-/63 site keeps index 0 as its transit, as before", () => {
    const s = { prefix: "2001:db8:77::/48", segments: [{ name: "lan", index: 0, interface: "br0" }] };
    expect(errors(s, { onLink: undefined })).toEqual(["segment-index-transit segments[0].index"]);
  });

  it("without vps.onLink a /64 is refused, naming vps.onLink and the way to tell", () => {
    const ds = checkSite(site({}, { onLink: undefined })).filter((d) => d.severity === "error");
    expect(ds.map((d) => `${d.code} ${d.path}`)).toEqual(["vps-onlink-required vps.onLink"]);
    expect(ds[0]!.fix).toMatch(/true.*Vultr's reserved \/64.*false.*Hetzner.*fe80::1/);
    expect(ds[0]!.fix).toMatch(/neighbour solicitations/);
  });

  it("a /40-/63 prefix needs no vps.onLink (default false: routed); /65 and /39 are refused", () => {
    const s = { prefix: "2001:db8:77::/48", segments: [{ name: "lan", index: 1, interface: "br0" }] };
    expect(errors(s, { onLink: undefined, upstream: { address: "2001:db8:77::a/48" } })).toEqual([]);
    expect(buildPlan(site(s, { onLink: undefined, upstream: { address: "2001:db8:77::a/48" } })).vps.onLink).toBeUndefined();
    expect(errors({ prefix: "2001:db8:77:1:8000::/65" })).toEqual(["prefix-length-unsupported prefix"]);
    expect(errors({ prefix: "2001:d00::/39" })).toEqual(["prefix-length-unsupported prefix"]);
  });
});

describe("transit", () => {
  it("transit: ula takes the last /64 of the ULA; BGP keeps link-locals for bird's next hop", () => {
    const plan = buildPlan(site({ ula: "fd42:77:1::/48", transit: "ula" }));
    expect(plan.transit).toMatchObject({ kind: "ula", prefix: "fd42:77:1:ffff::/64", vps: { cidr: "fd42:77:1:ffff::1/64" }, router: { cidr: "fd42:77:1:ffff::2/64" } });
    expect(plan.transit.vpsLinkLocal?.cidr).toBe("fe80::1/64");
    expect(plan.vps.allowedIps).toEqual(["fd42:77:1:ffff::2/128", "2001:db8:77:1::/64"]);
  });

  it("a ULA /64 of one's own (the Vultr recipe's fd99:9999:9999::/64)", () => {
    const plan = buildPlan(site({ transit: "fd99:9999:9999::/64" }));
    expect(plan.transit).toMatchObject({ kind: "ula", vps: { address: "fd99:9999:9999::1" }, router: { address: "fd99:9999:9999::2" } });
  });

  it("what transit cannot be", () => {
    expect(errors({ transit: "ula" })).toEqual(["transit-invalid transit"]); // no ula
    expect(errors({ transit: "ula", ula: "fd42:77:1::/64" })).toEqual(["transit-invalid transit"]);
    expect(errors({ transit: "2001:db8:99::/64" })).toEqual(["transit-invalid transit"]);
    expect(errors({ transit: "fd99:9999:9999::/56" })).toEqual(["transit-invalid transit"]);
    expect(errors({ prefix: "2001:db8:77::/48", transit: "link-local", segments: [{ name: "lan", index: 1, interface: "br0" }] }, { upstream: undefined })).toEqual(["transit-invalid transit"]);
    const busy = { ula: "fd42:77:1::/48", transit: "ula", segments: [{ name: "lan", index: 0, interface: "br0" }, { name: "x", index: "0xffff", interface: "br1", global: false }] };
    expect(errors(busy)).toEqual(["transit-overlaps-segment segments[1].index"]);
  });
});

describe("vps.onLink and the VPS's own address", () => {
  it("on-link: ndppd answers for the /64; the VPS's own address in it is an error", () => {
    expect(buildPlan(site()).vps).toMatchObject({ onLink: true, ndp: { rules: ["2001:db8:77:1::/64"] } });
    expect(errors({}, { upstream: { address: "2001:db8:77:1::a/64" } })).toEqual(["vps-address-proxied vps.upstream.address"]);
  });

  it("a shorter on-link prefix: each segment's /64 and the router's transit /128", () => {
    const s = site({ prefix: "2001:db8:77::/48", segments: [{ name: "lan", index: 1, interface: "br0" }, { name: "guest", index: 0x10, interface: "vlan10" }] }, { upstream: { address: "2001:db8:77::a/48" } });
    expect(checkSite(s).filter((d) => d.severity === "error")).toEqual([]);
    expect(buildPlan(s).vps.ndp).toEqual({ rules: ["2001:db8:77:1::/64", "2001:db8:77:10::/64", "2001:db8:77::2/128"] });
    // The router's transit address as the VPS's: answered by ndppd too.
    expect(errors({ prefix: "2001:db8:77::/48", segments: [{ name: "lan", index: 1, interface: "br0" }] }, { upstream: { address: "2001:db8:77::2/48" } })).toEqual(["vps-address-proxied vps.upstream.address"]);
  });

  it("routed /64 with the VPS's own address in it: planned as moved (connected route dropped), an info", () => {
    const s = site({}, { onLink: false, upstream: { address: "2001:db8:77:1::2/64", gateway: "fe80::1" } });
    expect(codes({}, { onLink: false, upstream: { address: "2001:db8:77:1::2/64", gateway: "fe80::1" } })).toContain("info vps-address-moved vps.upstream.address");
    const plan = buildPlan(s);
    expect(plan.vps.onLink).toBeUndefined();
    expect(plan.vps.ndp).toBeUndefined();
    expect(plan.vps.ownAddress).toEqual({ address: "2001:db8:77:1::2", cidr: "2001:db8:77:1::2/64", segment: "lan", prefix: "2001:db8:77:1::/64", interface: "br0", dropPrefixRoute: true });
    expect(plan.vps.routes.find((r) => r.dev === "eth0" && r.dst !== "::/0")?.dst).toBe("2001:db8:77:1::2/128");
  });

  it("the recipe's routed /48 with P::a/48: the address is in the transit /64, nothing moves", () => {
    const s = site({ prefix: "2001:db8:77::/48", segments: [{ name: "lan", index: 1, interface: "br0" }] }, { onLink: undefined, upstream: { address: "2001:db8:77::a/48" } });
    expect(buildPlan(s).vps.ownAddress).toBeUndefined();
  });

  it("a /64 without vps.upstream.address: a warning", () => {
    expect(codes({}, { upstream: undefined })).toContain("warning vps-address-unknown vps.upstream");
  });
});

describe("ULA-only segments (global: false)", () => {
  const withTrusted = { ula: "fd42:77:1::/48", segments: [{ name: "lan", index: 0, interface: "br0" }, { name: "trusted", index: "0x30", interface: "vlan30", global: false }] };

  it("its index counts in the ULA only, it is not in AllowedIPs nor ndppd's rules", () => {
    expect(errors(withTrusted)).toEqual([]);
    const plan = buildPlan(site(withTrusted));
    expect(plan.segments[1]).toMatchObject({ name: "trusted", global: false, prefix: "fd42:77:1:30::/64", router: { cidr: "fd42:77:1:30::1/64" } });
    expect(plan.segments[1]!.ula).toBeUndefined();
    expect(plan.vps.allowedIps).toEqual(["fe80::2/128", "2001:db8:77:1::/64"]);
    expect(plan.vps.ndp?.rules).toEqual(["2001:db8:77:1::/64"]);
  });

  it("needs a ULA; takes no inbound", () => {
    expect(errors({ segments: withTrusted.segments })).toEqual(["segment-ula-only-needs-ula segments[1].global"]);
    const inbound = { ...withTrusted, segments: [withTrusted.segments[0], { ...withTrusted.segments[1], inbound: [{ name: "web", proto: "tcp", port: 443 }] }] };
    expect(errors(inbound)).toEqual(["segment-ula-only-inbound segments[1].inbound"]);
    const big = { ...withTrusted, ula: "fd42:77:1::/60", segments: [withTrusted.segments[0], { ...withTrusted.segments[1], index: "0x30" }] };
    expect(errors(big)).toEqual(["ula-index-out-of-range segments[1].index"]);
  });

  it("works on a /48 site too, index 0 included (the ULA's index 0 is no transit)", () => {
    const s = { prefix: "2001:db8:77::/48", ula: "fd42:77:1::/48", segments: [{ name: "lan", index: 1, interface: "br0" }, { name: "iot", index: 0, interface: "vlan9", global: false }] };
    expect(errors(s, { onLink: undefined, upstream: undefined })).toEqual([]);
    expect(buildPlan(site(s, { onLink: undefined, upstream: undefined })).vps.allowedIps).toEqual(["2001:db8:77::2/128", "2001:db8:77:1::/64"]);
  });
});

describe("previousPrefix", () => {
  const two = [{ name: "lan", index: 1, interface: "br0" }, { name: "guest", index: "0x10", interface: "vlan10" }];
  const on48 = (extra: Obj) => site({ prefix: "2001:db8:77::/48", segments: two, ...extra }, { onLink: undefined, upstream: undefined });
  const errs48 = (extra: Obj) => checkSite(on48(extra)).filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path}`);

  it("same length: each segment's old /64 is the same index of the old prefix", () => {
    expect(errs48({ previousPrefix: "2001:db8:99::/48" })).toEqual([]);
    expect(buildPlan(on48({ previousPrefix: "2001:db8:99::/48" })).segments.map((s) => s.previous)).toEqual(["2001:db8:99:1::/64", "2001:db8:99:10::/64"]);
  });

  it("a /64 previousPrefix belongs to the only global segment (the migration from a Vultr /64)", () => {
    const s = site({ prefix: "2001:db8:77::/48", previousPrefix: "2001:db8:88:1::/64", segments: [two[0]!] }, { onLink: undefined, upstream: undefined });
    expect(checkSite(s).filter((d) => d.severity === "error")).toEqual([]);
    expect(buildPlan(s).segments[0]!.previous).toBe("2001:db8:88:1::/64");
    expect(errs48({ previousPrefix: "2001:db8:88:1::/64" })).toEqual(["previous-prefix-ambiguous previousPrefix"]);
  });

  it("another length: segments[].previous says it, or lint refuses", () => {
    expect(errs48({ previousPrefix: "2001:db8:99:100::/56" })).toEqual(["previous-prefix-length previousPrefix"]);
    const explicit = [{ ...two[0]!, previous: "2001:db8:99:101::/64" }, { ...two[1]!, previous: "2001:db8:99:110::/64" }];
    expect(errs48({ previousPrefix: "2001:db8:99:100::/56", segments: explicit })).toEqual([]);
    expect(buildPlan(on48({ segments: explicit })).segments.map((s) => s.previous)).toEqual(["2001:db8:99:101::/64", "2001:db8:99:110::/64"]);
  });

  it("what previous cannot be", () => {
    expect(errs48({ previousPrefix: "2001:db8:77:100::/56" })).toEqual(["previous-prefix-overlap previousPrefix"]);
    expect(errs48({ segments: [{ ...two[0]!, previous: "2001:db8:99::/48" }, two[1]] })).toEqual(["previous-invalid segments[0].previous"]);
    expect(errs48({ segments: [{ ...two[0]!, previous: "2001:db8:77:5::/64" }, two[1]] })).toEqual(["previous-prefix-overlap segments[0].previous"]);
    expect(errs48({ segments: [{ ...two[0]!, previous: "2001:db8:99:1::/64" }, { ...two[1]!, previous: "2001:db8:99:1::/64" }] })).toEqual(["previous-invalid segments[1].previous"]);
  });

  it("lint says how long the old /64s are advertised and how long to keep previousPrefix", () => {
    const dir = tmp();
    const f = join(dir, "s.yaml");
    writeFileSync(f, siteText({ previousPrefix: "2001:db8:99:1::/64" }));
    const { findings } = analyseInput(loadInput(f));
    const info = findings.find((d) => d.code === "previous-prefix-deprecating");
    expect(info).toMatchObject({ severity: "info", path: "segments[0]" });
    expect(info!.message).toMatch(/preferred lifetime 0 and valid lifetime 2 h/);
    expect(info!.fix).toMatch(/RouterOS.*1 week.*4 weeks/);
  });
});

describe("a relay on an on-link prefix", () => {
  function relay(vps: Obj, prefix = "2001:db8:77::/48"): string {
    const dir = tmp();
    mkdirSync(join(dir, "s"));
    for (const [name, prefix] of [["a", "2001:db8:77:100::/56"], ["b", "2001:db8:77:200::/64"]] as const)
      writeFileSync(join(dir, "s", `${name}.yaml`), stringify({ site: name, prefix, router: { platform: "linux", bridge: "br0" }, segments: [{ name: "lan", index: 0, interface: "br0" }], failover: { mode: "static" } }));
    const f = join(dir, "r.yaml");
    writeFileSync(f, stringify({ relay: "r", prefix, vps: { endpoint: "192.0.2.1", nic: "eth0", ...vps }, sites: ["s/a.yaml", "s/b.yaml"] }));
    return f;
  }

  it("ndppd answers for every site's /64 and every router's transit /128", () => {
    const { relay: r, findings } = analyseInput(loadInput(relay({ onLink: true, upstream: { address: "2001:db8:77::a/48" } })));
    expect(findings.filter((d) => d.severity === "error")).toEqual([]);
    const transits = r!.sites.map((p) => `${p.transit.router.address}/128`);
    expect(r!.vps.ndp?.rules.sort()).toEqual(["2001:db8:77:100::/64", "2001:db8:77:200::/64", ...transits].sort());
  });

  it("the VPS's own address in a site's /64 is an error, located in the relay file", () => {
    const { findings } = analyseInput(loadInput(relay({ onLink: true, upstream: { address: "2001:db8:77:200::a/48" } })));
    expect(findings.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path} ${d.file!.endsWith("r.yaml")}`)).toEqual(["vps-address-proxied vps.upstream.address true"]);
  });

  it("a relay's prefix stays /40-/63: a /64 is a site of its own", () => {
    const { findings } = analyseInput(loadInput(relay({ onLink: true }, "2001:db8:77::/64")));
    expect(findings.filter((d) => d.severity === "error" && d.file!.endsWith("r.yaml")).map((d) => d.code)).toEqual(["prefix-length-unsupported"]);
  });
});
