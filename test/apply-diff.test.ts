// apply's diff, pure: the state command relay6 runs over SSH is run here by bash against
// hand-made files in a temp folder (the same output ssh would bring back), then parsed,
// diffed and shown as apply shows it, text and --json. Secret values of files the user made
// by hand never appear; everything else does.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffFiles, formatChanges, parseState, sshReport, stateCommand, type ManagedFile } from "../src/apply/ssh.js";
import { REDACTED, redactSecrets } from "../src/apply/redact.js";
import { generateKeyPair } from "../src/keys/wireguard.js";
import { vpsFiles } from "../src/targets/vps/files.js";
import { linuxTarget } from "../src/targets/linux/index.js";
import { REPO, renderFile, soloCtx, soloRelay, TEST_SECRETS, tmp } from "./helpers.js";

const RECIPE = join(REPO, "examples/recipe-home.yaml");
const LINUX = join(REPO, "test/linux/sites/recipe-linux.yaml");

/** Runs stateCommand for these files with each dst moved under `root`, as a host would. */
function remoteState(files: readonly ManagedFile[], root: string, handMade: Record<string, string>) {
  for (const [dst, text] of Object.entries(handMade)) {
    mkdirSync(dirname(join(root, dst)), { recursive: true });
    writeFileSync(join(root, dst), text, { mode: 0o600 });
  }
  const moved = files.map((f) => ({ ...f, dst: join(root, f.dst) }));
  const output = execFileSync("bash", ["-c", stateCommand(moved)], { encoding: "utf8" });
  const state = parseState(output);
  // Back to the host's paths: what diffFiles gets from a real host.
  return new Map([...state].map(([p, v]) => [p.slice(root.length), v]));
}

/** The secrets of the hand-made files, and every 12-character window of each. */
function windows(secrets: string[]): string[] {
  return secrets.flatMap((s) => Array.from({ length: Math.max(1, s.length - 11) }, (_, i) => s.slice(i, i + 12)));
}

describe("apply's diff never shows a secret of a file the host holds", () => {
  it("a hand-made wg0.conf (PrivateKey, PresharedKey, a key in a comment), bird.conf (password) and a PEM: redacted in text and --json; the rest shown", () => {
    const { plan } = renderFile(RECIPE);
    const files = vpsFiles(soloRelay(plan), soloCtx(plan, TEST_SECRETS));
    const priv = generateKeyPair();
    const psk = generateKeyPair().privateKey;
    const oldKey = generateKeyPair().privateKey;
    const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const pemBody = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    const birdPw = "Bgp-S3cret-pw with space";
    const handMade = {
      "/etc/wireguard/wg0.conf": `[Interface]\nAddress = 2401:4520:110b::1/64\nPrivateKey = ${priv.privateKey}\nListenPort = 51820\n# the old key was ${oldKey}\n\n[Peer]\nPublicKey = ${priv.publicKey}\nPresharedKey = ${psk}\nAllowedIPs = 2401:4520:110b::/48\n`,
      "/etc/bird/bird.conf": `protocol bgp home {\n  local as 65002;\n  neighbor 2401:4520:110b::2 as 65001;\n  password "${birdPw}";\n}\n`,
      "/etc/wireguard/relay6-hook.sh": `#!/bin/sh\n# a key someone pasted\n${pem}`,
    };
    const state = remoteState(files, tmp(), handMade);
    const changes = diffFiles(files, state);
    const text = formatChanges(changes);
    const report = sshReport({ changes, outcome: "dry-run", host: "vps" }, "VPS", []);
    const json = JSON.stringify(report.json);
    const secrets = [priv.privateKey, psk, oldKey, birdPw, "S3cret", pemBody];
    for (const shown of [text, report.text, json]) {
      const leaked = windows(secrets).find((w) => shown.includes(w));
      expect(leaked, "a piece of a secret was shown").toBeUndefined();
    }
    // What is not secret is shown: the diff is still a diff.
    // (the owner differs when the test runs as another user than root: the mode line says so)
    expect(text).toMatch(/^~ \/etc\/wireguard\/wg0\.conf: changed( \(600 \S+ -> 600 root:root\))? \[secret values shown as <redacted>\]$/m);
    expect(text).toContain(`    -PrivateKey = ${REDACTED}\n`);
    expect(text).toContain(`    -PresharedKey = ${REDACTED}\n`);
    expect(text).toContain(`    -# the old key was ${REDACTED}\n`);
    expect(text).toContain(`    -PublicKey = ${priv.publicKey}\n`); // a public key is no secret
    expect(text).toContain("    -AllowedIPs = 2401:4520:110b::/48\n");
    expect(text).toContain("    +PostUp = wg set %i private-key /etc/wireguard/wg0.key\n"); // a file named, not a key
    expect(text).toContain(`    -  password "${REDACTED}";\n`);
    expect(text).toContain("    ------BEGIN PRIVATE KEY-----\n");
    const wg = changes.find((c) => c.path === "/etc/wireguard/wg0.conf")!;
    expect(wg).toMatchObject({ action: "update", secretsHidden: true });
    // The VPS's own key file: compared by hash, never shown at all.
    expect(changes.find((c) => c.path === "/etc/wireguard/wg0.key")).toMatchObject({ action: "create", secret: true });
    expect(changes.find((c) => c.path === "/etc/wireguard/wg0.key")!.diff).toBeUndefined();
  });

  it("a file whose only change is a secret: reported as changed, the values hidden", () => {
    const { plan } = renderFile(RECIPE);
    const files = vpsFiles(soloRelay(plan), soloCtx(plan, TEST_SECRETS));
    const wg = files.find((f) => f.dst === "/etc/wireguard/wg0.conf")!;
    const key = generateKeyPair().privateKey;
    const handMade = { "/etc/wireguard/wg0.conf": wg.content.replace("[Interface]\n", `[Interface]\nPrivateKey = ${key}\n`) };
    const changes = diffFiles([wg], remoteState([wg], tmp(), handMade));
    expect(changes[0]).toMatchObject({ action: "update", secretsHidden: true });
    expect(formatChanges(changes)).toContain(`-PrivateKey = ${REDACTED}`);
    expect(JSON.stringify(changes)).not.toContain(key.slice(0, 12));
  });

  it("a Linux router: frr.conf's neighbor password, the wg conf's PrivateKey", () => {
    const { plan } = renderFile(LINUX);
    const artifacts = linuxTarget.render(plan, { secrets: TEST_SECRETS, version: "test" });
    const files: ManagedFile[] = artifacts.filter((a) => a.path.startsWith("router/files/")).map((a) => ({ dst: a.path.slice("router/files".length), content: a.content, mode: a.mode.toString(8), secret: false }));
    const frr = files.find((f) => f.dst === "/etc/frr/frr.conf")!;
    const wgConf = files.find((f) => f.dst.startsWith("/etc/wireguard/") && f.dst.endsWith(".conf"))!;
    const key = generateKeyPair().privateKey;
    const handMade = {
      [frr.dst]: frr.content.replace(/^router bgp .*$/m, (l) => `${l}\n neighbor 2401:4520:110b::1 password FrrS3cretPw`),
      [wgConf.dst]: `[Interface]\nPrivateKey=${key}\n`,
    };
    const changes = diffFiles([frr, wgConf], remoteState([frr, wgConf], tmp(), handMade));
    const shown = formatChanges(changes) + JSON.stringify(changes);
    expect(shown).not.toContain("FrrS3cretPw");
    expect(shown).not.toContain(key.slice(0, 12));
    expect(shown).toContain(`-PrivateKey=${REDACTED}`);
    expect(shown).toContain(`password ${REDACTED}`);
  });
});

describe("redactSecrets", () => {
  const key = "QBtp4TiApKq/R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8=";
  it.each([
    [`PrivateKey = ${key}`, `PrivateKey = ${REDACTED}`],
    [`privatekey=${key}`, `privatekey=${REDACTED}`],
    [`PresharedKey = ${key}`, `PresharedKey = ${REDACTED}`],
    [`/interface wireguard set wg-host private-key="${key}"`, `/interface wireguard set wg-host private-key="${REDACTED}"`],
    [`  password "hunter2";`, `  password "${REDACTED}";`],
    [` neighbor fe80::1 password hunter2`, ` neighbor fe80::1 password ${REDACTED}`],
    [`client_secret: abc123`, `client_secret: ${REDACTED}`],
    [`api_token=abc123 other=1`, `api_token=${REDACTED} other=1`],
    [`wg set wg0 private-key /etc/wireguard/wg0.key`, `wg set wg0 private-key /etc/wireguard/wg0.key`],
    [`PrivateKey = /R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8QBtp4TiApKq4=`, `PrivateKey = ${REDACTED}`], // base64 may start with /
    [`# ${key}`, `# ${REDACTED}`],
    [`PublicKey = ${key}`, `PublicKey = ${key}`],
    [`public-key="${key}"`, `public-key="${key}"`],
    [`AllowedIPs = 2401:4520:110b::2/128`, `AllowedIPs = 2401:4520:110b::2/128`],
    // FRR: a key right after the keyword, or after a type word or key number.
    [` ip ospf authentication-key hunter2`, ` ip ospf authentication-key ${REDACTED}`],
    [` ip ospf message-digest-key 1 md5 hunter2`, ` ip ospf message-digest-key ${REDACTED}`],
    [`snmp-server community hunter2 ro`, `snmp-server community ${REDACTED}`],
    [` isis password clear hunter2`, ` isis password ${REDACTED}`],
    [` area-password clear hunter2`, ` area-password ${REDACTED}`],
    [` domain-password md5 hunter2`, ` domain-password ${REDACTED}`],
    [`enable password 7 hunter2`, `enable password ${REDACTED}`],
    // bird without a space; wg0.conf hooks with tokens and process substitutions.
    [`  password"hunter2";`, `  password"${REDACTED}";`],
    [`PostUp = curl -H "Authorization: Bearer hunter2" https://x`, `PostUp = curl -H "Authorization: Bearer ${REDACTED}" https://x`],
    [`PostUp = curl --oauth2-bearer hunter2 https://x`, `PostUp = curl --oauth2-bearer ${REDACTED} https://x`],
    [`PostUp = wg set %i peer X preshared-key <(echo hunter2)`, `PostUp = wg set %i peer X preshared-key ${REDACTED}`],
    [`PostUp = wg set %i private-key <(echo ${key}) # public-key`, `PostUp = wg set %i private-key ${REDACTED} # public-key`],
    [`PostUp = echo ${key} > /tmp/k # PublicKey`, `PostUp = echo ${REDACTED} > /tmp/k # PublicKey`],
  ])("%s", (line, want) => {
    expect(redactSecrets(line).text).toBe(want);
  });

  it("a secret's word that ends a line: the next line's value is redacted", () => {
    expect(redactSecrets(`protocol bgp {\n  password\n    "hunter2";\n}`).text).toBe(`protocol bgp {\n  password\n    "${REDACTED}";\n}`);
    expect(redactSecrets(`  password\n\n  hunter2;`).text).toBe(`  password\n\n  ${REDACTED};`);
  });

  it("leaves every file relay6 renders for a host as it is (their diffs stay whole)", () => {
    let n = 0;
    for (const site of [RECIPE, LINUX, join(REPO, "test/golden/sites/slash56.yaml"), join(REPO, "test/golden/sites/recipe-static.yaml")]) {
      const { artifacts } = renderFile(site);
      for (const a of artifacts.filter((x) => /^(vps|router)\/files\//.test(x.path))) {
        expect(redactSecrets(a.content), a.path).toEqual({ text: a.content, redacted: false });
        n++;
      }
    }
    expect(n).toBeGreaterThan(15);
  });
});
