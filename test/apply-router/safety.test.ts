// apply router where a RouterOS engineer would look: device-mode switching the scheduler off
// (--confirm's rollback), a confirm window that ends during a slow run, a rollback that stops
// part way, and a DNS the RAs advertise that cannot answer. Against the REST model.
import { afterEach, describe, expect, it } from "vitest";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { UserError } from "../../src/errors.js";
import { RestError, RouterOsRest, type RosObject } from "../../src/remote/routeros-rest.js";
import { applyRouter, type ApplyRouterOptions } from "../../src/targets/routeros/apply/index.js";
import { formatRouterResult } from "../../src/targets/routeros/apply/output.js";
import { rollbackName } from "../../src/targets/routeros/apply/rollback.js";
import { ctx } from "../routeros/fixtures.js";
import { PASSWORD, VERSIONS, addCams, apply, changing, dropIot, planOf, snapshot, startRouter, toStatic } from "./helpers.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rollbackRuns = (x: RunningModel) => x.state.events.filter((e) => e.type === "scheduler-run" && e.name === rollbackName("home"));

/** A REST client that takes `delayMs` over each change (a slow router, a slow link). */
class Slow extends RouterOsRest {
  constructor(
    url: string,
    readonly delayMs: (n: number) => { before: number; after: number },
  ) {
    super({ url, user: "admin", password: PASSWORD, timeoutMs: 5000 });
  }
  n = 0;
  private async slow<T>(menu: string, f: () => Promise<T>): Promise<T> {
    if (menu.startsWith("/system/")) return f();
    const d = this.delayMs(++this.n);
    await sleep(d.before);
    const r = await f();
    await sleep(d.after);
    return r;
  }
  override add(menu: string, args: RosObject) {
    return this.slow(menu, () => super.add(menu, args));
  }
  override set(menu: string, id: string, args: RosObject) {
    return this.slow(menu, () => super.set(menu, id, args));
  }
  override remove(menu: string, id: string) {
    return this.slow(menu, () => super.remove(menu, id));
  }
}

async function run(rest: RouterOsRest, plan: ReturnType<typeof planOf>, opts: Partial<ApplyRouterOptions>) {
  const log: string[] = [];
  try {
    return { result: await applyRouter(rest, plan, ctx, { dryRun: false, log: (l) => log.push(l), ...opts }), log };
  } finally {
    rest.close();
  }
}

describe("--confirm and device-mode", () => {
  it("every captured version's model serves /system/device-mode with a scheduler switch", async () => {
    for (const v of VERSIONS) {
      m = await startRouter(v, "defconf");
      expect(m.state.list("system/device-mode")[0], v).toMatchObject({ mode: "advanced", scheduler: "true" });
      await m.stop();
      m = undefined;
    }
  });

  for (const [label, deviceMode, code] of [
    ["mode home (scheduler=no)", "home", "router-scheduler-off"],
    ["a device-mode that does not show scheduler", { mode: "home" }, "router-scheduler-unknown"],
  ] as const)
    it(`${label}: --confirm is refused with the fix, and nothing was written before the check`, async () => {
      m = await startRouter("7.22.3", "defconf", { deviceMode });
      const before = snapshot(m, "7.22.3");
      const err = await apply(m, planOf("7.22.3"), ctx, { confirmSeconds: 60, skipHandshake: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      const u = err as UserError;
      expect(u.exitCode).toBe(1);
      expect(u.diagnostics[0]).toMatchObject({ code });
      expect(u.diagnostics[0]!.fix).toMatch(/\/system\/device-mode\/update scheduler=yes/);
      expect(changing(m)).toEqual([]);
      expect(m.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /rest/system/resource", "GET /rest/system/device-mode"]);
      expect(snapshot(m, "7.22.3")).toEqual(before);
      // without --confirm the scheduler is not needed
      expect((await apply(m, planOf("7.22.3"), ctx)).result.outcome).toBe("applied");
    });
});

describe("the --confirm window ends during a slow apply", () => {
  const version = "7.22.3";
  // A 20 s window on a model clock 10x the wall clock: 2 s of wall time.
  const fast = { confirmSeconds: 20, windowMs: 2000, skipHandshake: true, confirmWaitMs: 300, pollMs: 50 };

  it("relay6 starts no step past the window's end: it stops, rolls back what it made, and says so", async () => {
    m = await startRouter(version, "defconf", { timeScale: 10 });
    const before = snapshot(m, version);
    const plan = planOf(version);
    const n = (await apply(m, plan, ctx, { dryRun: true })).result.changes.length;
    const { result, log } = await run(new Slow(m.url, () => ({ before: 0, after: 120 })), plan, fast);
    expect(result.outcome).toBe("rolled-back");
    expect(result.error).toMatch(new RegExp(`the --confirm window \\(20 s\\) ran out during the apply, after (\\d+) of ${n} changes`));
    const made = Number(/after (\d+) of/.exec(result.error!)![1]);
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(n);
    expect(log.filter((l) => /^\[\d+\//.test(l))).toHaveLength(made); // no step past the deadline
    expect(snapshot(m, version)).toEqual(before);
    expect(m.state.list("system/scheduler")).toEqual([]);
    expect(m.state.list("system/script")).toEqual([]);
    await sleep(400); // past the scheduled time: it was cancelled, it never runs
    expect(rollbackRuns(m)).toEqual([]);
    expect(formatRouterResult(result, undefined)).toMatch(/back to the state before this run \(read again and compared\)/);
  });

  it("a step that outlasts the window: the scheduled rollback fires during it; the change landed before it, so the router is as before (checked)", async () => {
    m = await startRouter(version, "defconf", { timeScale: 10 });
    const before = snapshot(m, version);
    // The 3rd change is answered and then the link stalls past the window's end.
    const { result } = await run(new Slow(m.url, (i) => ({ before: 0, after: i === 3 ? 2600 : 0 })), planOf(version), fast);
    expect(rollbackRuns(m)).toHaveLength(1);
    expect(result.outcome).toBe("rolled-back");
    expect(result.error).toMatch(/after 3 of \d+ changes.*the scheduled rollback fired during the run/);
    expect(snapshot(m, version)).toEqual(before);
  });

  it("a step that lands after the rollback fired: relay6 reports what is left instead of a restore", async () => {
    m = await startRouter(version, "defconf", { timeScale: 10 });
    // The 4th change (lan's address, on the bridge: nothing it needs is undone by then) is
    // sent only after the window ended.
    const { result } = await run(new Slow(m.url, (i) => ({ before: i === 4 ? 2600 : 0, after: 0 })), planOf(version), fast);
    expect(rollbackRuns(m)).toHaveLength(1);
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(/the scheduled rollback fired during the run, and the router is not as it was before this run/);
    // lan's address came after the rollback: it is what is left.
    expect(result.left).toEqual(["+ /ipv6/address addr:lan: not there before the run"]);
    expect(m.state.list("ipv6/address").filter((a) => a.comment?.startsWith("relay6:home:"))).toHaveLength(1);
    expect(formatRouterResult(result, undefined)).toMatch(/left on the router \(differs from before this run\):\n {2}\+ \/ipv6\/address addr:lan/);
  });

  it("the rollback fires before this run reached its removals: it adds nothing twice", async () => {
    m = await startRouter(version, "defconf", { timeScale: 10 });
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("applied");
    const before = snapshot(m, version);
    const plan = planOf(version, (s) => (toStatic(s), dropIot(s), addCams(s)));
    const dry = (await apply(m, plan, ctx, { dryRun: true })).result.changes;
    const firstRemoval = dry.findIndex((c) => c.action === "remove");
    expect(firstRemoval).toBeGreaterThan(0);
    m.unreachableAfterChanges(2 + firstRemoval - 1); // every create gets through, no removal does
    const { result } = await run(new RouterOsRest({ url: m.url, user: "admin", password: PASSWORD, timeoutMs: 400 }), plan, fast);
    expect(result.outcome).toBe("rollback-pending");
    const end = Date.now() + 8000;
    while (rollbackRuns(m).length === 0 && Date.now() < end) await sleep(20);
    expect(rollbackRuns(m)[0]).toMatchObject({ ok: true });
    expect(snapshot(m, version)).toEqual(before);
  });
});

describe("a rollback that stops part way", () => {
  it("is reported as failed with what is left (its first line already removed the scheduled one)", async () => {
    const version = "7.24";
    m = await startRouter(version, "defconf", { timeScale: 10 });
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("applied");
    const router = m;
    // The run removes iot's RA entry, then its address is refused; by then vlan11 is gone
    // (someone deleted it), so the rollback cannot add the RA entry back and stops there.
    class Failing extends RouterOsRest {
      override remove(menu: string, id: string) {
        if (menu !== "/ipv6/address") return super.remove(menu, id);
        const vlans = router.model.menu(["interface", "vlan"]);
        router.model.remove(vlans, [router.model.findItem(vlans, "vlan11")!]);
        return Promise.reject(new RestError(400, { error: 400, message: "Bad Request", detail: "failure: refused by test" }, `DELETE /rest${menu}/${id}`));
      }
    }
    const { result } = await run(new Failing({ url: m.url, user: "admin", password: PASSWORD, timeoutMs: 2000 }), planOf(version, dropIot), { confirmSeconds: 60, skipHandshake: true });
    // (the RA drain's script names the segments' interfaces: it is updated first)
    expect(result.changes.map((c) => `${c.action} ${c.key}`)).toEqual(["update drain", "remove nd:vlan11", "remove addr:iot"]);
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(/refused by test\); the rollback stopped part way \(input does not match any value of interface .*\/ipv6\/nd\/add/);
    expect(result.left).toEqual([
      "- /ipv6/nd nd:vlan11: there before the run, gone now",
      expect.stringMatching(/^~ \/system\/script drain: source /), // the drain's update came first; its undo was never reached
      `+ /system/script ${rollbackName("home")}: the rollback's script`,
    ]);
    expect(m.state.list("system/scheduler")).toEqual([]);
    expect(formatRouterResult(result, undefined)).toMatch(/^FAILED: .*\nleft on the router/m);
  });
});

describe("the DNS the RAs advertise", () => {
  it("defconf: guest and iot (VLANs outside LAN) cannot reach the router's DNS; apply warns, and still applies", async () => {
    m = await startRouter("7.22.3", "defconf");
    const r = await apply(m, planOf("7.22.3"), ctx);
    expect(r.result.outcome).toBe("applied");
    expect(r.result.warnings).toEqual([
      expect.stringMatching(/^segment guest \(vlan10\): the router's input chain drops its DNS queries \(rule \*[0-9A-F]+ "defconf: drop everything else not coming from LAN"\): vlan10 is not in interface list LAN; add it \(\/interface\/list\/member add list=LAN interface=vlan10\)$/),
      expect.stringMatching(/^segment iot \(vlan11\)/),
    ]);
    expect(formatRouterResult(r.result, undefined)).toMatch(/\nwarning: segment guest \(vlan10\)/);
    // put the VLANs into LAN and switch remote requests off: one warning, about that
    expect(m.runScript("/interface/list/member/add list=LAN interface=vlan10\n/interface/list/member/add list=LAN interface=vlan11\n/ip/dns/set allow-remote-requests=no").error).toBeUndefined();
    const again = await apply(m, planOf("7.22.3"), ctx, { dryRun: true });
    expect(again.result.warnings).toEqual([expect.stringMatching(/allow-remote-requests=no/)]);
  });

  it("no warning when the RAs name other DNS servers", async () => {
    m = await startRouter("7.22.3", "defconf");
    const r = await apply(m, planOf("7.22.3", (s) => (s.dns = { advertise: ["2001:4860:4860::8888"] })), ctx, { dryRun: true });
    expect(r.result.warnings).toBeUndefined();
  });
});
