// known_hosts as relay6 reads it, with today's OpenSSH tools and no host at all: known_hosts
// files written here, looked up with the real `ssh-keygen -l -F` under the name
// knownHostsName gives, and parsed by parseKeygenFind. Plain and hashed `[host]:port`
// entries, patterns and negation, several keys, @revoked and @cert-authority. (The recorded
// output in test/fixtures/ssh/ is tested in openssh.test.ts; this keeps the parser honest
// against the installed ssh-keygen.)
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { knownHostsName, parseKeygenFind } from "../src/remote/openssh.js";
import { tmp } from "./helpers.js";

const dir = tmp("relay6-kh-");
const key = (name: string, type = "ed25519") => {
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-f", join(dir, name)]);
  const pub = readFileSync(join(dir, `${name}.pub`), "utf8").trim().split(" ");
  const fp = execFileSync("ssh-keygen", ["-l", "-f", join(dir, `${name}.pub`)], { encoding: "utf8" }).split(" ")[1]!;
  return { text: `${pub[0]} ${pub[1]}`, fp };
};
const A = key("a");
const B = key("b");
const R = key("r", "rsa");
const CA = key("ca");

/** ssh-keygen -l -F NAME -f FILE on this known_hosts text; its entries as relay6 reads them. */
function find(lines: string[], host: { hostname: string; port: number; hostKeyAlias?: string }) {
  const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, lines.join("\n") + "\n");
  const r = spawnSync("ssh-keygen", ["-l", "-F", knownHostsName(host), "-f", file], { encoding: "utf8" });
  return parseKeygenFind(file, r.stdout).map((e) => ({ line: e.line, marker: e.marker, fingerprint: e.fingerprint }));
}
const on2222 = { hostname: "192.0.2.7", port: 2222 };

describe("known_hosts entries for a host, as ssh-keygen -F finds them", () => {
  it("a plain [host]:port entry matches (brackets are no pattern); the same host on port 22 does not", () => {
    expect(find([`[192.0.2.7]:2222 ${A.text}`], on2222)).toEqual([{ line: 1, marker: "", fingerprint: A.fp }]);
    expect(find([`[192.0.2.7]:2222 ${A.text}`], { hostname: "192.0.2.7", port: 22 })).toEqual([]);
    expect(find([`192.0.2.7 ${A.text}`], { hostname: "192.0.2.7", port: 22 })).toEqual([{ line: 1, marker: "", fingerprint: A.fp }]);
  });

  it("a hashed entry (ssh-keygen -H) matches the same", () => {
    const file = join(dir, "hashed");
    writeFileSync(file, `[192.0.2.7]:2222 ${A.text}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const hashed = readFileSync(file, "utf8").trim();
    expect(hashed).toMatch(/^\|1\|/);
    expect(find([hashed], on2222)).toEqual([{ line: 1, marker: "", fingerprint: A.fp }]);
  });

  it("patterns, negation, several keys, another host", () => {
    const lines = [
      `[192.0.2.*]:2222 ${A.text}`, // 1: a pattern
      `[192.0.2.7]:2222 ${R.text}`, // 2: a second key (rsa)
      `[192.0.2.8]:2222 ${B.text}`, // 3: another host
      `[192.0.2.*]:2222,![192.0.2.7]:2222 ${B.text}`, // 4: negated for this host
    ];
    expect(find(lines, on2222)).toEqual([
      { line: 1, marker: "", fingerprint: A.fp },
      { line: 2, marker: "", fingerprint: R.fp },
    ]);
  });

  it("@revoked and @cert-authority lines are reported with their marker, never as a plain key", () => {
    const lines = [`@revoked * ${B.text}`, `@cert-authority [192.0.2.*]:* ${CA.text}`, `[192.0.2.7]:2222 ${A.text}`];
    expect(find(lines, on2222)).toEqual([
      { line: 1, marker: "revoked", fingerprint: B.fp },
      { line: 2, marker: "cert-authority", fingerprint: CA.fp },
      { line: 3, marker: "", fingerprint: A.fp },
    ]);
  });

  it("HostKeyAlias: the host is known by the alias alone", () => {
    const lines = [`vps-alias ${A.text}`, `[192.0.2.7]:2222 ${B.text}`];
    expect(find(lines, { ...on2222, hostKeyAlias: "vps-alias" })).toEqual([{ line: 1, marker: "", fingerprint: A.fp }]);
  });
});
