// Which public key each end's peer names: one helper (src/render/keys.ts) for every target
// and for verify. keys: relay6 derives both from relay6's private keys and ignores a public
// key left in the site file (lint says so); keys: device takes the site file's.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publicKeyOf } from "../src/keys/wireguard.js";
import { runCli, TEST_SECRETS, tmp } from "./helpers.js";

// A valid key that is neither end's: what a site file keeps after switching to keys: relay6.
const LEFTOVER = "g6ZPkh8CtfpdAkOhOYX6hPfbw3um9tgWgIpyXd8MyUc=";

const site = (platform: string, keys: string) => `site: home
prefix: 2001:db8:5::/48
vps: { endpoint: 203.0.113.5, nic: eth0, publicKey: "${LEFTOVER}" }
router: { platform: ${platform}, bridge: br0${platform === "routeros" ? ', version: "7.22"' : ""}, publicKey: "${LEFTOVER}" }
segments:
  - { name: lan, index: 1, interface: br0 }
wireguard: { keys: ${keys} }
failover: { mode: bgp-bfd }
`;

async function rendered(platform: string, keys: string) {
  const dir = tmp();
  const file = join(dir, "home.yaml");
  writeFileSync(file, site(platform, keys));
  writeFileSync(join(dir, "home.secrets.yaml"), `vps: { privateKey: "${TEST_SECRETS.vpsPrivateKey}" }\nrouter: { privateKey: "${TEST_SECRETS.routerPrivateKey}" }\n`, { mode: 0o600 });
  const lint = await runCli("lint", file);
  const r = await runCli("render", file, "-o", join(dir, "out"));
  expect(r.code, r.stderr).toBe(0);
  const read = (p: string) => readFileSync(join(dir, "out", p), "utf8");
  return { lint: lint.stdout, read };
}

const vpsPub = publicKeyOf(TEST_SECRETS.vpsPrivateKey);
const routerPub = publicKeyOf(TEST_SECRETS.routerPrivateKey);

describe("keys: relay6 with public keys left in the site file", () => {
  it("linux: lint says the key is ignored, and the router peers with relay6's VPS key", async () => {
    const { lint, read } = await rendered("linux", "relay6");
    expect(lint).toContain("warning public-key-ignored at vps.publicKey");
    const conf = read("router/files/etc/wireguard/wg0.conf");
    expect(conf).toContain(`PublicKey = ${vpsPub}`);
    expect(conf).not.toContain(LEFTOVER);
    expect(read("vps/files/etc/wireguard/wg0.conf")).toContain(`PublicKey = ${routerPub}`);
  });

  it("routeros: the same", async () => {
    const { lint, read } = await rendered("routeros", "relay6");
    expect(lint).toContain("warning public-key-ignored at vps.publicKey");
    const rsc = read("router/relay6-home.rsc");
    expect(rsc).toContain(`public-key="${vpsPub}"`);
    expect(rsc).not.toContain(LEFTOVER);
  });
});

describe("keys: device", () => {
  it("every end names the site file's keys, never one derived from a secrets file", async () => {
    for (const platform of ["linux", "routeros"]) {
      const { read } = await rendered(platform, "device");
      const router = platform === "linux" ? read("router/files/etc/wireguard/wg0.conf") : read("router/relay6-home.rsc");
      expect(router).toContain(LEFTOVER);
      expect(router).not.toContain(vpsPub);
      expect(read("vps/files/etc/wireguard/wg0.conf")).toContain(`PublicKey = ${LEFTOVER}`);
    }
  });
});

describe("the helper", async () => {
  const { publicKeyFor, privateKeyFor } = await import("../src/render/keys.js");
  const plan = (keys: "relay6" | "device") => ({ wireguard: { keys }, vps: { publicKey: LEFTOVER }, router: {} }) as unknown as Parameters<typeof publicKeyFor>[1];
  it("relay6: derived from the secrets, a site-file key ignored; device: the site file's, no private key", () => {
    expect(publicKeyFor("vps", plan("relay6"), TEST_SECRETS)).toBe(vpsPub);
    expect(publicKeyFor("router", plan("relay6"), TEST_SECRETS)).toBe(routerPub);
    expect(publicKeyFor("vps", plan("relay6"), {})).toBeUndefined();
    expect(privateKeyFor("router", plan("relay6"), TEST_SECRETS)).toBe(TEST_SECRETS.routerPrivateKey);
    expect(publicKeyFor("vps", plan("device"), TEST_SECRETS)).toBe(LEFTOVER);
    expect(publicKeyFor("router", plan("device"), TEST_SECRETS)).toBeUndefined();
    expect(privateKeyFor("vps", plan("device"), TEST_SECRETS)).toBeUndefined();
  });
});
