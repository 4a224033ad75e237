// apply router and the RA drain, against the REST model: ra-lifetime belongs to the drain
// (apply never calls it drift), the ra-lifetime of an entry relay6 did not make is recorded
// once on the router, a record of a dropped segment sets its value back, and a --confirm
// rollback puts every ra-lifetime back even after the drain changed it.
import { afterEach, describe, expect, it } from "vitest";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { ctx } from "../routeros/fixtures.js";
import { applyRouter } from "../../src/targets/routeros/apply/index.js";
import { rollbackName } from "../../src/targets/routeros/apply/rollback.js";
import { apply, changing, dropIot, planOf, restFor, startRouter } from "./helpers.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const nd = (m: RunningModel, iface: string) => m.state.list("ipv6/nd").find((x) => x.interface === iface)!;
const record = (m: RunningModel, iface: string) => m.state.list("system/script").find((x) => (x.comment ?? "").startsWith(`relay6:home:ra:${iface};`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function userEntry(version: string): Promise<RunningModel> {
  const r = await startRouter(version, "defconf", { timeScale: 10 });
  expect(r.runScript('/ipv6/nd/add interface=vlan10 ra-lifetime=20m comment="my guest RA"').error).toBeUndefined();
  return r;
}

describe("apply router and the RA drain", () => {
  it("records the ra-lifetime of an entry it did not make, once; leaves it alone; no record for its own", async () => {
    m = await userEntry("7.22.3");
    const first = await apply(m, planOf("7.22.3"), ctx);
    expect(first.result.outcome).toBe("applied");
    expect(record(m, "vlan10")).toMatchObject({ name: "relay6-home-ra-vlan10", source: '/ipv6/nd/set [/ipv6/nd/find where interface="vlan10"] ra-lifetime=20m' });
    expect(record(m, "bridge")).toBeUndefined();
    expect(nd(m, "vlan10")["ra-lifetime"]).toBe("20m");
    expect(nd(m, "bridge")).toMatchObject({ "ra-lifetime": "30m", comment: expect.stringMatching(/^relay6:home:nd:bridge;/) });
    // The drain's objects, as the .rsc has them.
    const tick = m.state.list("tool/netwatch").find((x) => (x.comment ?? "").startsWith("relay6:home:drain-tick;"));
    expect(tick).toMatchObject({ host: "127.0.0.1", interval: "1s", "test-script": "/system/script/run relay6-home-drain" });
    expect(m.state.list("system/logging").filter((x) => (x.comment ?? "").startsWith("relay6:home:drain-log:")).map((x) => x.topics)).toEqual(["bfd", "bgp"]);
  });

  it("ra-lifetime is the drain's: drained entries (and a changed record) are no drift, nothing is sent", async () => {
    m = await userEntry("7.24");
    await apply(m, planOf("7.24"), ctx);
    // The drain ran: every segment at 0s. Someone edited the record, too.
    for (const i of ["bridge", "vlan10", "vlan11"]) expect(m.runScript(`/ipv6/nd/set [find where interface="${i}"] ra-lifetime=0s`).error).toBeUndefined();
    const rec = record(m, "vlan10")!;
    expect(m.runScript(`/system/script/set ${rec[".id"]} source="/ipv6/nd/set [/ipv6/nd/find where interface=\\"vlan10\\"] ra-lifetime=25m"`).error).toBeUndefined();
    const writes = changing(m).length;
    const again = await apply(m, planOf("7.24"), ctx);
    expect(again.result.outcome).toBe("no-changes");
    expect(changing(m).length).toBe(writes);
  });

  it("a segment dropped from the site: its record sets the value back, then goes", async () => {
    m = await userEntry("7.22.3");
    await apply(m, planOf("7.22.3"), ctx);
    expect(m.runScript('/ipv6/nd/set [find where interface="vlan10"] ra-lifetime=0s').error).toBeUndefined(); // drained
    const r = await apply(m, planOf("7.22.3", (s) => (s.segments = s.segments.filter((x: { interface: string }) => x.interface !== "vlan10"))), ctx);
    expect(r.result.changes.some((c) => c.action === "remove" && c.key === "ra:vlan10")).toBe(true);
    expect(record(m, "vlan10")).toBeUndefined();
    expect(nd(m, "vlan10")["ra-lifetime"]).toBe("20m");
    expect((await apply(m, planOf("7.22.3", dropIot), ctx)).result.outcome).toBe("applied");
  });

  it("--confirm not confirmed: the rollback puts every ra-lifetime back, though the drain had changed it", async () => {
    m = await userEntry("7.22.3");
    const plan = planOf("7.22.3");
    const n = (await apply(m, plan, ctx, { dryRun: true })).result.changes.length;
    m.unreachableAfterChanges(2 + n);
    const log: string[] = [];
    const rest = restFor(m, { timeoutMs: 800 }, (l) => log.push(l));
    try {
      const result = await applyRouter(rest, plan, ctx, { dryRun: false, log: (l) => log.push(l), confirmSeconds: 20, skipHandshake: true, confirmWaitMs: 300, pollMs: 50 });
      expect(result.outcome).toBe("rollback-pending");
    } finally {
      rest.close();
    }
    // Before the rollback fires the tunnel dies and the drain zeroes every segment.
    for (const i of ["bridge", "vlan10", "vlan11"]) expect(m.runScript(`/ipv6/nd/set [find where interface="${i}"] ra-lifetime=0s`).error).toBeUndefined();
    const end = Date.now() + 8000;
    while (!m.state.events.some((e) => e.type === "scheduler-run" && e.name === rollbackName("home")) && Date.now() < end) await sleep(20);
    expect(m.state.events.find((e) => e.type === "scheduler-run" && e.name === rollbackName("home"))).toMatchObject({ ok: true });
    expect(nd(m, "vlan10")["ra-lifetime"]).toBe("20m");
    // relay6's own entries and the drain are gone with the rest of the run.
    expect(m.state.list("ipv6/nd").filter((x) => (x.comment ?? "").startsWith("relay6:home:"))).toEqual([]);
    for (const menu of ["system/script", "tool/netwatch", "system/logging"]) expect(m.state.list(menu).filter((x) => (x.comment ?? "").startsWith("relay6:home:")), menu).toEqual([]);
  });
});
