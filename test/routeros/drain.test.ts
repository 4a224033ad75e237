// The RA drain and the static probe on RouterOS, run in the import model: the scripts the
// setup installs are executed as netwatch would run them, against routes and netwatch states
// the test puts in (RouterOS makes those itself). What a router running them shows: router
// lifetime 0 on every segment while relay6's ::/0 is gone (and only relay6's: not any ::/0),
// the rendered or recorded value when it is back, nothing set while the state holds, the
// records made once, and undo putting every value back. The scripts and the records they
// make are checked against every captured tree too.
import { describe, expect, it } from "vitest";
import { drainNames } from "../../src/targets/routeros/drain.js";
import { ctx, freshRouter, GOLDEN_SITES, planFor, render } from "./fixtures.js";
import type { RouterModel } from "./model.js";
import { allCommands, parse } from "./rsc.js";
import { capturedVersions, checkScript } from "./tree.js";

const recipe = GOLDEN_SITES["recipe-home"].file;
const staticSite = GOLDEN_SITES["static-inbound"].file;
const SEGMENT_IFS = ["bridge", "vlan10", "vlan11"];

const nd = (m: RouterModel, iface: string) => m.list("ipv6/nd").find((o) => o.props.interface === iface)!;
const script = (m: RouterModel, name: string) => m.list("system/script").find((o) => o.props.name === name);

/** A router after the setup, with a user's own RA entry on vlan10 (ra-lifetime 20m). */
function routerWith(version = "7.22.3", file: string = recipe): { m: RouterModel; names: ReturnType<typeof drainNames> } {
  const plan = planFor(file, version);
  const m = freshRouter(version);
  m.import(`/ipv6/nd/add interface=vlan10 ra-lifetime=20m ra-interval=20s-60s comment="my guest RA"`);
  m.import(render(plan, ctx).setup!);
  return { m, names: drainNames(plan.site) };
}

/** The BGP route RouterOS installs from the VPS (what the drain looks for). */
function bgpDefault(m: RouterModel) {
  return m.addDynamic("ipv6/route", { "dst-address": "::/0", gateway: "fe80::1%wg-host", "immediate-gw": "fe80::1%wg-host", active: "yes", bgp: "yes", dynamic: "yes", distance: "20" });
}

/** One tick of netwatch: the test-script of relay6's drain tick. */
function tick(m: RouterModel, key = "drain-tick"): void {
  const w = m.list("tool/netwatch").find((o) => (o.props.comment ?? "").startsWith(`relay6:home:${key};`) || (o.props.comment ?? "").startsWith(`relay6:lab.2:${key};`))!;
  m.runScript(w.props["test-script"]!);
}

const lifetimes = (m: RouterModel) => Object.fromEntries(SEGMENT_IFS.map((i) => [i, nd(m, i).props["ra-lifetime"]]));

describe("RouterOS RA drain, run in the import model", () => {
  it("route there: nothing changes; route gone: router lifetime 0 on every segment; back: the rendered 30m and the user's recorded 20m", () => {
    const { m } = routerWith();
    const route = bgpDefault(m);
    expect(lifetimes(m)).toEqual({ bridge: "30m", vlan10: "20m", vlan11: "30m" });
    m.sets = [];
    tick(m);
    expect(m.sets).toEqual([]); // nothing to change, nothing set (each set would send an RA)

    m.menus.set("ipv6/route", m.list("ipv6/route").filter((o) => o !== route));
    tick(m);
    expect(lifetimes(m)).toEqual({ bridge: "0s", vlan10: "0s", vlan11: "0s" });
    m.sets = [];
    tick(m);
    expect(m.sets).toEqual([]);

    bgpDefault(m);
    tick(m);
    expect(lifetimes(m)).toEqual({ bridge: "30m", vlan10: "20m", vlan11: "30m" });
    // The user's entry kept everything else of its own.
    expect(nd(m, "vlan10").props).toMatchObject({ comment: "my guest RA", "ra-interval": "20s-60s" });
  });

  it("not any ::/0: a default via another interface (native IPv6, a backup) does not stop the drain", () => {
    const { m } = routerWith();
    m.addDynamic("ipv6/route", { "dst-address": "::/0", gateway: "fe80::99%ether1", "immediate-gw": "fe80::99%ether1", active: "yes", dynamic: "yes" });
    tick(m);
    expect(lifetimes(m)).toEqual({ bridge: "0s", vlan10: "0s", vlan11: "0s" });
    // Nor an inactive one through the tunnel (check-gateway found the VPS dead).
    m.addDynamic("ipv6/route", { "dst-address": "::/0", gateway: "2401:4520:110b::1%wg-host", "immediate-gw": "2401:4520:110b::1%wg-host", active: "no" });
    tick(m);
    expect(lifetimes(m)).toEqual({ bridge: "0s", vlan10: "0s", vlan11: "0s" });
  });

  it("the record is made once, with the value before relay6: a re-import while drained keeps 20m", () => {
    const { m, names } = routerWith();
    const rec = script(m, names.record("vlan10"))!;
    expect(rec.props.source).toBe('/ipv6/nd/set [/ipv6/nd/find where interface="vlan10"] ra-lifetime=20m');
    // relay6's own entries need no record.
    expect(script(m, names.record("bridge"))).toBeUndefined();
    tick(m); // no route: drained
    expect(nd(m, "vlan10").props["ra-lifetime"]).toBe("0s");
    m.import(render(planFor(recipe, "7.22.3"), ctx).setup!);
    expect(script(m, names.record("vlan10"))!.props.source).toBe(rec.props.source);
    expect(m.list("system/script").filter((o) => o.props.name === names.record("vlan10"))).toHaveLength(1);
  });

  it("undo sets the user's ra-lifetime back even when drained, and removes the drain", () => {
    const plan = planFor(recipe, "7.22.3");
    const before = freshRouter("7.22.3");
    before.import(`/ipv6/nd/add interface=vlan10 ra-lifetime=20m ra-interval=20s-60s comment="my guest RA"`);
    const m = before.clone();
    m.import(render(plan, ctx).setup!);
    tick(m); // drained: vlan10 at 0s
    expect(nd(m, "vlan10").props["ra-lifetime"]).toBe("0s");
    m.import(render(plan, ctx).undo!);
    // The user's entry has its own router lifetime again (the flags relay6 set on it are the
    // undo's other business), and nothing of the drain is left.
    expect(nd(m, "vlan10").props["ra-lifetime"]).toBe("20m");
    for (const menu of ["system/script", "tool/netwatch", "system/logging", "system/logging/action"])
      expect(m.list(menu).filter((o) => (o.props.comment ?? "").startsWith("relay6:home:")), menu).toEqual([]);
    expect(m.snapshot()["ipv6/nd"]!.map((o) => o.interface)).toEqual(before.snapshot()["ipv6/nd"]!.map((o) => o.interface));
  });

  it("a segment dropped from the site: its record sets the value back and goes", () => {
    const full = planFor(recipe, "7.22.3");
    const { m, names } = routerWith();
    tick(m); // drained
    m.import(render({ ...full, segments: full.segments.filter((s) => s.interface !== "vlan10") }, ctx).setup!);
    expect(nd(m, "vlan10").props["ra-lifetime"]).toBe("20m");
    expect(script(m, names.record("vlan10"))).toBeUndefined();
  });

  it("static mode: 2 failed probes keep the route, the 3rd disables it (the drain follows), the first answer enables it", () => {
    const plan = planFor(staticSite, "7.22.3");
    const m = freshRouter("7.22.3");
    m.import(render(plan, ctx).setup!);
    const route = m.list("ipv6/route").find((o) => (o.props.comment ?? "").startsWith("relay6:lab.2:route:default;"))!;
    // RouterOS's own view of the static route: active while enabled and the gateway answers.
    const sync = () => {
      route.props.active = route.props.disabled === "yes" ? "no" : "yes";
      route.props["immediate-gw"] = route.props.gateway!;
    };
    const probe = m.list("tool/netwatch").find((o) => (o.props.comment ?? "").startsWith("relay6:lab.2:probe-tick;"))!;
    expect(probe.props).toMatchObject({ host: plan.transit.vps.address, interval: "1s", type: "simple" });
    const test = (status: "up" | "down") => {
      probe.props.status = status;
      sync();
      tick(m, "probe-tick");
    };
    const ifs = [...new Set(plan.segments.map((s) => s.interface))];
    const lt = () => ifs.map((i) => nd(m, i).props["ra-lifetime"]);
    test("up");
    expect(route.props.disabled ?? "no").toBe("no");
    test("down");
    test("down");
    expect(route.props.disabled ?? "no").toBe("no");
    expect(lt().every((x) => x === "30m")).toBe(true);
    test("down");
    expect(route.props.disabled).toBe("yes");
    // The probe runs the drain after its count: the route disabled, the RAs say lifetime 0.
    sync();
    tick(m, "probe-tick");
    expect(lt().every((x) => x === "0s")).toBe(true);
    test("up");
    expect(route.props.disabled).toBe("no");
    sync();
    tick(m);
    expect(lt().every((x) => x === "30m")).toBe(true);
  });

  it("a mode switch takes the other mode's objects away (static → bgp-bfd → static)", () => {
    const bgp = planFor(recipe, "7.22.3");
    const stat = { ...bgp, failover: planFor(staticSite, "7.22.3").failover };
    const m = freshRouter("7.22.3");
    m.import(render(stat, ctx).setup!);
    m.import(render(bgp, ctx).setup!);
    const ours = (menu: string) => m.list(menu).filter((o) => (o.props.comment ?? "").startsWith("relay6:home:")).map((o) => o.props.comment!.split(";")[0]);
    expect(ours("tool/netwatch")).toEqual(["relay6:home:drain-tick"]);
    expect(ours("system/logging")).toEqual(["relay6:home:drain-log:bfd", "relay6:home:drain-log:bgp"]);
    m.import(render(stat, ctx).setup!);
    expect(ours("tool/netwatch").sort()).toEqual(["relay6:home:drain-tick", "relay6:home:probe-tick"]);
    expect(ours("system/logging")).toEqual([]);
    expect(ours("system/logging/action")).toEqual([]);
  });

  for (const v of capturedVersions())
    it(`${v}: the scripts the setup installs, and the records it makes, pass ${v}'s tree`, () => {
      for (const file of [recipe, staticSite]) {
        const { m } = routerWith(v, file);
        const made = [
          ...m.list("system/script").map((o) => o.props.source!),
          ...m.list("tool/netwatch").map((o) => o.props["test-script"]!),
        ].filter((x) => x !== undefined);
        expect(made.length).toBeGreaterThanOrEqual(file === recipe ? 3 : 4);
        for (const src of made) expect(checkScript(parse(src), v), src.slice(0, 80)).toEqual([]);
      }
    });

  it("quoting, by the tokenizer cases' rules: the file is ASCII, no $ is left for the import to substitute, the scripts inside read back", () => {
    for (const file of [recipe, staticSite]) {
      const s = render(planFor(file, "7.22.3"), ctx).setup!;
      // unicode-heavy.rsc: RouterOS stops at a non-ASCII byte outside a string.
      expect(s).toMatch(/^[\x09\x0a\x20-\x7e]*$/);
      // An unescaped $ inside "..." would be substituted when the file is imported (the
      // drain's $up at import time): the reader refuses it (unquote), so parsing proves none.
      const sources = allCommands(parse(s)).flatMap((c) => c.args.filter((a) => a.name === "source" || a.name === "test-script").map((a) => a.value));
      expect(sources.length).toBeGreaterThan(1);
      for (const v of sources) {
        if (v?.kind !== "str") continue; // the records' source is an expression, run in the model above
        expect(v.raw).not.toMatch(/(^|[^\\])(\\\\)*\$/);
        expect(() => parse(v.text)).not.toThrow();
      }
      // The drain's own variables are there after decoding, for the script to use.
      const drain = sources.find((v) => v?.kind === "str" && v.text.includes(":local up"));
      expect(drain?.kind === "str" && drain.text).toMatch(/:if \(\$up\)/);
    }
  });

  it("the tree check reads the scripts inside strings (controls)", () => {
    const s = render(planFor(recipe, "7.22.3"), ctx).setup!;
    const bad = s.replace("ra-lifetime=0s", "ra-lifetme=0s").replace(" and active and ", " and activ and ");
    const what = checkScript(parse(bad), "7.22.3").map((f) => f.what);
    expect(what).toContain("/system/script/add source: /ipv6/nd/set: no argument ra-lifetme in 7.22.3");
    expect(what).toContain("/system/script/add source: /ipv6/route/find: condition on unknown property activ in 7.22.3");
    // A 7.22 script's logging action fails 7.21.4's tree (no target=script, no rule comments).
    const old = checkScript(parse(s), "7.21.4").map((f) => f.what);
    expect(old).toContain("/system/logging/action/add: no argument script in 7.21.4");
    expect(old.some((w) => w.startsWith("/system/logging/find: condition on unknown property comment"))).toBe(true);
  });
});
