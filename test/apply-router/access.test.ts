// Reaching the router: its version must be the site file's, its certificate is checked (CA or
// pinned fingerprint), credentials come from the environment or a 0600 file; and the CLI, in
// text and --json, never prints a secret.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { ctx, ctxNoSecrets } from "../routeros/fixtures.js";
import { RouterOsRest, routerCredentials } from "../../src/remote/routeros-rest.js";
import { applyRouter } from "../../src/targets/routeros/apply/index.js";
import { releaseMatches } from "../../src/targets/routeros/capabilities.js";
import { UserError } from "../../src/errors.js";
import { runCli } from "../helpers.js";
import { PASSWORD, apply, changing, planOf, siteVariant, startRouter } from "./helpers.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
  delete process.env.RELAY6_ROUTER_PASSWORD;
  delete process.env.RELAY6_ROUTER_USER;
});

const VPS_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

describe("version", () => {
  it("a site for another release is refused, naming both, before any change", async () => {
    m = await startRouter("7.24", "defconf");
    const err = await apply(m, planOf("7.22"), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe("the router runs RouterOS 7.24, the site file says 7.22 (router.version)");
    expect((err as UserError).diagnostics[0]!.fix).toContain('router.version: "7.24"');
    expect(changing(m)).toEqual([]);
  });

  it("7.22 matches any 7.22.x; 7.22.3 only itself", () => {
    expect(releaseMatches("7.22", "7.22.3")).toBe(true);
    expect(releaseMatches("7.22.3", "7.22.3")).toBe(true);
    expect(releaseMatches("7.22.1", "7.22.3")).toBe(false);
    expect(releaseMatches("7.2", "7.22")).toBe(false);
    expect(releaseMatches("7.21", "7.22")).toBe(false);
  });
});

describe("TLS", () => {
  it("a pinned fingerprint works; a wrong one is refused before any request gets through", async () => {
    m = await startRouter("7.22.3", "defconf", { tls: true });
    const good = new RouterOsRest({ url: m.url, user: "admin", password: PASSWORD, fingerprint: m.cert!.fingerprint256 });
    expect((await applyRouter(good, planOf("7.22.3"), ctx, { dryRun: true, log: () => {} })).outcome).toBe("dry-run");
    good.close();
    const seen = m.requests.length;
    const wrongPin = "sha256:" + "ab".repeat(32);
    const bad = new RouterOsRest({ url: m.url, user: "admin", password: PASSWORD, fingerprint: wrongPin });
    await expect(applyRouter(bad, planOf("7.22.3"), ctx, { dryRun: false, log: () => {} })).rejects.toThrow(/fingerprint .* is not the pinned/);
    bad.close();
    expect(m.requests.length).toBe(seen); // not even a GET: the password never went out
  });

  it("a CA file that signed the certificate works; https with neither CA nor pin is refused", async () => {
    m = await startRouter("7.22.3", "defconf", { tls: true });
    const dir = mkdtempSync(path.join(tmpdir(), "relay6-ca-"));
    writeFileSync(path.join(dir, "ca.pem"), m.cert!.pem);
    const viaCa = new RouterOsRest({ url: m.url, user: "admin", password: PASSWORD, caFile: path.join(dir, "ca.pem") });
    expect(await viaCa.version()).toBe("7.22.3");
    viaCa.close();
    expect(() => new RouterOsRest({ url: m!.url, user: "admin", password: PASSWORD })).toThrow(/certificate must be checked/);
  });

  it("wrong credentials: the router's 401 is an error, nothing changes", async () => {
    m = await startRouter("7.22.3", "defconf");
    const rest = new RouterOsRest({ url: m.url, user: "admin", password: "wrong" });
    await expect(applyRouter(rest, planOf("7.22.3"), ctx, { dryRun: false, log: () => {} })).rejects.toThrow(/401/);
    rest.close();
  });
});

describe("credentials", () => {
  it("a credentials file readable by others is refused; 0600 is read; the environment works", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relay6-creds-"));
    const file = path.join(dir, "router.yaml");
    writeFileSync(file, `user: relay6\npassword: ${PASSWORD}\n`);
    chmodSync(file, 0o644);
    expect(() => routerCredentials(file)).toThrow(/readable by others/);
    chmodSync(file, 0o600);
    expect(routerCredentials(file)).toEqual({ user: "relay6", password: PASSWORD });
    process.env.RELAY6_ROUTER_PASSWORD = "from-env";
    expect(routerCredentials()).toEqual({ user: "admin", password: "from-env" });
    delete process.env.RELAY6_ROUTER_PASSWORD;
    expect(() => routerCredentials()).toThrow(/no router password/);
  });
});

describe("keys: device", () => {
  it("RouterOS makes the key: apply sets none and reports the router's public key", async () => {
    m = await startRouter("7.21.4", "defconf");
    const plan = planOf("7.21.4", (s) => ((s.wireguard = { keys: "device" }), (s.vps.publicKey = VPS_KEY)));
    const { result } = await apply(m, plan, ctxNoSecrets);
    expect(result.outcome).toBe("applied");
    const wg = m.state.list("interface/wireguard").find((w) => w.comment?.startsWith("relay6:home:wg;"))!;
    expect(result.changes.find((c) => c.menu === "/interface/wireguard")!.set).not.toHaveProperty("private-key");
    expect(result.routerPublicKey).toBe(wg["public-key"]);
    expect(m.state.list("interface/wireguard/peers").find((p) => p.comment?.startsWith("relay6:home:peer;"))!["public-key"]).toBe(VPS_KEY);
    // The key RouterOS made stays: a second run changes nothing.
    expect((await apply(m, plan, ctxNoSecrets)).result.outcome).toBe("no-changes");
  });

  it("without vps.publicKey there is nothing to connect to: refused", async () => {
    m = await startRouter("7.21.4", "defconf");
    const plan = planOf("7.21.4", (s) => (s.wireguard = { keys: "device" }));
    await expect(apply(m, plan, ctxNoSecrets)).rejects.toThrow(/needs the VPS's public key/);
    expect(changing(m)).toEqual([]);
  });
});

describe("relay6 apply router (CLI)", () => {
  it("text and --json: the diff, the outcome, no private key and no password anywhere", async () => {
    m = await startRouter("7.22.3", "defconf", { tls: true });
    const site = siteVariant((s) => (s.router.api = { url: m!.url })); // router.version "7.22" matches 7.22.3; the URL from the site file
    const secrets = parse(readFileSync(path.join(path.dirname(site), "home.secrets.yaml"), "utf8"));
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const pin = ["--router-fingerprint", m.cert!.fingerprint256];
    const dry = await runCli("apply", "router", site, ...pin, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("+ /interface/wireguard wg: name=wg-host listen-port=51820 mtu=1420 private-key=(secret)");
    expect(dry.stdout).toContain("dry run: nothing changed");
    const run = await runCli("apply", "router", site, ...pin, "--json", "--confirm", "30", "--skip-handshake");
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ site: "home", version: "7.22.3", outcome: "confirmed", rollback: { cancelled: true } });
    expect(json.changes.find((c: { menu: string }) => c.menu === "/interface/wireguard").set["private-key"]).toBe("(secret)");
    expect(run.stderr).toMatch(/\[\d+\/\d+\] \+ \/ipv6\/address addr:lan/); // progress
    const again = await runCli("apply", "router", site, ...pin);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("no changes: the router already matches the plan");
    for (const out of [dry, run, again]) {
      const all = out.stdout + out.stderr;
      for (const secret of [secrets.router.privateKey, secrets.vps.privateKey, PASSWORD]) expect(all).not.toContain(secret);
    }
  });

  it("a site for another release, a missing URL, a bad --confirm: clear errors", async () => {
    m = await startRouter("7.24", "defconf");
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const r = await runCli("apply", "router", site, "--router-url", m.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the router runs RouterOS 7.24, the site file says 7.22");
    expect((await runCli("apply", "router", site)).stderr).toContain("--router-url");
    expect((await runCli("apply", "router", site, "--router-url", m.url, "--confirm", "5")).stderr).toContain("10 to 3600");
  });

  it("platform linux goes to the linux apply over SSH (needs --router-ssh; no --confirm)", async () => {
    const site = siteVariant((s) => {
      s.router = { platform: "linux", bridge: "br0", wan: "eth0" };
      s.segments = [{ name: "lan", index: 1, interface: "br0" }];
    });
    const r = await runCli("apply", "router", site);
    expect(r.stderr).toContain("no SSH host for the linux router");
    expect((await runCli("apply", "router", site, "--router-ssh", "127.0.0.1", "--confirm", "60")).stderr).toContain("--confirm is for RouterOS");
  });
});
