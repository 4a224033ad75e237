// relay6 doctor as a user meets it: the report (golden), exit statuses, --json, secrets
// never printed, and the site file it offers loading and passing the site checks.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyse, checkSite, loadSite } from "../../src/pipeline.js";
import { REPO, runCli, tmp } from "../helpers.js";
import { FIXTURES, flagsOf } from "./fixtures.js";

const VPS_PRIVATE_KEY = "PYMyN3ObYIY44ULcYBVmCKs7kXINjfcQomuko+mmq+M="; // test-only, in the fixtures
const ROUTER_PRIVATE_KEY = "7DCXMYZ6f4oi+Dor8YjP37LsT+aqoO0AyNnm/xFNYC0="; // test-only

function golden(name: string, actual: string): void {
  const file = join(REPO, "test/doctor/golden", name);
  if (process.env.RELAY6_UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("relay6 doctor: the report", () => {
  it("matches the golden report for the recipe as written (7.18.2), and exits 1", async () => {
    const r = await runCli("doctor", ...flagsOf("recipe-as-written", { routeros: "routeros-7.18.2.rsc" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    golden("recipe-as-written.txt", r.stdout);
  });
  it("matches the golden report for the mistakes (skipped checks listed)", async () => {
    const r = await runCli("doctor", ...flagsOf("recipe-mistakes"));
    expect(r.code).toBe(1);
    golden("recipe-mistakes.txt", r.stdout);
  });
  it("exits 0 on the fixed setup", async () => {
    const r = await runCli("doctor", ...flagsOf("fixed"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no findings");
  });
  it("--json carries findings with file:line, skipped checks and the site file", async () => {
    const r = await runCli("doctor", "--json", ...flagsOf("recipe-mistakes"));
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.findings.map((d: { code: string }) => d.code)).toContain("allowed-ips-covers-prefix");
    expect(j.findings[0]).toMatchObject({ file: expect.any(String), line: expect.any(Number), fix: expect.any(String) });
    expect(j.skipped).toEqual([
      { codes: ["ufw-blocks-bgp-bfd"], reason: "needs --ufw-status" },
      { codes: ["ufw-route-allows-inbound"], reason: "needs --ufw-status" },
    ]);
    expect(j.site.yaml).toContain("prefix: 2401:4520:110b::/48");
    expect(j.site.written).toBeNull();
  });
  it("with no inputs, or an unreadable one, is a user error (exit 2) naming the flag", async () => {
    const none = await runCli("doctor");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("at least one input");
    const missing = await runCli("doctor", "--wg-conf", "/nonexistent/wg0.conf");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--wg-conf /nonexistent/wg0.conf: ENOENT");
  });
});

describe("relay6 doctor: secrets", () => {
  const everything = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

  it("never prints wg0.conf's PrivateKey: text, --json, --write-site", async () => {
    const dir = tmp();
    const site = join(dir, "site.yaml");
    for (const args of [[], ["--json"], ["--write-site", site]]) {
      const r = await runCli("doctor", ...args, ...flagsOf("recipe-as-written"));
      expect(everything(r)).not.toContain(VPS_PRIVATE_KEY);
    }
    expect(readFileSync(site, "utf8")).not.toContain(VPS_PRIVATE_KEY);
  });
  it("not even when wg0.conf is given to the wrong flag, or is malformed", async () => {
    const wg = join(FIXTURES, "recipe-as-written/wg0.conf");
    for (const flag of ["--bird-conf", "--routeros-export", "--ufw-status", "--ip-route", "--ip-addr"]) {
      for (const json of [[], ["--json"]]) {
        const r = await runCli("doctor", ...json, flag, wg);
        expect(everything(r)).not.toContain(VPS_PRIVATE_KEY);
      }
    }
    const dir = tmp();
    const broken = join(dir, "wg0.conf");
    writeFileSync(broken, `[Interface]\nPrivateKey: ${VPS_PRIVATE_KEY}\nAddress = 2001:db8::1/64 {\n[Peer\n`);
    for (const json of [[], ["--json"]]) {
      const r = await runCli("doctor", ...json, "--wg-conf", broken, "--bird-conf", broken);
      expect(everything(r)).toContain("input-");
      expect(everything(r)).not.toContain(VPS_PRIVATE_KEY);
    }
  });
  it("never prints a RouterOS private-key (an export made with show-sensitive)", async () => {
    const dir = tmp();
    const rsc = join(dir, "router.rsc");
    const text = readFileSync(join(FIXTURES, "recipe-as-written/routeros-7.22.rsc"), "utf8").replace(
      "add listen-port=51820 mtu=1420 name=wg-host",
      `add listen-port=51820 mtu=1420 name=wg-host private-key=\\\n    "${ROUTER_PRIVATE_KEY}"`,
    );
    writeFileSync(rsc, text);
    for (const json of [[], ["--json"]]) {
      const r = await runCli("doctor", ...json, "--routeros-export", rsc, "--wg-conf", join(FIXTURES, "recipe-as-written/wg0.conf"));
      expect(everything(r)).not.toContain(ROUTER_PRIVATE_KEY);
    }
  });
});

describe("relay6 doctor: the site file", () => {
  it("without --write-site prints the site file and the hint, writes nothing", async () => {
    const r = await runCli("doctor", ...flagsOf("recipe-as-written"));
    expect(r.stdout).toContain("pass --write-site FILE to write it");
    expect(r.stdout).toContain("site: home");
  });
  it("--write-site writes a file that loads, passes checkSite and describes the setup", async () => {
    const dir = tmp();
    const file = join(dir, "home.yaml");
    const r = await runCli("doctor", "--write-site", file, ...flagsOf("recipe-as-written"));
    expect(r.code).toBe(1); // the setup's traps are still errors; the file is written anyway
    expect(r.stdout).toContain(`wrote the site file describing this setup to ${file}`);
    const loaded = loadSite(file);
    expect(checkSite(loaded.site, file, loaded.locate).filter((d) => d.severity === "error")).toEqual([]);
    const s = loaded.site;
    expect(s.prefix).toBe("2401:4520:110b::/48");
    expect(s.ula).toBe("fd00:dead:beef::/48");
    expect(s.vps).toMatchObject({ endpoint: "203.0.113.10", nic: "enp3s0", upstream: { address: "2401:4520:110b::a/48" }, publicKey: "xiNL7zdV3I/c9N6gC9Yt4kDLarW561g7+5rNRXZsu3Y=" });
    expect(s.router).toMatchObject({ platform: "routeros", version: "7.22", bridge: "bridge", tunnelInterface: "wg-host", publicKey: "KsdaAUibD4E7d4q0fLJ3Kn+kPwFYkDmMtoSYUvy43Is=" });
    expect(s.segments).toEqual([expect.objectContaining({ name: "lan", index: "0x1", interface: "bridge", ula: true })]);
    expect(s.wireguard).toMatchObject({ port: 51820, mtu: 1420, keepalive: 25, keys: "device" });
    expect(s.failover).toMatchObject({ mode: "bgp-bfd", vpsAs: 65002, routerAs: 65001, vpsRouterId: "10.0.0.1", routerRouterId: "192.168.88.1", bfd: { intervalMs: 200, multiplier: 3, idleTxMs: 1000 } });
    // AllowedIPs /64s that no router address serves are named, not invented into segments
    expect(readFileSync(file, "utf8")).toContain("# note: AllowedIPs has 2401:4520:110b:10::/64, which no router address serves");
  });
  it("segment indexes come from arithmetic on the prefix; the plan built from the file avoids the traps", async () => {
    const dir = tmp();
    const file = join(dir, "home.yaml");
    await runCli("doctor", "--write-site", file, ...flagsOf("recipe-mistakes"));
    const loaded = loadSite(file);
    expect(loaded.site.segments.map((x) => [x.name, x.index, x.interface])).toEqual([
      ["lan", "0x1", "bridge"],
      ["vlan30", "0x30", "vlan30"],
    ]);
    expect(loaded.site.failover.mode).toBe("bgp-bfd");
    const { plan, findings } = analyse(loaded);
    expect(findings.filter((d) => d.severity === "error")).toEqual([]);
    expect(plan!.vps.allowedIps).toEqual(["2401:4520:110b::2/128", "2401:4520:110b:1::/64", "2401:4520:110b:30::/64"]);
  });
  it("static failover when neither bird nor the router runs BGP", async () => {
    const dir = tmp();
    const rsc = join(dir, "router.rsc");
    const text = readFileSync(join(FIXTURES, "recipe-as-written/routeros-7.18.2.rsc"), "utf8")
      .split("\n")
      .filter((l) => !l.startsWith("/routing"))
      .join("\n");
    writeFileSync(rsc, text);
    const file = join(dir, "home.yaml");
    const wg = join(FIXTURES, "recipe-as-written/wg0.conf");
    const route = join(FIXTURES, "recipe-as-written/ip-route.txt");
    await runCli("doctor", "--write-site", file, "--wg-conf", wg, "--ip-route", route, "--routeros-export", rsc);
    const loaded = loadSite(file);
    expect(loaded.site.failover.mode).toBe("static");
    expect(loaded.site.router.version).toBe("7.18.2");
    expect(checkSite(loaded.site).filter((d) => d.severity === "error")).toEqual([]);
  });
  it("refuses to overwrite without --force, and writes nothing when a required fact is missing", async () => {
    const dir = tmp();
    const file = join(dir, "home.yaml");
    writeFileSync(file, "keep me\n");
    const r = await runCli("doctor", "--write-site", file, ...flagsOf("recipe-as-written"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("exists; pass --force");
    expect(r.stdout).toContain("bird-bgp-bfd-off"); // the report is printed all the same
    expect(readFileSync(file, "utf8")).toBe("keep me\n");
    expect((await runCli("doctor", "--write-site", file, "--force", ...flagsOf("recipe-as-written"))).stdout).toContain("wrote");
    const other = join(dir, "other.yaml");
    const r2 = await runCli("doctor", "--write-site", other, "--bird-conf", join(FIXTURES, "recipe-as-written/bird.conf"));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("no site file written");
    expect(existsSync(other)).toBe(false);
  });
});

describe("the last line of defence", async () => {
  const { redact, secretsIn } = await import("../../src/doctor/index.js");
  it("collects secrets from every input, whatever its flag, and scrubs them", () => {
    const secrets = secretsIn({
      birdConf: { origin: "x", text: `[Interface]\n  privatekey=${VPS_PRIVATE_KEY}\n` },
      routerosExport: { origin: "y", text: `/interface wireguard add name=wg-host private-key="${ROUTER_PRIVATE_KEY}"\n` },
    });
    expect(secrets.sort()).toEqual([ROUTER_PRIVATE_KEY, VPS_PRIVATE_KEY].sort());
    expect(redact(`a ${VPS_PRIVATE_KEY} b ${ROUTER_PRIVATE_KEY}`, secrets)).toBe("a (secret) b (secret)");
  });
});
