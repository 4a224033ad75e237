// The CLI as a user meets it: exit statuses, nothing written on bad input, secrets kept
// secret, init → plan → render.
import { generateKeyPairSync } from "node:crypto";
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

// ---------------------------------------------------------------- secrets and credentials files

/** A 0600 file holding a PEM private key, and every 12-character window of its base64. */
function pemFile(dir: string): { file: string; pem: string; windows: string[] } {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const file = join(dir, "id_rsa.pem");
  writeFileSync(file, pem, { mode: 0o600 });
  const b64 = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
  const windows: string[] = [];
  for (let i = 0; i + 12 <= b64.length; i++) windows.push(b64.slice(i, i + 12));
  return { file, pem, windows };
}

function expectNoneOf(text: string, windows: string[]): void {
  const leaked = windows.find((w) => text.includes(w));
  expect(leaked, "a piece of the secret was printed").toBeUndefined();
}

const TEST_KEY_VPS = "QBtp4TiApKq/R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8=";
const TEST_KEY_ROUTER = "4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=";
const closedUrl = "http://127.0.0.1:9"; // discard port: nothing listens, nothing is ever sent

describe("secrets and credentials files: validated like the site file, never echoed", () => {
  it("a 0600 PEM private key as --secrets or --router-credentials: exit 2 naming the file, none of its base64 printed, nothing written", async () => {
    const { dir, site } = siteCopy();
    const { file, pem, windows } = pemFile(dir);
    process.env.RELAY6_ROUTER_PASSWORD = "unused";
    try {
      const runs = [
        ["render", site, "-o", join(dir, "out"), "--secrets", file],
        ["keys", site, "--secrets", file],
        ["apply", "vps", site, "--secrets", file, "--host", "127.0.0.1", "--port", "9", "--dry-run"],
        ["apply", "router", site, "--secrets", file, "--router-url", closedUrl, "--dry-run"],
        ["verify", site, "--secrets", file, "--no-vps", "--no-router"],
      ];
      for (const args of runs)
        for (const json of [[], ["--json"]]) {
          const r = await runCli(...args, ...json);
          expect(r.code, args.join(" ")).toBe(2);
          expect(r.stderr).toContain(`${file}: 1 problem in the secrets file`);
          expect(r.stderr).toContain(`${file}:1:1: error invalid-value: is not a YAML mapping of keys`);
          expectNoneOf(r.stdout + r.stderr, windows);
          if (json.length) expect(JSON.parse(r.stdout).error.exit).toBe(2);
        }
      writeSecretsFixture(join(dir, "home.secrets.yaml"));
      const creds = await runCli("apply", "router", site, "--router-credentials", file, "--router-url", closedUrl, "--dry-run", "--json");
      expect(creds.code).toBe(2);
      expect(creds.stderr).toContain(`${file}: 1 problem in the router credentials file`);
      expectNoneOf(creds.stdout + creds.stderr, windows);
    } finally {
      delete process.env.RELAY6_ROUTER_PASSWORD;
    }
    expect(readFileSync(file, "utf8")).toBe(pem);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["home.secrets.yaml", "home.yaml", "id_rsa.pem"]);
  });

  it("a malformed secrets file: exit 2 with file:line and YAML path, its text never shown, no keys made", async () => {
    const cases: { text: string; where: RegExp; hidden: string[] }[] = [
      // a line run together: YAML syntax
      { text: `vps:\n  privateKey: ${TEST_KEY_VPS}\nrouter: privateKey: ${TEST_KEY_ROUTER}\n`, where: /^:3:\d+: error yaml-syntax: not valid YAML here/, hidden: [TEST_KEY_VPS, TEST_KEY_ROUTER, "4IBOxUZeXgV2"] },
      // not a WireGuard key
      { text: `vps: { privateKey: "QBtp4TiApKq-not-a-key-S3CRETPART" }\n`, where: /^:1:20: error invalid-value at vps\.privateKey: must be a WireGuard private key/, hidden: ["S3CRETPART", "QBtp4TiApKq"] },
      // a key where a key name goes: an unknown key, not named
      { text: `${TEST_KEY_VPS}: x\n`, where: /^:1:\d+: error unknown-key: unknown key\n/, hidden: [TEST_KEY_VPS, "QBtp4TiApKq"] },
      { text: `router:\n  privateKey: ${TEST_KEY_ROUTER}\n  S3CRETNAME: ${TEST_KEY_VPS}\n`, where: /^:3:\d+: error unknown-key at router: unknown key\n/, hidden: ["S3CRETNAME", TEST_KEY_VPS, TEST_KEY_ROUTER] },
      // not a mapping
      { text: `- ${TEST_KEY_VPS}\n- ${TEST_KEY_ROUTER}\n`, where: /^:1:1: error invalid-value: is not a YAML mapping of keys/, hidden: [TEST_KEY_VPS, TEST_KEY_ROUTER] },
      // an end without its key
      { text: `vps: ${TEST_KEY_VPS}\n`, where: /^:1:6: error invalid-value at vps: expected object/, hidden: [TEST_KEY_VPS] },
      { text: `vps: {}\n`, where: /^:1:\d+: error missing-key at vps\.privateKey/, hidden: [] },
    ];
    for (const c of cases) {
      const { dir, site } = siteCopy();
      const secrets = join(dir, "home.secrets.yaml");
      writeFileSync(secrets, c.text, { mode: 0o600 });
      for (const args of [["render", site, "-o", join(dir, "out")], ["keys", site], ["keys", site, "--json"], ["plan", site]]) {
        const r = await runCli(...args);
        if (args[0] === "plan") {
          expect(r.code).toBe(0); // plan reads no secrets
          continue;
        }
        expect(r.code, `${args.join(" ")} with ${JSON.stringify(c.text)}`).toBe(2);
        expect(r.stderr).toContain(`${secrets}: `);
        expect(r.stderr.split(secrets).slice(1).some((after) => c.where.test(after)), r.stderr).toBe(true);
        for (const h of c.hidden) expect(r.stdout + r.stderr, `${JSON.stringify(c.text)} printed ${h}`).not.toContain(h);
      }
      expect(readFileSync(secrets, "utf8")).toBe(c.text); // no keys made, nothing saved
      expect(readdirSync(dir).sort()).toEqual(["home.secrets.yaml", "home.yaml"]);
    }
  });

  it("a malformed router credentials file: exit 2 naming file, line and key; the password never shown", async () => {
    const { dir, site } = siteCopy();
    writeSecretsFixture(join(dir, "home.secrets.yaml"));
    const creds = join(dir, "router.yaml");
    const cases: { text: string; where: RegExp }[] = [
      { text: "user: relay6\npasword: Sup3rSecretPw\n", where: /^:2:\d+: error unknown-key: unknown key\n/ },
      { text: "user: relay6\npassword: Sup3rSecretPw\nSup3rSecretPw: 1\n", where: /^:3:\d+: error unknown-key: unknown key\n/ },
      { text: "user: relay6\n", where: /^:1:1: error missing-key at password/ },
      { text: "user: relay6\npassword: 31415926535\n", where: /^:2:11: error invalid-value at password: expected string/ },
      { text: "user: relay6\npassword:Sup3rSecretPw\n", where: /^:2:1: error yaml-syntax: not valid YAML here/ },
      { text: "Sup3rSecretPw\n", where: /^:1:1: error invalid-value: is not a YAML mapping of keys/ },
    ];
    for (const c of cases) {
      writeFileSync(creds, c.text, { mode: 0o600 });
      const r = await runCli("apply", "router", site, "--router-credentials", creds, "--router-url", closedUrl, "--dry-run");
      expect(r.code, c.text).toBe(2);
      expect(r.stderr.split(creds).slice(1).some((after) => c.where.test(after)), r.stderr).toBe(true);
      for (const secret of ["Sup3rSecretPw", "31415926535"]) expect(r.stdout + r.stderr, c.text).not.toContain(secret);
    }
    const none = await runCli("apply", "router", site, "--router-credentials", join(dir, "nope.yaml"), "--router-url", closedUrl, "--dry-run");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no router credentials file ${join(dir, "nope.yaml")}`);
    const notFile = await runCli("apply", "router", site, "--router-credentials", dir, "--router-url", closedUrl, "--dry-run");
    expect(notFile.code).toBe(2);
    expect(notFile.stderr).toContain("is not a file");
  });
});

function writeSecretsFixture(path: string): void {
  writeFileSync(path, `vps:\n  privateKey: ${TEST_KEY_VPS}\nrouter:\n  privateKey: ${TEST_KEY_ROUTER}\n`, { mode: 0o600 });
}

describe("only keys, render and init make keys", () => {
  it("plan, lint, verify, doctor, apply --dry-run and apply make no secrets file; those that need keys say which file and `relay6 keys`", async () => {
    const { dir, site } = siteCopy();
    const secrets = join(dir, "home.secrets.yaml");
    process.env.RELAY6_ROUTER_PASSWORD = "unused";
    try {
      for (const args of [["plan", site], ["plan", site, "--json"], ["lint", site], ["doctor", "--wg-conf", join(REPO, "test/doctor/fixtures/recipe-as-written/wg0.conf")]]) {
        await runCli(...args);
        expect(existsSync(secrets), args.join(" ")).toBe(false);
      }
      const needKeys = [
        ["verify", site, "--no-vps", "--no-router"],
        ["apply", "vps", site, "--host", "127.0.0.1", "--port", "9", "--dry-run"],
        ["apply", "vps", site, "--host", "127.0.0.1", "--port", "9"],
        ["apply", "router", site, "--router-url", closedUrl, "--dry-run"],
        ["apply", "router", site, "--router-url", closedUrl],
      ];
      for (const args of needKeys) {
        const r = await runCli(...args);
        expect(r.code, args.join(" ")).toBe(2);
        expect(r.stderr).toContain(`relay6: no secrets file ${secrets}\n`);
        expect(r.stderr).toContain(`run \`relay6 keys ${site}\``);
        expect(existsSync(secrets), args.join(" ")).toBe(false);
        const json = await runCli(...args, "--json");
        expect(JSON.parse(json.stdout).error).toMatchObject({ exit: 2, diagnostics: [{ code: "secrets-missing", file: secrets }] });
      }
      // --secrets elsewhere: the fix names it.
      const other = join(dir, "keys", "other.yaml");
      const r = await runCli("verify", site, "--secrets", other, "--no-vps", "--no-router");
      expect(r.stderr).toContain(`run \`relay6 keys ${site} --secrets ${other}\``);
      // Half a secrets file: the missing key is named, none is made.
      writeFileSync(secrets, `vps:\n  privateKey: ${TEST_KEY_VPS}\n`, { mode: 0o600 });
      const half = await runCli("apply", "vps", site, "--host", "127.0.0.1", "--port", "9", "--dry-run");
      expect(half.code).toBe(2);
      expect(half.stderr).toContain(`secrets file ${secrets} has no router.privateKey`);
      expect(readFileSync(secrets, "utf8")).toBe(`vps:\n  privateKey: ${TEST_KEY_VPS}\n`);
    } finally {
      delete process.env.RELAY6_ROUTER_PASSWORD;
    }
    expect(readdirSync(dir).sort()).toEqual(["home.secrets.yaml", "home.yaml"]);
    // keys makes the one that is missing and keeps the other.
    const k = await runCli("keys", site, "--json");
    expect(JSON.parse(k.stdout)).toMatchObject({ created: ["router"], vps: publicKeyOf(TEST_KEY_VPS) });
  });

  it("render refuses before it writes: no secrets file when the output folder is refused", async () => {
    const { dir, site } = siteCopy();
    writeFileSync(join(dir, "precious.txt"), "x");
    const r = await runCli("render", site, "-o", dir);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("made new WireGuard keys");
    expect(readdirSync(dir).sort()).toEqual(["home.yaml", "precious.txt"]); // no secrets file, no temp file
    const under = await runCli("render", site, "-o", join(dir, "precious.txt", "out"));
    expect(under.code).not.toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["home.yaml", "precious.txt"]);
    // A render that succeeds keeps the keys it made.
    const ok = await runCli("render", site, "-o", join(dir, "out"));
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`made new WireGuard keys for vps and router in ${join(dir, "home.secrets.yaml")}`);
    expect(statSync(join(dir, "home.secrets.yaml")).mode & 0o777).toBe(0o600);
  });
});

describe("control characters never reach the terminal raw", () => {
  it("an unknown site-file key holding an escape sequence is printed escaped (text and --json)", async () => {
    const { dir } = siteCopy();
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, readFileSync(RECIPE, "utf8") + '"\\e]0;pwned\\a\\e[2Jx": 1\n');
    for (const json of [[], ["--json"]]) {
      const r = await runCli("lint", bad, ...json);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown key "\\u001b]0;pwned\\u0007\\u001b[2Jx"');
      expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      if (json.length) expect(JSON.parse(r.stdout).error.diagnostics[0].message).toBe('unknown key "\u001b]0;pwned\u0007\u001b[2Jx"');
    }
  });
});
