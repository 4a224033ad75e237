// The transfer quota (vps.transfer): what it carries once the sites' failover probing is
// paid, in the direction the provider counts; the period a reset day makes; the seam the
// static probe's figures (issue 11) plug into; and the scale claim: 1,000 bgp-bfd sites at
// 200 ms × 3 spend terabytes a month on BFD alone, and plan and lint say so.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { writeRelaySites } from "../bench/relay-sites.js";
import type { UserError } from "../src/errors.js";
import { analyseInput, buildPlan, loadInput, parseSite } from "../src/pipeline.js";
import { failoverBytesPerMonth, periodStart, quotaFigures, tunnelOverheadBytes } from "../src/plan/quota.js";
import { runCli, tmp } from "./helpers.js";

const work = tmp("relay6-quota-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const q = (counts: "out" | "in+out", monthlyGB = 1000) => ({ monthlyGB, resetDay: 1, counts, alertPercent: 90 });

describe("what the quota carries", () => {
  it("in+out: each LAN packet crosses the NIC twice, once with WireGuard's 68 bytes (IPv4 underlay)", () => {
    expect(tunnelOverheadBytes(4)).toBe(68);
    expect(tunnelOverheadBytes(6)).toBe(88);
    const f = quotaFigures(q("in+out"), 0, 4);
    // 10^12 × 1000 / (2 × 1000 + 68)
    expect(f.lanBytes).toEqual({ downstream: 483_558_994_197, upstream: 483_558_994_197 });
    expect(f.formula).toContain("(2S + o)");
  });

  it("out: downstream leaves the VPS inside the tunnel, upstream plain", () => {
    const f = quotaFigures(q("out"), 0, 6);
    // 10^12 × 1000 / (1000 + 88)
    expect(f.lanBytes).toEqual({ downstream: 919_117_647_058, upstream: 1e12 });
  });

  it("failover traffic is paid first, counted as the provider counts: out is the half the VPS sends", () => {
    const both = 100e9;
    const out = quotaFigures(q("out"), both, 4);
    expect(out.failoverBytes).toBe(50e9);
    expect(out.failoverShare).toBe(0.05);
    expect(out.lanBytes.upstream).toBe(950e9);
    const io = quotaFigures(q("in+out"), both, 4);
    expect(io.failoverBytes).toBe(100e9);
    // 9 × 10^11 × 1000 / 2068
    expect(io.lanBytes.downstream).toBe(435_203_094_777);
    expect(quotaFigures(q("in+out", 10), both, 4).lanBytes).toEqual({ downstream: 0, upstream: 0 });
  });

  it("a site's failover bytes: BFD for bgp-bfd, the static mode's probe for static (172 bytes an echo or reply over IPv4, one each a second)", () => {
    const plan = (mode: string) => buildPlan(parseSite(stringify({ site: "home", prefix: "2401:4520:110b::/48", vps: { endpoint: "203.0.113.10", nic: "enp3s0" }, router: { platform: "linux", bridge: "br0" }, segments: [{ name: "lan", index: 1, interface: "br0" }], failover: { mode } }), "s.yaml").site);
    expect(failoverBytesPerMonth(plan("bgp-bfd"))).toBe(3_628_800_000);
    // 2 × 2,592,000 s × (56 + 8 + 40 → 112 padded + 32 + 8 + 20)
    expect(failoverBytesPerMonth(plan("static"))).toBe(891_648_000);
  });

  it("a relay sums every site's, static sites' probes with the bgp-bfd sites' BFD", () => {
    const bfd = analyseInput(loadInput(writeRelaySites(join(work, "mixed-bfd"), 10))).relay!;
    const stat = analyseInput(loadInput(writeRelaySites(join(work, "mixed-static"), 10, { mode: "static" }))).relay!;
    expect(bfd.totals.failoverBytesPerMonth).toBe(10 * 3_628_800_000);
    expect(stat.totals.failoverBytesPerMonth).toBe(10 * 891_648_000);
    expect(stat.totals.bfdBytesPerMonth).toBe(0);
  });
});

describe("the provider's period", () => {
  it.each([
    ["2026-12-01", 1, "2026-12-01"],
    ["2026-12-31", 1, "2026-12-01"],
    ["2026-12-14", 15, "2026-11-15"],
    ["2026-12-15", 15, "2026-12-15"],
    ["2026-01-10", 15, "2025-12-15"],
    ["2026-03-01", 31, "2026-02-28"],
    ["2026-03-30", 31, "2026-02-28"],
    ["2026-03-31", 31, "2026-03-31"],
    ["2026-02-28", 30, "2026-02-28"],
    ["2028-03-05", 30, "2028-02-29"],
  ])("on %s with reset day %i it began on %s", (today, day, start) => {
    expect(periodStart(today, day)).toBe(start);
  });
});

describe("vps.transfer in the site file and the relay file", () => {
  const site = (transfer: unknown) =>
    stringify({ site: "home", prefix: "2401:4520:110b::/48", vps: { endpoint: "203.0.113.10", nic: "enp3s0", transfer }, router: { platform: "linux", bridge: "br0" }, segments: [{ name: "lan", index: 1, interface: "br0" }], failover: { mode: "bgp-bfd" } });

  it("needs monthlyGB and counts; resetDay 1 and alertPercent 90 by default", () => {
    expect(parseSite(site({ monthlyGB: 500, counts: "out" }), "s.yaml").site.vps.transfer).toEqual({ monthlyGB: 500, counts: "out", resetDay: 1, alertPercent: 90 });
    const problem = (transfer: unknown) => {
      try {
        parseSite(site(transfer), "s.yaml");
      } catch (e) {
        return (e as UserError).diagnostics.map((d) => d.path);
      }
      return [];
    };
    expect(problem({ monthlyGB: 500 })).toEqual(["vps.transfer.counts"]);
    expect(problem({ monthlyGB: 500, counts: "out", resetDay: 32 })).toEqual(["vps.transfer.resetDay"]);
    expect(problem({ monthlyGB: 0, counts: "out" })).toEqual(["vps.transfer.monthlyGB"]);
  });

  it("plan prints what the quota carries, with the formula and the assumption", async () => {
    const file = join(work, "home.yaml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, site({ monthlyGB: 1000, resetDay: 15, counts: "in+out" }));
    const r = await runCli("plan", file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("transfer quota: 1000 GB a month from day 15, the provider counts both directions (in+out)");
    // One site's BFD (3.6 GB both ways) comes off first: (10^12 − 3.6288 × 10^9) × 1000 / 2068.
    expect(r.stdout).toContain("LAN traffic carried    481.8 GB/month, either direction");
    expect(r.stdout).toContain("S = 1000 B (average packet), o = 68 B");
    expect(r.stdout).toMatch(/info {4}transfer-quota at vps\.transfer: the site's BFD and probe traffic, 3\.6 GB a month both ways, counts 3\.6 GB/);
    const j = JSON.parse((await runCli("plan", file, "--json")).stdout) as { quota: { lanBytes: { downstream: number } } };
    expect(j.quota.lanBytes.downstream).toBe(Math.floor(((1e12 - 3_628_800_000) * 1000) / 2068));
  });
});

describe("1,000 sites at 200 ms × 3", () => {
  it("spend 3.6 TB a month on BFD (140 bytes a packet over IPv4, 10 packets a second a site): plan and lint say so", async () => {
    const file = writeRelaySites(join(work, "k"), 1000, { transfer: { monthlyGB: 2000, counts: "out" } });
    const { relay, findings } = analyseInput(loadInput(file));
    expect(relay?.sites).toHaveLength(1000);
    // 1000 sites × 2 × 5 packets/s × 2,592,000 s × 140 B
    expect(relay!.totals.bfdBytesPerMonth).toBe(3_628_800_000_000);
    expect(relay!.quota!.failoverBytes).toBe(1_814_400_000_000);
    const warn = findings.find((d) => d.code === "transfer-quota-failover");
    expect(warn?.severity).toBe("warning");
    expect(warn?.message).toContain("failover traffic alone takes 91 % of the transfer quota: the 1000 sites' BFD and probe traffic, 3.6 TB a month both ways");
    const r = await runCli("plan", file);
    expect(r.stdout).toMatch(/BFD traffic +3\.6 TB\/month on the underlay, all sites together/);
    expect(r.stdout).toMatch(/failover traffic +3\.6 TB\/month both ways \(BFD and probes of all 1000 sites\); counted: 1\.8 TB = 90\.7 % of the quota/);
  }, 60_000);
});
