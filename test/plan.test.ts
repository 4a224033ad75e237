// The address plan is arithmetic: examples from the issue, and properties over random sites.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contains, formatPrefix6, overlaps, parsePrefix6 } from "../src/net/ipv6.js";
import { buildPlan, checkSite, parseSite } from "../src/pipeline.js";
import { stringify } from "yaml";

function site(prefix: string, segments: { name: string; index: number | string; interface: string }[], extra: object = {}) {
  const text = stringify({
    site: "t",
    prefix,
    vps: { endpoint: "192.0.2.1", nic: "eth0" },
    router: { platform: "linux", bridge: "br0" },
    segments,
    failover: { mode: "bgp-bfd" },
    ...extra,
  });
  return parseSite(text, "t.yaml").site;
}

const p6 = (s: string) => {
  const r = parsePrefix6(s);
  if (!r.ok) throw new Error(s);
  return r.prefix;
};

describe("address plan", () => {
  it("index N is the Nth /64 of a /48, not a string pasted onto it", () => {
    // The recipe's <LAN_PREFIX>:1::/64 with 2001:db8 gives 2001:db8:1::/64, outside the /48.
    const plan = buildPlan(site("2001:db8::/48", [{ name: "lan", index: 1, interface: "br0" }]));
    expect(plan.segments[0]!.prefix).toBe("2001:db8:0:1::/64");
    expect(plan.segments[0]!.router.cidr).toBe("2001:db8:0:1::1/64");
    expect(plan.transit.prefix).toBe("2001:db8::/64");
    expect(plan.transit.vps.cidr).toBe("2001:db8::1/64");
    expect(plan.transit.router.cidr).toBe("2001:db8::2/64");
    expect(plan.transit.vpsLinkLocal?.cidr).toBe("fe80::1/64");
  });

  it("index 0x10 of a /56", () => {
    const plan = buildPlan(site("2001:db8:abcd:1200::/56", [{ name: "lan", index: 0x10, interface: "br0" }]));
    expect(plan.segments[0]!.prefix).toBe("2001:db8:abcd:1210::/64");
  });

  it("accepts hex strings as indexes", () => {
    const plan = buildPlan(site("2001:db8::/48", [{ name: "lan", index: "0x1a", interface: "br0" }]));
    expect(plan.segments[0]!.prefix).toBe("2001:db8:0:1a::/64");
  });

  it("AllowedIPs are the router's transit /128 plus one /64 per segment, never the prefix", () => {
    const plan = buildPlan(
      site("2401:4520:110b::/48", [
        { name: "lan", index: 1, interface: "br0" },
        { name: "guest", index: 0x10, interface: "vlan10" },
      ]),
    );
    expect(plan.vps.allowedIps).toEqual(["2401:4520:110b::2/128", "2401:4520:110b:1::/64", "2401:4520:110b:10::/64"]);
    expect(plan.vps.routes[0]!.dst).toBe("2401:4520:110b::2/128");
  });

  it("an index that does not fit is an error naming the segment", () => {
    const s = site("2001:db8:abcd:1200::/56", [{ name: "far", index: 0x100, interface: "br0" }]);
    const ds = checkSite(s);
    expect(ds.map((d) => d.code)).toEqual(["prefix-documentation", "segment-index-out-of-range"]);
    expect(ds[1]).toMatchObject({ code: "segment-index-out-of-range", path: "segments[0].index", severity: "error" });
    expect(ds[1]!.message).toContain('segment "far"');
  });

  it("properties: every segment inside the prefix, none overlapping, AllowedIPs never wider than /64 + the transit /128", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 40, max: 63 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 24n) - 1n }), { minLength: 1, maxLength: 8 }),
        (len, bits, rawIdx) => {
          // Inside 2001:db8::/32 (documentation space: a warning, never an error).
          const network = ((0x2001_0db8n << 96n) | ((bits & 0xffff_ffffn) << 64n)) & ~((1n << BigInt(128 - len)) - 1n);
          const prefix = formatPrefix6({ network, length: len });
          const room = 1n << BigInt(64 - len);
          const idx = [...new Set(rawIdx.map((i) => (i % (room - 1n)) + 1n))];
          const s = site(prefix, idx.map((i, n) => ({ name: `s${n}`, index: `0x${i.toString(16)}`, interface: `br${n}` })));
          expect(checkSite(s).filter((d) => d.severity === "error")).toEqual([]);
          const plan = buildPlan(s);
          const routed = p6(plan.prefix);
          const segs = plan.segments.map((g) => p6(g.prefix));
          for (const g of segs) expect(contains(routed, g) && g.length === 64).toBe(true);
          for (let i = 0; i < segs.length; i++)
            for (let j = i + 1; j < segs.length; j++) expect(overlaps(segs[i]!, segs[j]!)).toBe(false);
          expect(segs.some((g) => overlaps(g, p6(plan.transit.prefix)))).toBe(false);
          expect(plan.vps.allowedIps).toHaveLength(segs.length + 1);
          expect(plan.vps.allowedIps[0]).toBe(`${plan.transit.router.address}/128`);
          for (const a of plan.vps.allowedIps) expect(Number(a.split("/")[1])).toBeGreaterThanOrEqual(64);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("failover figures in the plan and lint", () => {
  it("static: a probe every second, 3 misses, its monthly traffic like BFD's", async () => {
    const { lintPlan } = await import("../src/lint/lint.js");
    const plan = buildPlan(site("2001:db8::/48", [{ name: "lan", index: 1, interface: "br0" }], { failover: { mode: "static" } }));
    expect(plan.failover).toEqual({ mode: "static", probe: { intervalMs: 1000, misses: 3, detectMs: 3000, bytesPerMonth: 2 * 30 * 24 * 3600 * 172 } });
    const f = lintPlan(plan).find((d) => d.code === "static-failover-slow")!;
    expect(f.message).toMatch(/every 1 s: 3 misses in a row \(3-4 s\).*891\.6 MB a month/);
  });

  it("bgp-bfd: idleTxMs equal to intervalMs is a warning (bird's BFD Up would wait for its next packet)", async () => {
    const { lintPlan } = await import("../src/lint/lint.js");
    const codes = (bfd: object) => lintPlan(buildPlan(site("2001:db8::/48", [{ name: "lan", index: 1, interface: "br0" }], { failover: { mode: "bgp-bfd", bfd } }))).map((d) => d.code);
    expect(codes({ intervalMs: 200, idleTxMs: 200 })).toContain("bfd-idle-tx-equal");
    expect(codes({ intervalMs: 200 })).not.toContain("bfd-idle-tx-equal");
  });
});
