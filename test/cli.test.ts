// The CLI as a user meets it: exit statuses, nothing written on bad input, secrets kept
// secret, init → plan → render.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, runCli, tmp } from "./helpers.js";
import { parseSite } from "../src/pipeline.js";
import { publicKeyOf } from "../src/keys/wireguard.js";

const RECIPE = join(REPO, "examples/recipe-home.yaml");

function siteCopy(src = RECIPE): { dir: string; site: string } {
  const dir = tmp();
  const site = join(dir, "home.yaml");
  copyFileSync(src, site);
  return { dir, site };
}

describe("relay6 render", () => {
  it("renders the recipe's site as it is, makes a 0600 secrets file, never prints a private key", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    const r = await runCli("render", site, "-o", out);
    expect(r.code).toBe(0);
    const secretsFile = join(dir, "home.secrets.yaml");
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const secrets = parse(readFileSync(secretsFile, "utf8"));
    for (const k of [secrets.vps.privateKey, secrets.router.privateKey]) {
      expect(r.stdout + r.stderr).not.toContain(k);
    }
    expect(statSync(join(out, "vps/secrets/wg0.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, "vps/secrets/wg0.key"), "utf8").trim()).toBe(secrets.vps.privateKey);
    expect(statSync(join(out, "vps/setup.sh")).mode & 0o777).toBe(0o755);
    // Directories are ordinary; the secrets are private by their own mode (io/write.ts).
    for (const d of ["", "vps", "vps/secrets"]) expect(statSync(join(out, d)).mode & 0o777).toBe(0o755);
    // The VPS's peer is the router's public key from the same secrets file.
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toContain(
      `PublicKey = ${publicKeyOf(secrets.router.privateKey)}`,
    );
    // A second render keeps the keys.
    const again = await runCli("render", site, "-o", out);
    expect(again.code).toBe(0);
    expect(parse(readFileSync(secretsFile, "utf8"))).toEqual(secrets);
  });

  it("bad input: exit 2, every problem listed, nothing written", async () => {
    const { dir } = siteCopy();
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, readFileSync(RECIPE, "utf8").replace("platform: routeros", "platform: junos").replace("nic: enp3s0", "nic: 'en p3s0'"));
    const out = join(dir, "out");
    const r = await runCli("render", bad, "-o", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bad.yaml:10:13: error invalid-value at router.platform");
    expect(r.stderr).toContain("at vps.nic");
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, "bad.secrets.yaml"))).toBe(false);
  });

  it("lint errors: exit 1 and the previous output stays as it was", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    const before = readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8");
    writeFileSync(site, readFileSync(site, "utf8").replace("index: 0x11", "index: 0x10"));
    const r = await runCli("render", site, "-o", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("segment-duplicate");
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toBe(before);
  });

  it("refuses to replace a directory relay6 did not write", async () => {
    const { dir, site } = siteCopy();
    writeFileSync(join(dir, "precious.txt"), "x");
    const r = await runCli("render", site, "-o", dir);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toContain("precious.txt");
  });

  it("refuses a secrets file others can read", async () => {
    const { dir, site } = siteCopy();
    writeFileSync(join(dir, "home.secrets.yaml"), "vps: {}\n", { mode: 0o644 });
    const r = await runCli("render", site, "-o", join(dir, "out"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("chmod 600");
  });
});

describe("relay6 plan / lint / keys / schema", () => {
  it("plan --json holds the address plan, the VPS routes, findings and BFD figures", async () => {
    const r = await runCli("plan", RECIPE, "--json");
    expect(r.code).toBe(0);
    const { plan, findings } = JSON.parse(r.stdout);
    expect(plan.segments.map((s: { prefix: string }) => s.prefix)).toEqual(["2401:4520:110b:1::/64", "2401:4520:110b:10::/64", "2401:4520:110b:11::/64"]);
    expect(plan.vps.routes[0]).toMatchObject({ dst: "2401:4520:110b::2/128", dev: "wg0" });
    expect(plan.failover.bfd).toMatchObject({ detectMs: 600 });
    expect(plan.failover.bfd.bytesPerMonth).toBeGreaterThan(3e9);
    expect(findings.map((f: { code: string }) => f.code)).toContain("bfd-timers");
  });

  it("plan prints the table a human reads", async () => {
    const r = await runCli("plan", RECIPE);
    expect(r.stdout).toMatch(/segment guest \(0x10\)\s+2401:4520:110b:10::\/64 on vlan10/);
    expect(r.stdout).toMatch(/detection 600 ms; BFD traffic 3\.\d GB\/month/);
  });

  it("keys prints public keys only", async () => {
    const { dir, site } = siteCopy();
    const r = await runCli("keys", site, "--json");
    const keys = JSON.parse(r.stdout);
    const secrets = parse(readFileSync(join(dir, "home.secrets.yaml"), "utf8"));
    expect(keys.vps).toBe(publicKeyOf(secrets.vps.privateKey));
    expect(r.stdout).not.toContain(secrets.vps.privateKey);
  });

  it("the shipped JSON Schema is the one the zod schema makes", async () => {
    const r = await runCli("schema");
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(REPO, "schema/site.schema.json"), "utf8")));
  });
});

describe("relay6 init", () => {
  it("writes a valid site file with a random ULA and keys in a 0600 file", async () => {
    const dir = tmp();
    const site = join(dir, "site.yaml");
    const r = await runCli("init", "-o", site, "--site", "cabin", "--prefix", "2001:db8:77::/48", "--endpoint", "203.0.113.5", "--nic", "ens3", "--platform", "routeros", "--router-version", "7.19", "--bridge", "bridge", "--segment", "lan:1:bridge", "--segment", "iot:0x11:vlan11", "--failover", "bgp-bfd");
    expect(r.code).toBe(0);
    const loaded = parseSite(readFileSync(site, "utf8"), site).site;
    expect(loaded.segments.map((s) => s.index)).toEqual([1, "0x11"]);
    expect(loaded.ula).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
    expect(statSync(join(dir, "site.secrets.yaml")).mode & 0o777).toBe(0o600);
    const again = await runCli("init", "-o", site, "--site", "x", "--prefix", "2001:db8::/48", "--endpoint", "1.2.3.4", "--nic", "e", "--platform", "linux", "--bridge", "b", "--failover", "static");
    expect(again.code).toBe(2); // refuses to overwrite
    const viaJson = await runCli("init", "-o", join(dir, "c.yaml"), "--site", "c", "--prefix", "2001:db8:78::/48", "--endpoint", "203.0.113.6", "--nic", "ens3", "--platform", "linux", "--bridge", "br0", "--failover", "static", "--json");
    expect(JSON.parse(viaJson.stdout)).toMatchObject({ site: join(dir, "c.yaml"), secrets: join(dir, "c.secrets.yaml"), createdKeys: ["vps", "router"] });
    expect(viaJson.stdout).not.toMatch(/privateKey/);
    const other = await runCli("init", "-o", join(dir, "b.yaml"), "--site", "cabin", "--prefix", "2001:db8:77::/48", "--endpoint", "203.0.113.5", "--nic", "ens3", "--platform", "linux", "--bridge", "br0", "--failover", "static");
    expect(other.code).toBe(0);
    expect(parseSite(readFileSync(join(dir, "b.yaml"), "utf8"), "b").site.ula).not.toBe(loaded.ula);
  });
});
