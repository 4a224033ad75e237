// Confirmed-commit building blocks: the scheduler runs a rollback after its delay unless removed,
// by a script, a backup load or an /import; and the model can stop answering to make that happen.
import { afterEach, describe, expect, it } from "vitest";
import { startRouterOsModel, type RunningModel } from "../fixtures/routeros-model/index.js";
import { client, sleep, waitFor } from "./client.js";

// 100 model seconds per wall second: a 30s rollback fires after ~300 ms.
const FAST = 100;
let m: RunningModel;
afterEach(async () => {
  await m?.stop();
});

const RULE = { chain: "input", action: "accept", protocol: "udp", "dst-port": "51820", comment: "relay6: wireguard" };
const relay6Rules = (mm: RunningModel) => mm.state.list("ipv6/firewall/filter").filter((r) => r.comment?.startsWith("relay6"));

describe("scheduler", () => {
  it("stores interval as RouterOS prints it, start date/time, run-count and next-run", async () => {
    m = await startRouterOsModel({ version: "7.22.3" });
    const c = client(m);
    const r = await c.put("/system/scheduler", { name: "s", interval: "90s", "on-event": ":put x" });
    expect(r.status).toBe(200);
    expect(r.body.interval).toBe("1m30s");
    expect(r.body["start-date"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.body["start-time"]).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(r.body["run-count"]).toBe("0");
    expect(r.body["next-run"]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect((await c.put("/system/scheduler", { "on-event": ":put x" })).body.detail).toBe("missing value(s) of argument(s) name");
    expect((await c.put("/system/scheduler", { name: "t", interval: "soon" })).body.detail).toBe("input does not match any value of interval");
  });

  it("runs a rollback script after its delay: removes what apply added, and itself", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    const sched = await c.put("/system/scheduler", {
      name: "relay6-rollback",
      interval: "30s",
      "on-event": '/ipv6/firewall/filter remove [find where comment~"^relay6"]\n/system/scheduler remove [find name="relay6-rollback"]',
    });
    expect(sched.status).toBe(200);
    expect((await c.put("/ipv6/firewall/filter", RULE)).status).toBe(200);
    expect(relay6Rules(m)).toHaveLength(1);
    await waitFor(() => relay6Rules(m).length === 0, 3000);
    expect(m.state.list("system/scheduler")).toEqual([]);
    const run = m.state.events.find((e) => e.type === "scheduler-run");
    expect(run).toMatchObject({ name: "relay6-rollback", ok: true });
  });

  it("does not run once removed (the confirm)", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    const s = await c.put("/system/scheduler", { name: "relay6-rollback", interval: "30s", "on-event": '/ipv6/firewall/filter remove [find where comment~"^relay6"]' });
    await c.put("/ipv6/firewall/filter", RULE);
    expect((await c.del(`/system/scheduler/${s.body[".id"]}`)).status).toBe(204);
    await sleep(400); // 40 model seconds
    expect(relay6Rules(m)).toHaveLength(1);
    expect(m.state.events.filter((e) => e.type === "scheduler-run")).toEqual([]);
  });

  it("does not run while disabled, and repeats every interval while it stays", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    await c.put("/system/scheduler", { name: "off", interval: "5s", disabled: "yes", "on-event": ":put off" });
    const on = await c.put("/system/scheduler", { name: "tick", interval: "5s", "on-event": ":put tick" });
    await waitFor(() => m.state.events.filter((e) => e.name === "tick").length >= 3, 3000);
    expect(m.state.events.some((e) => e.name === "off")).toBe(false);
    expect(Number(m.state.get("system/scheduler", on.body[".id"])!["run-count"])).toBeGreaterThanOrEqual(3);
  });

  it("runs a one-shot start-time in the future, never one in the past", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    const clock = (await c.get("/system/clock")).body;
    const now = Date.parse(`${clock.date}T${clock.time}Z`);
    const at = (delta: number) => {
      const iso = new Date(now + delta * 1000).toISOString();
      return { "start-date": iso.slice(0, 10), "start-time": iso.slice(11, 19) };
    };
    expect((await c.put("/system/scheduler", { name: "future", ...at(20), "on-event": ":put future" })).status).toBe(200);
    expect((await c.put("/system/scheduler", { name: "past", ...at(-20), "on-event": ":put past" })).status).toBe(200);
    await waitFor(() => m.state.events.some((e) => e.name === "future"), 3000);
    expect(m.state.events.some((e) => e.name === "past")).toBe(false);
  });

  it("refuses, at add, an on-event the model cannot run, and logs a RouterOS error when a run fails", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    const bad = await c.put("/system/scheduler", { name: "x", interval: "5s", "on-event": ':local a 1; :if ($a = 1) do={ /log info "x" }' });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/^routeros-model: not modelled/);
    // Runs, stops at the failing line: line 1 applied, line 3 not.
    const half = await c.put("/system/scheduler", {
      name: "half",
      interval: "30s",
      "on-event": '/ipv6/firewall/filter add chain=input comment="relay6: one"\n/ipv6/nd add interface=all\n/ipv6/firewall/filter add chain=input comment="relay6: two"\n/system/scheduler remove [find name=half]',
    });
    await waitFor(() => m.state.events.some((e) => e.name === "half"), 3000);
    // It failed before removing itself: remove it so that it does not run again while we look.
    expect((await c.del(`/system/scheduler/${half.body[".id"]}`)).status).toBe(204);
    expect(m.state.events.filter((e) => e.name === "half")).toHaveLength(1);
    const ev = m.state.events.find((e) => e.name === "half")!;
    expect(ev.ok).toBe(false);
    expect(ev.error).toBe("failure: configuration for this interface already exists (/ipv6/nd/add; line 2)");
    expect(relay6Rules(m).map((r) => r.comment)).toEqual(["relay6: one"]);
  });
});

describe("rollback by backup and by import", () => {
  it("/system/backup save, then a scheduler that loads it, restores the configuration (scheduler included)", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    expect((await c.post("/system/backup/save", { name: "relay6-before", "dont-encrypt": "yes" })).body).toEqual([]);
    expect((await c.get("/file?name=relay6-before.backup")).body[0].type).toBe("backup");
    await c.put("/system/scheduler", { name: "relay6-rollback", interval: "30s", "on-event": "/system/backup load name=relay6-before.backup" });
    await c.put("/ipv6/firewall/filter", RULE);
    await c.post("/system/identity/set", { name: "changed" });
    await waitFor(() => m.state.events.some((e) => e.type === "backup-load"), 3000);
    expect(relay6Rules(m)).toEqual([]);
    expect(m.state.list("system/identity")[0]!.name).toBe("MikroTik");
    // The backup predates the scheduler entry: restoring it removed the entry, so it cannot fire again.
    expect(m.state.list("system/scheduler")).toEqual([]);
    expect(m.state.list("file").map((f) => f.name)).toContain("relay6-before.backup");
    expect(m.state.events.filter((e) => e.type === "scheduler-run")).toHaveLength(1);
  });

  it("an undo .rsc uploaded with PUT /file runs by /import from the scheduler", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    const undo = [
      "/ipv6 firewall filter",
      'remove [find where comment~"^relay6"]',
      "/interface wireguard",
      "remove [find name=wg-relay6]",
      '/system scheduler remove [find name="relay6-rollback"]',
    ].join("\n");
    expect((await c.put("/file", { name: "relay6-undo.rsc", contents: undo })).status).toBe(200);
    await c.put("/system/scheduler", { name: "relay6-rollback", interval: "30s", "on-event": "/import file-name=relay6-undo.rsc" });
    await c.put("/interface/wireguard", { name: "wg-relay6" });
    await c.put("/ipv6/firewall/filter", RULE);
    await waitFor(() => m.state.events.some((e) => e.type === "import"), 3000);
    expect(m.state.events.find((e) => e.type === "import")).toMatchObject({ ok: true });
    expect(relay6Rules(m)).toEqual([]);
    expect(m.state.list("interface/wireguard")).toEqual([]);
    expect(m.state.list("system/scheduler")).toEqual([]);
  });

  it("on-event may name a /system/script", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m);
    await c.put("/system/script", { name: "relay6-undo", source: '/ipv6/firewall/filter remove [find comment="relay6: wireguard"]' });
    await c.put("/system/scheduler", { name: "relay6-rollback", interval: "30s", "on-event": "relay6-undo" });
    await c.put("/ipv6/firewall/filter", RULE);
    await waitFor(() => relay6Rules(m).length === 0, 3000);
  });
});

describe("unreachable", () => {
  it("makeUnreachable: requests hang (or are reset) until makeReachable", async () => {
    m = await startRouterOsModel({ version: "7.22.3" });
    const c = client(m);
    m.makeUnreachable("hang");
    const hang = await fetch(m.url + "/rest/system/identity", { signal: AbortSignal.timeout(300) }).then(
      () => "answered",
      () => "no answer",
    );
    expect(hang).toBe("no answer");
    m.makeUnreachable("reset");
    await expect(c.get("/system/identity")).rejects.toThrow();
    m.makeReachable();
    expect((await c.get("/system/identity")).status).toBe(200);
  });

  it("unreachableAfterChanges: the n-th change is applied but not answered", async () => {
    m = await startRouterOsModel({ version: "7.22.3" });
    const c = client(m, "admin", "", 500);
    m.unreachableAfterChanges(2, { answerLast: false });
    expect((await c.get("/ipv6/firewall/filter")).status).toBe(200); // reads do not count
    expect((await c.put("/ipv6/firewall/filter", { ...RULE, comment: "relay6: 1" })).status).toBe(200);
    await expect(c.put("/ipv6/firewall/filter", { ...RULE, comment: "relay6: 2" })).rejects.toThrow();
    expect(relay6Rules(m).map((r) => r.comment)).toEqual(["relay6: 1", "relay6: 2"]);
    expect(m.requests.at(-1)!.status).toBe("no answer");
  });

  it("confirmed commit end to end: a change cuts the client off, the scheduled rollback undoes it, the router answers again", async () => {
    m = await startRouterOsModel({ version: "7.22.3", timeScale: FAST });
    const c = client(m, "admin", "", 500);
    // Reachability depends on configuration: while the bad rule exists, nothing gets through.
    m.unreachableWhile((s) => s.list("ipv6/firewall/filter").some((r) => r.comment === "relay6: locks me out"));
    await c.put("/system/scheduler", {
      name: "relay6-rollback",
      interval: "30s",
      "on-event": '/ipv6/firewall/filter remove [find where comment~"^relay6"]; /system/scheduler remove [find name=relay6-rollback]',
    });
    const drop = (await c.get("/ipv6/firewall/filter?chain=input&action=drop&.proplist=.id")).body.at(-1)[".id"];
    // The change is applied; the answer to it still goes out (the rule bites from the next request).
    expect((await c.put("/ipv6/firewall/filter", { chain: "input", action: "drop", comment: "relay6: locks me out", "place-before": drop })).status).toBe(200);
    await expect(c.get("/system/identity")).rejects.toThrow();
    await waitFor(() => relay6Rules(m).length === 0, 3000);
    expect((await c.get("/system/identity")).status).toBe(200);
    expect((await c.get("/system/scheduler")).body).toEqual([]);
  });
});
