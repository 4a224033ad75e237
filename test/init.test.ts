// relay6 init as a user meets it: on a terminal (a real pseudo-terminal: `script`), each
// answer checked as it is typed and a wrong one asked again with the reason, the segments
// asked one by one; from flags, a wrong value is exit 2 naming the flag, nothing written.
// The site file names, by absolute path, a JSON Schema that exists, and validates against
// it (ajv, a JSON Schema validator that is not relay6's own zod schema).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { shQuote } from "../src/render/quote.js";
import { REPO, runCli, tmp } from "./helpers.js";

/** The schema the site file's `# yaml-language-server: $schema=` line names, and whether
 *  the file's YAML validates against it. */
function validateByItsSchemaLine(file: string): { schemaFile: string; valid: boolean; errors: unknown } {
  const text = readFileSync(file, "utf8");
  const m = /^# yaml-language-server: \$schema=(.+)$/m.exec(text);
  if (!m) throw new Error(`${file} has no $schema line`);
  const schemaFile = m[1]!.startsWith("/") ? m[1]! : join(file, "..", m[1]!);
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
  const valid = validate(parse(text)) as boolean;
  return { schemaFile, valid, errors: validate.errors };
}

const FLAGS = ["--site", "cabin", "--prefix", "2401:4520:110b::/48", "--endpoint", "203.0.113.5", "--nic", "ens3", "--platform", "routeros", "--router-version", "7.19", "--bridge", "bridge", "--segment", "lan:1:bridge", "--failover", "bgp-bfd"];
const withFlag = (flag: string, value: string) => {
  const f = [...FLAGS];
  f[f.indexOf(flag) + 1] = value;
  return f;
};

describe("relay6 init from flags", () => {
  it("names the running relay6's schema by absolute path; the file validates against it (and a broken copy does not)", async () => {
    const dir = tmp();
    const site = join(dir, "site.yaml");
    const r = await runCli("init", "-o", site, ...FLAGS);
    expect(r.code, r.stderr).toBe(0);
    const v = validateByItsSchemaLine(site);
    expect(v.schemaFile).toBe(join(REPO, "schema/site.schema.json"));
    expect(existsSync(v.schemaFile)).toBe(true);
    expect(v.errors).toBeNull();
    expect(v.valid).toBe(true);
    // the validator is no formality: a file with an unknown key or a bad value fails it
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, readFileSync(site, "utf8").replace("failover:", "colour: blue\nfailover:"));
    expect(validateByItsSchemaLine(broken).valid).toBe(false);
    writeFileSync(broken, readFileSync(site, "utf8").replace("mode: bgp-bfd", "mode: fast"));
    expect(validateByItsSchemaLine(broken).valid).toBe(false);
  });

  it("`relay6 schema -o FILE` writes the shipped schema; a site file naming the copy beside it validates", async () => {
    const dir = tmp();
    const copy = join(dir, "site.schema.json");
    expect((await runCli("schema", "-o", copy)).code).toBe(0);
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(join(REPO, "schema/site.schema.json"), "utf8"));
    const site = join(dir, "site.yaml");
    expect((await runCli("init", "-o", site, ...FLAGS)).code).toBe(0);
    writeFileSync(site, readFileSync(site, "utf8").replace(/^# yaml-language-server: \$schema=.*$/m, "# yaml-language-server: $schema=./site.schema.json"));
    expect(validateByItsSchemaLine(site)).toMatchObject({ schemaFile: join(dir, "site.schema.json"), valid: true });
    const under = await runCli("schema", "-o", join(site, "x.json"));
    expect(under.code).toBe(2);
    expect(under.stderr).toContain(`relay6: cannot write schema file ${join(site, "x.json")}: a part of the path is a file, not a folder`);
  });

  it.each([
    ["--prefix", "fd12:3456:789a::/48", "prefix-not-global"],
    ["--prefix", "2001:db8::/33", "prefix-length-unsupported"],
    ["--prefix", "2001:db8::", "invalid-value"],
    ["--endpoint", "010.0.0.1", "invalid-value"],
    ["--nic", "en p3s0", "invalid-value"],
    ["--platform", "junos", "invalid-value"],
    ["--router-version", "7.14", "routeros-version-unsupported"],
    ["--segment", "lan:0:bridge", "segment-index-transit"],
    ["--segment", "lan:0x10000:bridge", "segment-index-out-of-range"],
    ["--segment", "lan-bridge", "init-segment"],
    ["--failover", "fast", "invalid-value"],
  ])("%s %s: exit 2 naming the flag (%s), nothing written", async (flag, value, code) => {
    const dir = tmp();
    const r = await runCli("init", "-o", join(dir, "site.yaml"), ...withFlag(flag, value));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")[0]).toMatch(new RegExp(`^relay6: ${flag} ${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
    expect(r.stderr).toMatch(new RegExp(`(^| )error ${code}\\b`, "m"));
    expect(r.stderr).toMatch(/\n {4}fix: \S/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a /64 needs --on-link (no default: lint's vps-onlink-required), checked as given; index 0 is its LAN", async () => {
    const base = ["--site", "vultr", "--prefix", "2401:4520:110b:1::/64", "--endpoint", "203.0.113.5", "--platform", "linux", "--bridge", "br0", "--failover", "bgp-bfd"];
    const dir = tmp();
    const site = join(dir, "site.yaml");
    const missing = await runCli("init", "-o", site, ...base);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("relay6: relay6 init needs --on-link (or a terminal to ask on)");
    expect(missing.stderr).toMatch(/error init-missing at vps\.onLink/);
    expect(missing.stderr).toContain("fix: pass --on-link true|false, or run relay6 init on a terminal");
    const wrong = await runCli("init", "-o", site, ...base, "--on-link", "maybe");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.split("\n")[0]).toMatch(/^relay6: --on-link maybe: /);
    expect(wrong.stderr).toMatch(/error invalid-value at vps\.onLink/);
    expect(readdirSync(dir)).toEqual([]);
    for (const [answer, value] of [["true", true], ["no", false]] as const) {
      const r = await runCli("init", "-o", site, "--force", ...base, "--on-link", answer);
      expect(r.code, r.stderr).toBe(0);
      expect(parse(readFileSync(site, "utf8"))).toMatchObject({ prefix: "2401:4520:110b:1::/64", vps: { onLink: value }, segments: [{ name: "lan", index: 0, interface: "br0" }] });
      expect((await runCli("lint", site)).code).toBe(0);
    }
    // A /48 is not asked; --on-link given is taken (a provider may put a shorter prefix on-link).
    const r48 = await runCli("init", "-o", site, "--force", ...withFlag("--prefix", "2401:4520:110b::/48"));
    expect(r48.code, r48.stderr).toBe(0);
    expect(parse(readFileSync(site, "utf8")).vps.onLink).toBeUndefined();
    const on48 = await runCli("init", "-o", site, "--force", ...FLAGS, "--on-link", "true");
    expect(on48.code, on48.stderr).toBe(0);
    expect(parse(readFileSync(site, "utf8")).vps.onLink).toBe(true);
  });

  it("a documentation prefix is taken, with a note", async () => {
    const dir = tmp();
    const r = await runCli("init", "-o", join(dir, "site.yaml"), ...withFlag("--prefix", "2001:db8:77::/48"));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("relay6: note: --prefix 2001:db8:77::/48: 2001:db8:77::/48 is documentation space");
  });
});

// ------------------------------------------------------------------ on a terminal

/** Runs `relay6 init` on a pseudo-terminal (util-linux `script`) and answers each prompt as
 *  it appears: `steps` are [the prompt that must come next, what to type]. */
async function onTerminal(args: string[], steps: [RegExp, string | null][]): Promise<{ code: number; output: string }> {
  const cmd = [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), "init", ...args].map(shQuote).join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let seen = 0; // output consumed by the prompts answered so far
  let next = 0;
  const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    while (next < steps.length) {
      const [prompt, answer] = steps[next]!;
      const rest = output.slice(seen);
      const m = prompt.exec(rest);
      if (!m) break;
      seen += m.index + m[0].length;
      next++;
      if (answer === null) child.stdin.write("\x04"); // Ctrl-D: the input ends
      else child.stdin.write(answer + "\r");
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const code = await new Promise<number>((res) => child.on("close", (c) => res(c ?? -1)));
  clearTimeout(timer);
  expect(next, `prompts answered before it ended; output:\n${output}`).toBe(steps.length);
  return { code, output: output.replace(/\r/g, "") };
}

describe("relay6 init on a terminal", () => {
  it("checks each answer as it is typed, asks again with the reason, asks for the segments one by one", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    const { code, output } = await onTerminal(["-o", site], [
      [/site name \[home\]: $/, "my site"], // not a name
      [/must be 1-31 characters[^\n]*\n\s*site name \[home\]: $/, ""], // the default
      [/prefix the provider gives the VPS \(e\.g\. 2001:db8:1234::\/48, or a single \/64\): $/, "fd00:1:2::/48"],
      [/unique local, a ULA[^\n]*\n\s*prefix the provider gives the VPS[^\n]*: $/, "2401:4520:110b::/48"],
      [/VPS public address the router dials[^\n]*: $/, "010.0.0.1"],
      [/must be an IPv4 address[^\n]*\n\s*VPS public address the router dials[^\n]*: $/, "203.0.113.10"],
      [/VPS public interface \[eth0\]: $/, "enp3s0"],
      [/router platform \(routeros\|linux\) \[routeros\]: $/, ""],
      [/routeros version \[7\.22\]: $/, "7.14"],
      [/RouterOS 7\.14 is not supported[^\n]*\n\s*routeros version \[7\.22\]: $/, "7.22"],
      [/router LAN bridge \[bridge\]: $/, ""],
      [/failover \(static\|bgp-bfd\) \[bgp-bfd\]: $/, ""],
      [/segment 1 \[lan:1:bridge\]: $/, ""],
      [/segment 2 \(empty: done\): $/, "guest:0x10:vlan10"],
      [/segment 3 \(empty: done\): $/, "iot-vlan11"],
      [/is not name:index:interface[^\n]*\n\s*segment 3 \(empty: done\): $/, "iot:0x10:vlan11"],
      [/the same index[^\n]*\n\s*segment 3 \(empty: done\): $/, "iot:0x11:vlan11"],
      [/segment 4 \(empty: done\): $/, ""],
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain(`wrote ${site}`);
    const written = parse(readFileSync(site, "utf8"));
    expect(written).toMatchObject({
      site: "home",
      prefix: "2401:4520:110b::/48",
      vps: { endpoint: "203.0.113.10", nic: "enp3s0" },
      router: { platform: "routeros", version: "7.22", bridge: "bridge" },
      segments: [
        { name: "lan", index: 1, interface: "bridge" },
        { name: "guest", index: "0x10", interface: "vlan10" },
        { name: "iot", index: "0x11", interface: "vlan11" },
      ],
      failover: { mode: "bgp-bfd" },
    });
    expect(validateByItsSchemaLine(site).valid).toBe(true);
    expect(statSync(join(dir, "home.secrets.yaml")).mode & 0o777).toBe(0o600);
    expect((await runCli("lint", site)).code).toBe(0);
  });

  it("a /64 is taken, then the question for vps.onLink (asked again until true or false); its one segment is index 0", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    const { code, output } = await onTerminal(["-o", site, "--site", "x", "--endpoint", "203.0.113.10", "--nic", "eth0", "--platform", "linux", "--bridge", "br0", "--failover", "bgp-bfd"], [
      [/prefix the provider gives the VPS[^\n]*: $/, "2401:4520:110b:1::/64"],
      [/is the \/64 on the VPS's link\?[^\n]*\(true\|false\): $/, "maybe"],
      [/expected boolean[^\n]*\n\s*is the \/64 on the VPS's link\?[^\n]*: $/, ""],
      [/an answer is needed here[^\n]*\n\s*is the \/64 on the VPS's link\?[^\n]*: $/, "true"],
      [/a \/64 has one: index 0, the \/64 itself[^\n]*\n\s*segment 1 \[lan:0:br0\]: $/, ""],
      [/segment 2 \(empty: done\): $/, "guest:1:vlan10"],
      [/does not fit a \/64[^\n]*\n\s*segment 2 \(empty: done\): $/, ""],
    ]);
    expect(code, output).toBe(0);
    expect(parse(readFileSync(site, "utf8"))).toMatchObject({ prefix: "2401:4520:110b:1::/64", vps: { onLink: true }, segments: [{ name: "lan", index: 0, interface: "br0" }] });
    expect(validateByItsSchemaLine(site).valid).toBe(true);
    expect((await runCli("lint", site)).code).toBe(0);
  });

  it("a linux router is not asked for a version; the input ending early writes nothing", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    const { code, output } = await onTerminal(["-o", site, "--site", "x", "--prefix", "2401:4520:110b::/48", "--endpoint", "vps.example.net"], [
      [/VPS public interface \[eth0\]: $/, ""],
      [/router platform \(routeros\|linux\) \[routeros\]: $/, "linux"],
      [/router LAN bridge \[bridge\]: $/, "br0"],
      [/failover \(static\|bgp-bfd\) \[bgp-bfd\]: $/, "static"],
      [/segment 1 \[lan:1:br0\]: $/, null],
    ]);
    expect(code, output).toBe(2);
    expect(output).not.toMatch(/version/);
    expect(output).toContain("relay6: init stopped: the input ended before every question had an answer; nothing written");
    expect(readdirSync(dir)).toEqual([]);
  });
});
