// Input limits: the routed prefix is global unicast (documentation space warns), an
// endpoint is an address or a DNS name no resolver reads as an address, and no YAML file
// relay6 reads (site, secrets, credentials) may be huge, endless, or an alias bomb.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { UserError } from "../src/errors.js";
import { checkSite, parseSite } from "../src/pipeline.js";
import { REPO, runCli, tmp } from "./helpers.js";

const RECIPE = join(REPO, "examples/recipe-home.yaml");

function site(over: { prefix?: string; endpoint?: string; sshHost?: string; routerEndpoint?: string }) {
  return stringify({
    site: "t",
    prefix: over.prefix ?? "2401:4520:110b::/48",
    vps: { endpoint: over.endpoint ?? "203.0.113.10", nic: "eth0", ...(over.sshHost ? { ssh: { host: over.sshHost } } : {}) },
    router: { platform: "linux", bridge: "br0", ...(over.routerEndpoint ? { endpoint: over.routerEndpoint } : {}) },
    segments: [{ name: "lan", index: 1, interface: "br0" }],
    failover: { mode: "static" },
  });
}
const prefixFindings = (prefix: string) =>
  checkSite(parseSite(site({ prefix }), "t.yaml").site)
    .filter((d) => d.code.startsWith("prefix-"))
    .map((d) => `${d.severity} ${d.code}: ${d.message}`);

describe("the routed prefix is global unicast", () => {
  it.each([
    ["fe80::/48", "link-local (fe80::/10)"],
    ["ff0e::/48", "multicast (ff00::/8)"],
    ["fd12:3456:789a::/48", "unique local, a ULA (fc00::/7)"],
    ["fc00:1::/48", "unique local, a ULA (fc00::/7)"],
    ["::ffff:203.0.113.0/56", "IPv4-mapped (::ffff:0:0/96)"],
    ["64:ff9b::/56", "NAT64 (64:ff9b::/96, RFC 6052)"],
    ["fec0::/48", "site-local, deprecated (fec0::/10)"],
    ["100::/48", "discard-only (100::/64)"],
    ["2002:cb00:7100::/48", "6to4 (2002::/16)"],
    ["2001:0:1234::/48", "Teredo (2001::/32)"],
    ["2001:2::/48", "benchmarking (2001:2::/48)"],
    ["2001:20::/48", "ORCHIDv2 (2001:20::/28)"],
    ["2001:100::/48", "IETF protocol assignments (2001::/23)"],
    ["2620:4f:8000::/48", "AS112 (RFC 7534, RFC 7535)"],
    ["5f00::/48", "segment routing SIDs (5f00::/16)"],
    ["4000::/48", "outside 2000::/3, the global unicast space"],
    ["::/48", "outside 2000::/3, the global unicast space"],
  ])("%s is refused: %s", (prefix, what) => {
    const [f, ...rest] = prefixFindings(prefix);
    expect(rest).toEqual([]);
    expect(f).toMatch(/^error prefix-not-global: /);
    expect(f).toContain(`is ${what}, not a global unicast prefix (2000::/3)`);
  });

  it.each(["2001:db8:7::/48", "2001:db8:abcd:1200::/56", "3fff::/48", "3fff:fff:ff00::/40"])("documentation space %s warns, never an error", (prefix) => {
    expect(prefixFindings(prefix)).toEqual([expect.stringMatching(/^warning prefix-documentation: .* is documentation space \((2001:db8::\/32|3fff::\/20)\)/)]);
  });

  it.each(["2401:4520:110b::/48", "2a01:4f8:c17:1a00::/56", "2600::/40", "3ffe:1::/48", "3fff:1000::/48"])("%s is global: no finding", (prefix) => {
    expect(prefixFindings(prefix)).toEqual([]);
  });

  it("the bundled lab site and the goldens in documentation space still render (a warning only)", async () => {
    for (const f of ["lab/sites/lab.yaml", "test/golden/sites/slash56.yaml", "test/golden/sites/minimal.yaml"]) {
      const r = await runCli("lint", join(REPO, f), "--json");
      expect(r.code, f).toBe(0);
      expect(JSON.parse(r.stdout).findings).toContainEqual(expect.objectContaining({ code: "prefix-documentation", severity: "warning" }));
    }
  });
});

describe("an endpoint is an IPv4 address, an IPv6 address or a DNS name", () => {
  const refused = (over: Parameters<typeof site>[0]) => {
    try {
      parseSite(site(over), "t.yaml");
      return [];
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return e.diagnostics.map((d) => `${d.code} ${d.path}`);
    }
  };
  it.each(["203.0.113.10", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::ffff:203.0.113.10", "vps.example.com", "vps", "a-b.example", "xn--bcher-kva.example", "0x7f.example", "1.2.3.example"])("accepts %s", (endpoint) => {
    expect(refused({ endpoint })).toEqual([]);
  });
  it.each([
    "010.0.0.1", // inet_aton: octal, 8.0.0.1
    "1.2.3.04",
    "00.0.0.0",
    "256.1.1.1",
    "1.2.3", // inet_aton: 1.2.0.3
    "127.1",
    "1.2.3.4.5",
    "0x7f000001", // inet_aton: 127.0.0.1
    "0x7f.0.0.1",
    "example.123",
    "1.2.3.4 ",
    "[2001:db8::1]",
    "2001:db8::1%eth0",
    "vps..example",
    "-vps.example",
    "host_name.example",
    "",
  ])("refuses %j", (endpoint) => {
    expect(refused({ endpoint })).toEqual(["invalid-value vps.endpoint"]);
  });
  it("the same rule for vps.ssh.host and router.endpoint", () => {
    expect(refused({ sshHost: "010.0.0.1", routerEndpoint: "0x7f000001" })).toEqual(["invalid-value vps.ssh.host", "invalid-value router.endpoint"]);
  });
});

describe("YAML files relay6 reads: at most 1 MiB, no alias bomb, exit 2", () => {
  const BOMB = ["a: &a [x,x,x,x,x,x,x,x,x]", ...["b", "c", "d", "e", "f", "g", "h", "i"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(",")}]`)].join("\n") + "\n";
  const HUGE = (head: string) => head + `# ${"x".repeat(1024 * 1024)}\n`;

  function expectTooLarge(r: { code: number; stdout: string; stderr: string }, file: string, why: RegExp) {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`relay6: ${file}: 1 problem in the `);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: error yaml-too-large: refused: ${why.source}`));
    expect(r.stderr).toMatch(/\n {4}fix: /);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error|bug/);
  }

  it("a site file: over 1 MiB, an alias bomb, nested too deeply, an endless device; with --json a JSON error", async () => {
    const dir = tmp();
    const huge = join(dir, "huge.yaml");
    writeFileSync(huge, HUGE(readFileSync(RECIPE, "utf8")));
    expectTooLarge(await runCli("lint", huge), huge, /it is over 1 MiB \(\d+ bytes\)/);
    const bomb = join(dir, "bomb.yaml");
    writeFileSync(bomb, BOMB);
    for (const cmd of ["lint", "plan"]) expectTooLarge(await runCli(cmd, bomb), bomb, /its aliases \(\*name\) expand it more than 100 times/);
    const deep = join(dir, "deep.yaml");
    writeFileSync(deep, `a: ${"[".repeat(300_000)}${"]".repeat(300_000)}\n`);
    expectTooLarge(await runCli("lint", deep), deep, /it is nested too deeply to read/);
    const t0 = Date.now();
    expectTooLarge(await runCli("lint", "/dev/zero"), "/dev/zero", /it is over 1 MiB/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const json = await runCli("render", bomb, "-o", join(dir, "out"), "--json");
    expect(JSON.parse(json.stdout).error).toMatchObject({ exit: 2, diagnostics: [{ code: "yaml-too-large" }] });
    // a few aliases are YAML, not an attack
    const fine = join(dir, "aliases.yaml");
    writeFileSync(fine, readFileSync(RECIPE, "utf8").replace("nic: enp3s0", "nic: &nic enp3s0").replace("bridge: bridge", "bridge: *nic"));
    expect((await runCli("lint", fine)).code).toBe(0);
  });

  it("a secrets file and a router credentials file: the same limits, their text never shown", async () => {
    const dir = tmp();
    const s = join(dir, "home.yaml");
    copyFileSync(RECIPE, s);
    const secrets = join(dir, "home.secrets.yaml");
    for (const [text, why] of [[BOMB.replace(/x/g, "S3CRET"), /its aliases/], [HUGE("vps: {}\n").replace(/x/g, "S"), /it is over 1 MiB/]] as const) {
      writeFileSync(secrets, text, { mode: 0o600 });
      const r = await runCli("keys", s);
      expectTooLarge(r, secrets, why);
      expect(r.stderr).not.toContain("S3CRET");
      expect(readFileSync(secrets, "utf8")).toBe(text);
    }
    writeFileSync(secrets, "vps:\n  privateKey: QBtp4TiApKq/R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8=\nrouter:\n  privateKey: 4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=\n", { mode: 0o600 });
    const creds = join(dir, "router.yaml");
    writeFileSync(creds, `user: relay6\npassword: &p "Sup3rSecretPw"\n${BOMB.replace(/x/g, "*p")}`, { mode: 0o600 });
    const r = await runCli("apply", "router", s, "--router-credentials", creds, "--router-url", "http://127.0.0.1:9", "--dry-run");
    expectTooLarge(r, creds, /its aliases/);
    expect(r.stderr).not.toContain("Sup3rSecretPw");
  });
});
