// apply router for the single-/64 sites against the RouterOS REST model, for every captured
// version: it leaves relay6's objects as importing the .rsc does (link-local transit,
// pref-src, /ipv6/nd/proxy, the previous /64's /ipv6/nd/prefix), a second run changes
// nothing, dropping previousPrefix removes its entry and nothing else; verify over REST
// reads the previous /64's entry back.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { ctx, freshRouter, GOLDEN_SITES, planFor, render } from "../routeros/fixtures.js";
import { managedMenus } from "../../src/targets/routeros/objects.js";
import { capabilitiesOf, parseRelease } from "../../src/targets/routeros/capabilities.js";
import { sameValue } from "../../src/targets/routeros/apply/values.js";
import { verify } from "../../src/targets/routeros/verify.js";
import type { Plan } from "../../src/plan/plan.js";
import { tmp } from "../helpers.js";
import { PASSWORD, USER_SCRIPT, VERSIONS, apply, changing, foreign, snapshot, startRouter } from "./helpers.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const SITES = { "onlink-64": "onlink", "routed-64": "routed", "ula-transit": "ulat" } as const;

/** relay6's objects in the model equal those the .rsc import leaves (same tags per menu,
 *  every value the script sets). */
function expectSameAsImport(model: RunningModel, plans: Plan[], version: string, site: string) {
  const im = freshRouter(version, true);
  im.import(USER_SCRIPT);
  for (const p of plans) im.import(render(p, ctx).setup!);
  const tagged = (o: Record<string, string>) => (o.comment ?? "").startsWith(`relay6:${site}:`);
  for (const menu of managedMenus(capabilitiesOf(parseRelease(version)!))) {
    const key = menu.slice(1);
    const rest = model.state.list(key).filter(tagged);
    const imp = im.list(key).map((o) => o.props).filter(tagged);
    expect(rest.map((x) => x.comment).sort(), `${version} ${menu}`).toEqual(imp.map((x) => x.comment).sort());
    for (const want of imp) {
      const got = rest.find((x) => x.comment === want.comment)!;
      for (const [k, v] of Object.entries(want)) {
        if (menu === "/interface/wireguard" && k === "public-key") continue;
        expect(sameValue(got[k], v), `${version} ${menu} ${want.comment} ${k}: ${got[k]} vs ${v}`).toBe(true);
      }
    }
  }
}

function withoutPrevious(file: string): string {
  const site = parse(readFileSync(file, "utf8"));
  delete site.previousPrefix;
  const out = path.join(tmp(), path.basename(file));
  writeFileSync(out, stringify(site));
  return out;
}

describe("apply router, single-/64 sites, every version", () => {
  for (const [name, site] of Object.entries(SITES))
    for (const version of VERSIONS)
      it(`${name} @ ${version}: as the import leaves it; a second run changes nothing; the user's objects untouched`, async () => {
        m = await startRouter(version, "defconf");
        const user = foreign(snapshot(m, version), site);
        const plan = planFor(GOLDEN_SITES[name as keyof typeof SITES].file, version);
        const first = await apply(m, plan, ctx);
        expect(first.result.outcome).toBe("applied");
        expectSameAsImport(m, [plan], version, site);
        expect(foreign(snapshot(m, version), site)).toEqual(user);
        const writes = changing(m).length;
        expect((await apply(m, plan, ctx)).result.outcome).toBe("no-changes");
        expect(changing(m).length).toBe(writes);
      });

  for (const version of ["7.19", "7.20.8", "7.24"])
    it(`routed-64 @ ${version}: dropping previousPrefix removes its /ipv6/nd/prefix entry, and only that`, async () => {
      m = await startRouter(version, "defconf");
      const file = GOLDEN_SITES["routed-64"].file;
      await apply(m, planFor(file, version), ctx);
      const before = snapshot(m, version);
      expect(before["/ipv6/nd/prefix"]!.filter((x) => x.comment?.startsWith("relay6:routed:"))).toHaveLength(1);
      const next = planFor(withoutPrevious(file), version);
      const r = await apply(m, next, ctx);
      expect(r.result.changes.map((c) => `${c.action} ${c.menu} ${c.key}`)).toEqual(["remove /ipv6/nd/prefix nd-prefix:lan:previous"]);
      expect({ ...snapshot(m, version), "/ipv6/nd/prefix": [] }).toEqual({ ...before, "/ipv6/nd/prefix": [] });
      expectSameAsImport(m, [planFor(file, version), next], version, "routed");
    });
});

describe("verify over REST: the previous /64", () => {
  it("passes on the applied entry, fails when it is no longer deprecated", async () => {
    const version = "7.22.3";
    m = await startRouter(version, "defconf");
    const plan = planFor(GOLDEN_SITES["routed-64"].file, version);
    await apply(m, plan, ctx);
    const check = async () => {
      process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
      try {
        const findings = await verify({ plan, ctx, access: { rest: { url: m!.url }, ssh: { port: 22, user: "admin", acceptNewHostKey: false } }, log: () => {} });
        return findings.find((f) => f.check === "router.previous.lan");
      } finally {
        delete process.env.RELAY6_ROUTER_PASSWORD;
      }
    };
    expect(await check()).toMatchObject({ status: "pass" });
    const id = m.state.list("ipv6/nd/prefix").find((x) => x.comment?.startsWith("relay6:routed:"))![".id"]!;
    expect(m.runScript(`/ipv6/nd/prefix/set numbers=${id} preferred-lifetime=1d`).error).toBeUndefined();
    expect(await check()).toMatchObject({ status: "fail" });
  });
});
