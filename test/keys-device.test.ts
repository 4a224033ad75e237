// wireguard.keys: device — the recipe's flow, where each end makes its own key. Render
// step 1, run it on a (namespace) VPS, put the printed public keys in the site file,
// render step 2, run it: the VPS keeps the key it made and peers with the router's.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifacts } from "../src/io/write.js";
import { analyse, loadSite, renderPlan } from "../src/pipeline.js";
import { REPO, tmp } from "./helpers.js";
import { NetnsHost } from "./netns-host.js";

const host = new NetnsHost(`r6t-keys-${process.pid}`);
const work = tmp("relay6-keys-");
const ROUTER_PUBLIC = "KsdaAUibD4E7d4q0fLJ3Kn+kPwFYkDmMtoSYUvy43Is=";
const base = readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8").replace("failover:", "wireguard: { keys: device }\nfailover:");

function render(text: string, out: string) {
  const file = join(work, "site.yaml");
  writeFileSync(file, text);
  const loaded = loadSite(file);
  const a = analyse(loaded);
  // keys: device renders with no secrets at all.
  const artifacts = renderPlan(a.plan!, { secrets: {}, version: "test" });
  writeArtifacts(out, artifacts, { sites: [{ site: a.plan!.site }] });
  return { findings: a.findings, artifacts };
}

describe("keys: device, two steps", () => {
  beforeAll(() => {
    host.create();
    execFileSync("ip", ["-n", host.ns, "link", "add", "enp3s0", "type", "veth", "peer", "name", "up0"]);
    for (const d of ["enp3s0", "up0"]) execFileSync("ip", ["-n", host.ns, "link", "set", d, "up"]);
  });
  afterAll(() => host.destroy());

  let vpsPublic = "";

  it("step 1: lint says so, the VPS script makes the key and prints its public half, nothing else", () => {
    const out = join(work, "step1");
    const { findings, artifacts } = render(base, out);
    expect(findings.map((f) => f.code)).toEqual(expect.arrayContaining(["keys-pending", "routeros-keys-step1", "routeros-router-key-needed"]));
    const paths = artifacts.map((a) => a.path);
    expect(paths).not.toContain("vps/files/etc/wireguard/wg0.conf");
    expect(paths.some((p) => p.includes("secrets/"))).toBe(false);
    const rsc = artifacts.find((a) => a.path === "router/relay6-home.rsc")!;
    expect(rsc.content).not.toContain("private-key");
    expect(rsc.content).toContain("step 1 of 2");

    const r = host.sh(`bash ${out}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    vpsPublic = /VPS WireGuard public key: (\S+)/.exec(r.out)![1]!;
    expect(r.out).toContain("Step 1 done");
    expect(statSync(join(host.etc, "wireguard/wg0.key")).mode & 0o777).toBe(0o600);
    expect(execFileSync("wg", ["pubkey"], { input: readFileSync(join(host.etc, "wireguard/wg0.key")) }).toString().trim()).toBe(vpsPublic);
    expect(host.sh("ip link show wg0").code).not.toBe(0); // no tunnel without the router's key
  });

  it("step 2: with both public keys the VPS comes up with the key it made, peered with the router's", () => {
    const text = base.replace("  nic: enp3s0", `  nic: enp3s0\n  publicKey: "${vpsPublic}"`).replace("  bridge: bridge", `  bridge: bridge\n  publicKey: "${ROUTER_PUBLIC}"`);
    const out = join(work, "step2");
    const { findings, artifacts } = render(text, out);
    expect(findings.filter((f) => f.severity !== "info").map((f) => f.code)).toEqual([]);
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toContain(`PublicKey = ${ROUTER_PUBLIC}`);
    expect(existsSync(join(out, "vps/secrets"))).toBe(false);
    const rsc = artifacts.find((a) => a.path === "router/relay6-home.rsc")!;
    expect(rsc.content).toContain(`public-key="${vpsPublic}"`);
    expect(rsc.content).not.toContain("private-key");

    const r = host.sh(`bash ${out}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(host.sh("wg show wg0 public-key").out.trim()).toBe(vpsPublic);
    expect(host.sh("wg show wg0 peers").out.trim()).toBe(ROUTER_PUBLIC);
  });
});
