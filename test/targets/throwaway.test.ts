// A target is one folder plus one registry line: a throwaway router target, registered from
// the test suite only (registerTestTarget), is parsed, linted, rendered and dispatched to by
// every command like the real ones, and never reaches schema/site.schema.json.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPlatforms, loadSite, siteJsonSchema } from "../../src/pipeline.js";
import { publicKeyFor } from "../../src/render/keys.js";
import { registerTestTarget } from "../../src/targets/index.js";
import type { ApplyRequest, Target, VerifyRequest } from "../../src/targets/types.js";
import { REPO, runCli, tmp } from "../helpers.js";

const applied: ApplyRequest[] = [];
const verified: VerifyRequest[] = [];

const throwaway: Target = {
  id: "throwaway",
  role: "router",
  platform: { id: "throwaway", tunnelInterface: "tw0", sshUser: "twuser" },
  check: (plan) =>
    plan.router.bridge === "nobridge"
      ? [{ code: "throwaway-bridge", severity: "error", path: "router.bridge", message: "the throwaway router has no bridge named nobridge", fix: "name another bridge" }]
      : [],
  render: (plan, ctx) => [
    { path: "router/throwaway.conf", content: `tunnel ${plan.router.tunnelInterface}\npeer ${publicKeyFor("vps", plan, ctx.secrets)}\n`, mode: 0o644 },
  ],
  next: (_plan, out) => `feed ${out}/router/throwaway.conf to the throwaway router`,
  apply: async () => ({
    apply: async (req) => {
      applied.push(req);
      // The user ssh logs in as unless ~/.ssh/config names one: the flag's, else the platform's.
      return { text: `throwaway applied ${req.artifacts.filter((a) => a.path.startsWith("router/")).length} file(s) as ${req.access.ssh.user ?? req.access.ssh.defaultUser}@${req.access.ssh.host}`, json: { ok: true }, failed: false };
    },
  }),
  verify: async () => ({
    verify: async (req) => {
      verified.push(req);
      return [{ check: "router.throwaway", status: "pass", detail: `reached ${req.access.ssh.user ?? req.access.ssh.defaultUser}@${req.access.ssh.host}` }];
    },
  }),
};

const SITE = (bridge: string) => `site: tw
prefix: 2001:db8:77::/48
vps: { endpoint: 203.0.113.7, nic: eth0 }
router: { platform: throwaway, bridge: ${bridge} }
segments:
  - { name: lan, index: 1, interface: ${bridge} }
failover: { mode: static }
`;

describe("a throwaway target registered from the tests", () => {
  let unregister: () => void;
  let dir: string;
  let site: string;
  beforeAll(() => {
    unregister = registerTestTarget(throwaway);
    dir = tmp();
    site = join(dir, "tw.yaml");
    writeFileSync(site, SITE("br0"));
  });
  afterAll(() => unregister());

  it("parses, takes its platform's defaults, and lints", async () => {
    expect(loadSite(site).site.router.platform).toBe("throwaway");
    const plan = JSON.parse((await runCli("plan", site, "--json")).stdout).plan;
    expect(plan.router).toMatchObject({ platform: "throwaway", tunnelInterface: "tw0" });
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, SITE("nobridge"));
    const r = await runCli("lint", bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${bad}:4:40: error throwaway-bridge at router.bridge: the throwaway router has no bridge named nobridge`);
  });

  it("renders its files beside the VPS's, and says what to do with them", async () => {
    const out = join(dir, "out");
    const r = await runCli("render", site, "-o", out);
    expect(r.code).toBe(0);
    const keys = JSON.parse((await runCli("keys", site, "--json")).stdout);
    expect(readFileSync(join(out, "router/throwaway.conf"), "utf8")).toBe(`tunnel tw0\npeer ${keys.vps}\n`);
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toContain(`PublicKey = ${keys.router}`);
    expect(r.stdout).toContain(`feed ${out}/router/throwaway.conf to the throwaway router.`);
  });

  it("apply router and verify go to its modules, with its SSH user as the default", async () => {
    const a = await runCli("apply", "router", site, "--router-ssh", "192.0.2.9");
    expect(a.code).toBe(0);
    expect(a.stdout).toBe("throwaway applied 1 file(s) as twuser@192.0.2.9\n");
    expect(applied.at(-1)!.plan.router.platform).toBe("throwaway");
    const v = await runCli("verify", site, "--no-vps", "--router-ssh", "192.0.2.9", "--router-user", "other");
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("PASS  router.throwaway: reached other@192.0.2.9");
    expect(verified).toHaveLength(1);
  });

  it("is not a lab router, and never reaches the JSON Schema", async () => {
    expect(labPlatforms()).not.toContain("throwaway");
    const committed = readFileSync(join(REPO, "schema/site.schema.json"), "utf8");
    expect(JSON.stringify(siteJsonSchema(), null, 2) + "\n").toBe(committed);
    expect(committed).not.toContain("throwaway");
    expect((await runCli("schema")).stdout).not.toContain("throwaway");
  });
});

describe("without it", () => {
  it("a site naming its platform is bad input", async () => {
    const dir = tmp();
    const site = join(dir, "tw.yaml");
    writeFileSync(site, SITE("br0"));
    const r = await runCli("lint", site);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must be one of "routeros", "linux"');
  });

  it("npm run schema writes exactly the committed schema/site.schema.json", () => {
    const out = join(tmp(), "schema.json");
    const r = spawnSync(process.execPath, [join(REPO, "node_modules/tsx/dist/cli.mjs"), join(REPO, "scripts/schema.ts"), out], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(REPO, "schema/site.schema.json"), "utf8"));
  });
});
