// RouterOS for the single-/64 kinds, per release: the link-local transit and its BGP
// connection, pref-src on a /64 site's static ::/0 (7.20+), /ipv6/nd/proxy and a /128
// route for the VPS's own address in a routed /64 (7.20+), a previous /64 as a static
// /ipv6/nd/prefix (every release), a ULA-only segment. Scripts imported into the RouterOS
// model (twice = once, undo restores, a removed previousPrefix takes its entry away) and
// the gates shown to matter against the captured trees. (test/routeros/tree.test.ts
// checks these sites' setup, undo and verify against every tree.)
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { checkRouterOS } from "../../src/targets/routeros/index.js";
import { GOLDEN_SITES, ctx, freshRouter, planFor, render } from "./fixtures.js";
import { allCommands, parse } from "./rsc.js";
import { checkScript } from "./tree.js";
import { tmp } from "../helpers.js";

const onlink = GOLDEN_SITES["onlink-64"].file;
const routed = GOLDEN_SITES["routed-64"].file;
const ulaTransit = GOLDEN_SITES["ula-transit"].file;

const adds = (script: string, menu: string) =>
  allCommands(parse(script))
    .filter((c) => c.menu.join("/") === menu && c.verb === "add")
    .map((c) => Object.fromEntries(c.args.map((a) => [a.name, a.value && "text" in a.value ? a.value.text : ""])));
const codes = (file: string, v: string) => checkRouterOS(planFor(file, v)).map((d) => `${d.severity} ${d.code}`);

describe("link-local transit", () => {
  it("fe80::2/64 on the tunnel, never advertised; BGP to fe80::1%wg-host from fe80::2; a warning says it is unproven", () => {
    const s = render(planFor(onlink, "7.22.3")).setup!;
    expect(adds(s, "ipv6/address").find((a) => a.interface === "wg-host")).toMatchObject({ address: "fe80::2/64", advertise: "no" });
    expect(adds(s, "routing/bgp/connection")[0]).toMatchObject({ "remote.address": "fe80::1%wg-host", "local.address": "fe80::2" });
    expect(codes(onlink, "7.22.3")).toContain("warning routeros-link-local-bgp-unproven");
    expect(codes(onlink, "7.22.3")).toContain("warning routeros-router-source-unproven");
    // A ULA transit runs BGP on ordinary addresses: no such warning.
    expect(adds(render(planFor(ulaTransit, "7.22.3")).setup!, "routing/bgp/connection")[0]).toMatchObject({ "remote.address": "fd42:77:2:ffff::1", "local.address": "fd42:77:2:ffff::2" });
    expect(codes(ulaTransit, "7.22.3")).not.toContain("warning routeros-link-local-bgp-unproven");
  });

  it("a ULA-only segment gets its ULA address (advertised), nothing global", () => {
    const a = adds(render(planFor(onlink, "7.22.3")).setup!, "ipv6/address").filter((x) => x.interface === "vlan11");
    expect(a).toEqual([expect.objectContaining({ address: "fd42:77:1:11::1/64", advertise: "yes", comment: expect.stringMatching(/^relay6:onlink:addr:iot:ula;/) })]);
  });
});

describe("the router's own source on a /64 site (static ::/0)", () => {
  it("7.20 and later: pref-src = the router's LAN address; 7.19: none, and a warning", () => {
    const route = (v: string) => adds(render(planFor(routed, v)).setup!, "ipv6/route").find((r) => r["dst-address"] === "::/0")!;
    for (const v of ["7.20.8", "7.21.4", "7.22.3", "7.24"]) expect(route(v)["pref-src"], v).toBe("2001:db8:4f8:10::1");
    for (const v of ["7.15", "7.18.2", "7.19"]) expect(route(v)["pref-src"], v).toBeUndefined();
    expect(route("7.22.3").gateway).toBe("fe80::1%wg-host");
    const srcWarning = (v: string) => checkRouterOS(planFor(routed, v)).filter((d) => d.code === "routeros-feature-emulated" && d.path === "transit");
    expect(srcWarning("7.19")[0]?.message).toMatch(/pref-src/);
    expect(srcWarning("7.20.8")).toEqual([]);
  });

  it("the gate matters: a 7.20 script fails the 7.19 tree (pref-src, /ipv6/nd/proxy)", () => {
    const what = checkScript(parse(render(planFor(routed, "7.20.8")).setup!), "7.19").map((f) => f.what);
    expect(what).toContain("/ipv6/route/add: no argument pref-src in 7.19");
    expect(what).toContain("/ipv6/nd/proxy/add: menu /ipv6/nd/proxy does not exist in 7.19");
    expect(checkScript(parse(render(planFor(routed, "7.19")).setup!), "7.19")).toEqual([]);
  });
});

describe("the VPS's own address in a routed /64", () => {
  it("7.20+: answered for on the bridge and routed into the tunnel; before: neither, and a warning", () => {
    const s = render(planFor(routed, "7.22.3")).setup!;
    expect(adds(s, "ipv6/nd/proxy")).toEqual([expect.objectContaining({ address: "2001:db8:4f8:10::2", interface: "bridge" })]);
    expect(adds(s, "ipv6/route").find((r) => r["dst-address"] === "2001:db8:4f8:10::2/128")).toMatchObject({ gateway: "fe80::1%wg-host" });
    const old = render(planFor(routed, "7.19")).setup!;
    expect(adds(old, "ipv6/nd/proxy")).toEqual([]);
    expect(adds(old, "ipv6/route").some((r) => r["dst-address"]?.endsWith("/128"))).toBe(false);
    expect(checkRouterOS(planFor(routed, "7.19")).find((d) => d.code === "routeros-feature-emulated" && d.path === "vps.upstream.address")?.message).toMatch(/\/ipv6\/nd\/proxy/);
  });
});

describe("previousPrefix: a static /ipv6/nd/prefix entry, deprecated", () => {
  it("preferred 0s, valid 2h, autonomous and on-link, on the segment's interface, in every release", () => {
    for (const v of ["7.15", "7.19", "7.22.3", "7.24"])
      expect(adds(render(planFor(routed, v)).setup!, "ipv6/nd/prefix"), v).toEqual([
        { interface: "bridge", prefix: "2001:db8:77:1::/64", "preferred-lifetime": "0s", "valid-lifetime": "2h", autonomous: "yes", "on-link": "yes", comment: expect.stringMatching(/^relay6:routed:nd-prefix:lan:previous;/) },
      ]);
  });

  it("imported twice equals once; undo takes it away; without previousPrefix the next import removes it", () => {
    for (const v of ["7.19", "7.22.3"]) {
      const plan = planFor(routed, v);
      const { setup, undo } = render(plan, ctx);
      const m = freshRouter(v);
      const before = m.snapshot();
      m.import(setup!);
      const once = m.snapshot();
      expect(once["ipv6/nd/prefix"]).toHaveLength(1);
      m.import(setup!);
      expect(m.snapshot()).toEqual(once);
      const gone = m.clone();
      gone.import(undo!);
      expect(gone.snapshot()).toEqual(before);
      // The site file without previousPrefix: what relay6 added for it goes, nothing else.
      const dir = tmp();
      const file = path.join(dir, "routed.yaml");
      const site = parseYaml(readFileSync(routed, "utf8"));
      delete site.previousPrefix;
      writeFileSync(file, stringify(site));
      m.import(render(planFor(file, v), ctx).setup!);
      const after = m.snapshot();
      expect(after["ipv6/nd/prefix"] ?? []).toEqual([]);
      expect({ ...after, "ipv6/nd/prefix": [] }).toEqual({ ...once, "ipv6/nd/prefix": [] });
    }
  });
});
