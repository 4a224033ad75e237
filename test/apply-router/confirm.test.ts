// --confirm: a rollback is scheduled on the router before anything changes; relay6 cancels it
// only when the router answers again. When it does not, the rollback fires and the router is
// as it was before the run — for every captured version, on a first install and on a change.
import { afterEach, describe, expect, it } from "vitest";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { ctx, TEST_ROUTER_PRIVATE_KEY } from "../routeros/fixtures.js";
import { RestError, RouterOsRest } from "../../src/remote/routeros-rest.js";
import { applyRouter } from "../../src/targets/routeros/apply/index.js";
import { rollbackName } from "../../src/targets/routeros/apply/rollback.js";
import { VERSIONS, addCams, apply, dropIot, planOf, restFor, snapshot, startRouter, toStatic } from "./helpers.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await sleep(20);
  }
  throw new Error("waitFor: condition not met in time");
}
const rollbackRuns = (m: RunningModel) => m.state.events.filter((e) => e.type === "scheduler-run" && e.name === rollbackName("home"));

// 10 model seconds per wall second: --confirm 20 fires after ~2 s (room for a slow, busy test machine).
const FAST = 10;
const fastOpts = { confirmSeconds: 20, skipHandshake: true, confirmWaitMs: 300, pollMs: 50 };

async function applyFast(m: RunningModel, plan: ReturnType<typeof planOf>, opts: Partial<Parameters<typeof applyRouter>[3]> = {}) {
  const log: string[] = [];
  const rest = restFor(m, { timeoutMs: 800 }, (l) => log.push(l));
  try {
    return { result: await applyRouter(rest, plan, ctx, { dryRun: false, log: (l) => log.push(l), ...fastOpts, ...opts }), log };
  } finally {
    rest.close();
  }
}

describe("--confirm", () => {
  it("the router answers: the rollback is cancelled and never runs", async () => {
    m = await startRouter("7.22.3", "defconf", { timeScale: 10 });
    const plan = planOf("7.22.3");
    const { result, log } = await apply(m, plan, ctx, { confirmSeconds: 60, skipHandshake: true, pollMs: 50 });
    expect(result.outcome).toBe("confirmed");
    expect(result.rollback).toEqual({ scheduler: rollbackName("home"), seconds: 60, cancelled: true });
    // Scheduled before the first change, removed after the last.
    const writes = m.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path.replace(/\*[0-9A-F]+$/, "ID")}`);
    expect(writes.slice(0, 2)).toEqual(["PUT /rest/system/script", "PUT /rest/system/scheduler"]);
    expect(writes.slice(-2)).toEqual(["DELETE /rest/system/scheduler/ID", "DELETE /rest/system/script/ID"]);
    expect(m.state.list("system/scheduler")).toEqual([]);
    // The rollback script is gone; the RA drain's script stays (it is the plan's).
    expect(m.state.list("system/script").map((x) => x.name)).toEqual(["relay6-home-drain"]);
    await sleep(700); // 7 model seconds: nothing runs
    expect(rollbackRuns(m)).toEqual([]);
    expect(m.state.list("interface/wireguard").some((w) => w.comment?.startsWith("relay6:home:wg;"))).toBe(true);
    // The rollback script held the private key (it restores an earlier one); no log shows it.
    expect(log.join("\n")).not.toContain(TEST_ROUTER_PRIVATE_KEY);
    expect(log.join("\n")).toMatch(/"source":"\(script, \d+ lines\)"/);
  });

  it("with a handshake (the VPS answers) the run is confirmed without --skip-handshake", async () => {
    m = await startRouter("7.24", "defconf", { timeScale: 10 });
    // The model has no tunnel: once relay6's peer exists, give it a recent handshake.
    const peers = m.model.menu(["interface", "wireguard", "peers"]);
    const tick = setInterval(() => {
      for (const p of m!.state.list("interface/wireguard/peers"))
        if (p.comment?.startsWith("relay6:home:peer;")) m!.model.findItem(peers, p[".id"]!)!["last-handshake"] = "4s";
    }, 10);
    try {
      const { result } = await apply(m, planOf("7.24"), ctx, { confirmSeconds: 60, pollMs: 50 });
      expect(result.outcome).toBe("confirmed");
    } finally {
      clearInterval(tick);
    }
    expect(m.state.list("system/scheduler")).toEqual([]);
  });

  it("without the handshake the rollback is left to fire (the VPS is not up)", async () => {
    m = await startRouter("7.24", "defconf", { timeScale: FAST });
    const before = snapshot(m, "7.24");
    const { result } = await applyFast(m, planOf("7.24"), { skipHandshake: false });
    expect(result.outcome).toBe("rollback-pending");
    expect(result.error).toMatch(/no WireGuard handshake/);
    await waitFor(() => rollbackRuns(m!).length > 0, 8000);
    expect(rollbackRuns(m)[0]).toMatchObject({ ok: true });
    expect(snapshot(m, "7.24")).toEqual(before);
  });

  for (const version of VERSIONS) {
    it(`${version}: first install, the router stops answering after the changes: the rollback restores it`, async () => {
      m = await startRouter(version, "defconf", { timeScale: FAST });
      const before = snapshot(m, version);
      const plan = planOf(version);
      const n = (await apply(m, plan, ctx, { dryRun: true })).result.changes.length;
      m.unreachableAfterChanges(2 + n); // the rollback script, its scheduler entry and every change get through, then silence
      const { result } = await applyFast(m, plan);
      expect(result.outcome).toBe("rollback-pending");
      expect(result.error).toMatch(/did not answer/);
      expect(result.rollback).toMatchObject({ cancelled: false });
      await waitFor(() => rollbackRuns(m!).length > 0, 8000);
      expect(rollbackRuns(m)[0]).toMatchObject({ ok: true });
      expect(snapshot(m, version)).toEqual(before);
      expect(m.state.list("system/scheduler")).toEqual([]);
      expect(m.state.list("system/script")).toEqual([]); // the rollback removed itself
    });

    it(`${version}: a change (static, a segment gone, one added) not confirmed: back to the state before, order included`, async () => {
      m = await startRouter(version, "defconf", { timeScale: FAST });
      expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("applied");
      const before = snapshot(m, version);
      const plan = planOf(version, (s) => (toStatic(s), dropIot(s), addCams(s)));
      const dry = (await apply(m, plan, ctx, { dryRun: true })).result.changes;
      // The RA drain's script is updated: it names the segment interfaces.
      expect(new Set(dry.map((c) => c.action))).toEqual(new Set(["create", "update", "remove"]));
      expect(dry.filter((c) => c.action === "update").map((c) => `${c.menu} ${c.key}`)).toEqual(["/system/script drain"]);
      m.unreachableAfterChanges(2 + dry.length, { answerLast: false });
      const { result } = await applyFast(m, plan);
      expect(result.outcome).toBe("rollback-pending");
      await waitFor(() => rollbackRuns(m!).length > 0, 8000);
      expect(rollbackRuns(m)[0]).toMatchObject({ ok: true });
      expect(snapshot(m, version)).toEqual(before);
    });
  }

  it("updates are undone too: values set back, the earlier private key restored", async () => {
    const version = "7.20.8";
    m = await startRouter(version, "defconf", { timeScale: FAST });
    const other = { ...ctx, secrets: { ...ctx.secrets, routerPrivateKey: "IGhSZXbW6H6Rtx1nAzSqNHFFgLXEmPnhWrYf86FoQmQ=" } };
    const rest = restFor(m);
    await applyRouter(rest, planOf(version, (s) => (s.wireguard = { mtu: 1400 })), other, { dryRun: false, log: () => {} });
    rest.close();
    const before = snapshot(m, version);
    const plan = planOf(version);
    const dry = (await apply(m, plan, ctx, { dryRun: true })).result.changes;
    expect(dry.some((c) => c.action === "update" && c.menu === "/interface/wireguard" && c.set?.["private-key"] === "(secret)")).toBe(true);
    m.unreachableAfterChanges(2 + dry.length);
    const { result, log } = await applyFast(m, plan);
    expect(result.outcome).toBe("rollback-pending");
    for (const k of [TEST_ROUTER_PRIVATE_KEY, other.secrets.routerPrivateKey]) expect(JSON.stringify(result) + log.join("\n")).not.toContain(k);
    await waitFor(() => rollbackRuns(m!).length > 0, 8000);
    expect(snapshot(m, version)).toEqual(before);
  });

  it("a relay6 rule that locks the client out: the rollback removes it and the router answers again", async () => {
    const version = "7.19";
    m = await startRouter(version, "defconf", { timeScale: FAST });
    const before = snapshot(m, version);
    m.unreachableWhile((s) => s.list("ipv6/firewall/filter").some((r) => r.comment?.startsWith("relay6:home:fw:fwd-drop;")));
    const { result } = await applyFast(m, planOf(version));
    expect(result.outcome).toBe("rollback-pending");
    await waitFor(() => rollbackRuns(m!).length > 0, 8000);
    expect(snapshot(m, version)).toEqual(before);
    const rest = restFor(m);
    expect(await rest.version()).toBe(version);
    rest.close();
  });

  it("a step the router refuses: the rollback runs at once (with and without --confirm)", async () => {
    for (const confirm of [undefined, 20]) {
      m = await startRouter("7.22.3", "defconf", { timeScale: FAST });
      const before = snapshot(m, "7.22.3");
      class Failing extends RouterOsRest {
        n = 0;
        override add(menu: string, args: Record<string, string>) {
          if (menu !== "/system/scheduler" && ++this.n === 8) return Promise.reject(new RestError(400, { error: 400, message: "Bad Request", detail: "failure: refused by test" }, `PUT /rest${menu}`));
          return super.add(menu, args);
        }
      }
      const rest = new Failing({ url: m.url, user: "admin", password: "model-pw-3f9a", timeoutMs: 1000 });
      const result = await applyRouter(rest, planOf("7.22.3"), ctx, { dryRun: false, log: () => {}, ...(confirm ? { confirmSeconds: confirm, skipHandshake: true } : {}) });
      rest.close();
      expect(result.outcome).toBe("rolled-back");
      expect(result.error).toMatch(/refused by test/);
      expect(snapshot(m, "7.22.3")).toEqual(before);
      expect(m.state.list("system/scheduler")).toEqual([]);
      expect(m.state.list("system/script")).toEqual([]);
      await m.stop();
      m = undefined;
    }
  });

  it("refuses to start while a rollback of an earlier run is still scheduled", async () => {
    m = await startRouter("7.22.3", "defconf", { timeScale: 1 });
    m.runScript(`/system/scheduler/add name=${rollbackName("home")} interval=1h on-event=":put x"`);
    await expect(apply(m, planOf("7.22.3"), ctx, { confirmSeconds: 60 })).rejects.toThrow(/rollback of an earlier run/);
  });
});
