// Lint of a plan against the RouterOS version, and the render's meaning read back.
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSite, routerTarget, siteJsonSchema } from "../../src/pipeline.js";
import { runCli } from "../helpers.js";
import { FEATURES, capabilitiesOf, parseRelease, type Feature } from "../../src/targets/routeros/capabilities.js";
import { checkRouterOS, featureDiagnostics, requirementsOf, routerosTarget } from "../../src/targets/routeros/index.js";
import type { Plan } from "../../src/plan/plan.js";
import { GOLDEN_SITES, ctx, ctxNoSecrets, planFor, render } from "./fixtures.js";
import { allCommands, parse, type Command } from "./rsc.js";

const recipe = GOLDEN_SITES["recipe-home"].file;
const withKey = (p: Plan): Plan => ({ ...p, router: { ...p.router, publicKey: "g6ZPkh8CtfpdAkOhOYX6hPfbw3um9tgWgIpyXd8MyUc=" } });
const codes = (v?: string) => checkRouterOS(planFor(recipe, undefined, (p) => withKey({ ...p, router: { ...p.router, version: v } }))).map((d) => `${d.severity} ${d.code}`);

const adds = (script: string, menu: string): Command[] =>
  allCommands(parse(script)).filter((c) => c.menu.join("/") === menu && c.verb === "add");
const arg = (c: Command, name: string) => {
  const v = c.args.find((a) => a.name === name)?.value;
  return v && (v.kind === "word" || v.kind === "str") ? v.text : undefined;
};

describe("routeros check", () => {
  it("is the registered target for routeros routers: the registry, not this file, gives a site its defaults, checks and files", async () => {
    // A site that writes no tunnelInterface gets the platform's, through the pipeline.
    const site = readFileSync(recipe, "utf8");
    expect(site).not.toMatch(/tunnelInterface/);
    const plan = planFor(recipe);
    expect(routerTarget(plan)).toBe(routerosTarget);
    expect(plan.router.tunnelInterface).toBe(routerosTarget.platform!.tunnelInterface);
    expect(plan.router.tunnelInterface).not.toBe("wg0"); // not the linux target's, nor a default of the core
    // The schema the registry makes takes the platform; the shipped JSON Schema lists it.
    expect(() => parseSite(site, "home.yaml")).not.toThrow();
    expect(JSON.stringify(siteJsonSchema())).toContain('"routeros"');
    // Its check runs in lint (a version outside its table is an error there), and render
    // writes its files: both through the pipeline.
    const dir = mkdtempSync(join(tmpdir(), "relay6-registered-"));
    writeFileSync(join(dir, "old.yaml"), site.replace(/version: "[^"]+"/, 'version: "7.14"'));
    const lint = await runCli("lint", join(dir, "old.yaml"), "--json");
    expect(JSON.parse(lint.stdout).findings.map((d: { code: string }) => d.code)).toContain("routeros-version-unsupported");
    const r = await runCli("render", recipe, "-o", join(dir, "out"), "--secrets", join(dir, "s.yaml"), "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(["router/relay6-home.rsc", "router/relay6-home-undo.rsc"]));
  });

  it.each(["7.15", "7.16.1", "7.17", "7.20", "7.21", "7.22", "7.24", "7.24.9"])("accepts %s", (v) => {
    expect(codes(v).filter((c) => c.startsWith("error"))).toEqual([]);
  });

  it.each(["7.14.3", "7.25", "7.9", "6.49"])("refuses %s, naming the version and the range", (v) => {
    const ds = checkRouterOS(planFor(recipe, undefined, (p) => ({ ...p, router: { ...p.router, version: v } })));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: "routeros-version-unsupported", severity: "error", path: "router.version" });
    expect(ds[0]!.message).toContain(v);
    expect(ds[0]!.message).toContain("7.15 to 7.24");
  });

  it("needs a version", () => {
    expect(codes(undefined)).toEqual(["error routeros-version-missing"]);
  });

  it("warns that advertise-dns=self is emulated before 7.21.4, naming version and feature", () => {
    const ds = checkRouterOS(planFor(recipe, "7.20.8", withKey));
    expect(ds).toEqual([expect.objectContaining({ code: "routeros-feature-emulated", severity: "warning", path: "dns.advertise" })]);
    expect(ds[0]!.message).toMatch(/RouterOS 7\.20\.8 has no advertise-dns=self/);
    expect(checkRouterOS(planFor(recipe, "7.21.4", withKey))).toEqual([]);
  });

  it("advertise-dns=self is gated on 7.21.4: 7.21.0-7.21.3 have no tree that shows it", () => {
    for (const v of ["7.21", "7.21.3"]) {
      const ds = checkRouterOS(planFor(recipe, v, withKey));
      expect(ds.map((d) => d.code), v).toEqual(["routeros-feature-emulated"]);
      expect(ds[0]!.message).toContain("it exists from 7.21.4");
    }
    // "7.21" means any 7.21.x: the fix says to name the exact release when it is 7.21.4 or later.
    expect(checkRouterOS(planFor(recipe, "7.21", withKey))[0]!.fix).toMatch(/set router.version to its exact release/);
    expect(checkRouterOS(planFor(recipe, "7.21.5", withKey))).toEqual([]);
  });

  it("keys: relay6 needs no router.publicKey: the script sets relay6's private key (and is 0600)", () => {
    const p = planFor(recipe, "7.22.3");
    expect(checkRouterOS(p)).toEqual([]);
    const setup = routerosTarget.render(p, ctx)[0]!;
    expect(setup.mode).toBe(0o600);
    expect(setup.content).toContain(`private-key="${ctx.secrets.routerPrivateKey}"`);
  });

  it("keys: device asks for router.publicKey: the VPS must learn the key RouterOS made", () => {
    const p = { ...planFor(recipe, "7.22.3"), wireguard: { ...planFor(recipe, "7.22.3").wireguard, keys: "device" as const }, vps: { ...planFor(recipe, "7.22.3").vps, publicKey: "QBtp4TiApKq/R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8=" } };
    expect(checkRouterOS(p).map((d) => d.code)).toEqual(["routeros-router-key-needed"]);
    expect(routerosTarget.render(p, ctxNoSecrets)[0]!.content).not.toContain("private-key");
  });

  it("a feature with no fallback is a lint error naming the version and the feature", () => {
    // The shipped table has a fallback for everything in 7.15-7.24; a table with a
    // feature a release lacks outright must give the error.
    const table: Feature[] = FEATURES.map((f) => (f.id === "bgp-instance" ? { ...f, fallback: "none" } : f));
    const ds = featureDiagnostics(parseRelease("7.19")!, requirementsOf(planFor(recipe, "7.19")), table);
    expect(ds).toContainEqual(expect.objectContaining({ code: "routeros-feature-missing", severity: "error", path: "failover.mode" }));
    expect(ds.find((d) => d.code === "routeros-feature-missing")!.message).toMatch(/RouterOS 7\.19 cannot .*\/routing\/bgp\/instance.*7\.20/);
  });

  it("says when the script is only step 1 (keys: device, no VPS key)", () => {
    const p = planFor(GOLDEN_SITES["device-step1"].file);
    expect(checkRouterOS(p).map((d) => d.code)).toContain("routeros-keys-step1");
    const files = routerosTarget.render(p, ctxNoSecrets);
    expect(files.map((f) => f.path)).toEqual(["router/relay6-fresh.rsc", "router/relay6-fresh-undo.rsc"]);
    const s = files[0]!.content;
    expect(adds(s, "interface/wireguard/peers")).toEqual([]);
    expect(adds(s, "interface/wireguard")).toHaveLength(1);
    expect(s).toMatch(/:put \[\/interface\/wireguard\/get /);
  });
});

describe("capability table drives the syntax", () => {
  it("maps releases to rows", () => {
    expect(capabilitiesOf(parseRelease("7.16.1")!)).toMatchObject({ bgpInstance: false, bgpAfiArg: "address-families", ndAdvertiseDnsSelf: false });
    expect(capabilitiesOf(parseRelease("7.19")!)).toMatchObject({ bgpInstance: false, bgpAfiArg: "afi" });
    expect(capabilitiesOf(parseRelease("7.20")!)).toMatchObject({ bgpInstance: true, bgpAfiArg: "afi", ndAdvertiseDnsSelf: false });
    expect(capabilitiesOf(parseRelease("7.21.3")!)).toMatchObject({ ndAdvertiseDnsSelf: false });
    expect(capabilitiesOf(parseRelease("7.21.4")!)).toMatchObject({ ndAdvertiseDnsSelf: true });
    expect(capabilitiesOf(parseRelease("7.22")!)).toMatchObject({ bgpInstance: true, ndAdvertiseDnsSelf: true });
  });

  it("before 7.20 the router-id is on the connection; from 7.20 on the instance", () => {
    const old = render(planFor(recipe, "7.19")).setup!;
    expect(adds(old, "routing/bgp/instance")).toEqual([]);
    expect(arg(adds(old, "routing/bgp/connection")[0]!, "router-id")).toBe("10.0.0.2");
    expect(arg(adds(old, "routing/bgp/connection")[0]!, "afi")).toBe("ipv6");
    const neu = render(planFor(recipe, "7.20.8")).setup!;
    expect(arg(adds(neu, "routing/bgp/instance")[0]!, "router-id")).toBe("10.0.0.2");
    expect(arg(adds(neu, "routing/bgp/connection")[0]!, "instance")).toBe("relay6-home");
    expect(arg(adds(neu, "routing/bgp/connection")[0]!, "router-id")).toBeUndefined();
    expect(arg(adds(render(planFor(recipe, "7.18.2")).setup!, "routing/bgp/connection")[0]!, "address-families")).toBe("ipv6");
  });

  it("RDNSS: self from 7.21.4, the router's own address before (7.21 and 7.21.3 too)", () => {
    const nd = (v: string) => adds(render(planFor(recipe, v)).setup!, "ipv6/nd");
    expect(nd("7.21.4").map((c) => arg(c, "advertise-dns"))).toEqual(["self", "self", "self"]);
    for (const v of ["7.21", "7.21.3"]) expect(nd(v).map((c) => arg(c, "advertise-dns")), v).toEqual(["yes", "yes", "yes"]);
    const old = nd("7.20.8");
    expect(old.map((c) => [arg(c, "advertise-dns"), arg(c, "dns")])).toEqual([
      ["yes", "2401:4520:110b:1::1"],
      ["yes", "2401:4520:110b:10::1"],
      ["yes", "2401:4520:110b:11::1"],
    ]);
  });
});

describe("the setup says what the recipe says", () => {
  const p = planFor(recipe, "7.22.3");
  const s = render(p, ctx).setup!;

  it("tunnel: interface, peer with ::/0 and keepalive, transit not advertised", () => {
    expect(arg(adds(s, "interface/wireguard")[0]!, "mtu")).toBe("1420");
    const peer = adds(s, "interface/wireguard/peers")[0]!;
    expect([arg(peer, "allowed-address"), arg(peer, "persistent-keepalive"), arg(peer, "endpoint-address")]).toEqual(["::/0", "25s", "203.0.113.10"]);
    const transit = adds(s, "ipv6/address").find((c) => arg(c, "address") === "2401:4520:110b::2/64")!;
    expect(arg(transit, "advertise")).toBe("no");
  });

  it("every segment: address advertised, RA with DNS and the tunnel MTU", () => {
    for (const seg of p.segments) {
      const a = adds(s, "ipv6/address").find((c) => arg(c, "address") === seg.router.cidr)!;
      expect([arg(a, "interface"), arg(a, "advertise")]).toEqual([seg.interface, "yes"]);
      const nd = adds(s, "ipv6/nd").find((c) => arg(c, "interface") === seg.interface)!;
      expect([arg(nd, "mtu"), arg(nd, "advertise-dns")]).toEqual(["1420", "self"]);
    }
  });

  it("BGP with BFD at the plan's timers, and MSS clamped both ways", () => {
    const conn = adds(s, "routing/bgp/connection")[0]!;
    expect([arg(conn, "remote.address"), arg(conn, "remote.as"), arg(conn, "local.address"), arg(conn, "use-bfd")]).toEqual(["2401:4520:110b::1", "65002", "2401:4520:110b::2", "yes"]);
    const bfd = adds(s, "routing/bfd/configuration")[0]!;
    expect([arg(bfd, "min-rx"), arg(bfd, "min-tx"), arg(bfd, "multiplier"), arg(bfd, "interfaces")]).toEqual(["200ms", "200ms", "3", "wg-host"]);
    const mss = adds(s, "ipv6/firewall/mangle");
    expect(mss.map((c) => [arg(c, "new-mss"), arg(c, "out-interface") ?? `in:${arg(c, "in-interface")}`])).toEqual([
      ["1360", "wg-host"],
      ["1360", "in:wg-host"],
    ]);
  });

  it("the ULA of a segment is added when the site has one", () => {
    const st = render(planFor(GOLDEN_SITES["static-inbound"].file, "7.22.3"), ctx).setup!;
    expect(adds(st, "ipv6/address").map((c) => arg(c, "address"))).toEqual([
      "2001:db8:4400::2/64",
      "2001:db8:4400:1::1/64",
      "fd12:3456:789a:1::1/64",
      "2001:db8:4400:20::1/64",
    ]);
  });

  it("hostile descriptions reach the comment intact and stay inside it", () => {
    const plan = planFor(GOLDEN_SITES["static-inbound"].file, "7.22.3");
    const st = render(plan, ctx).setup!;
    for (const seg of plan.segments) {
      const a = adds(st, "ipv6/address").find((c) => arg(c, "address") === seg.router.cidr)!;
      expect(arg(a, "comment")).toBe(`relay6:lab.2:addr:${seg.name}; segment ${seg.name} - ${seg.description}`);
    }
    expect(st).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it("verify spells out the expected values", () => {
    const v = render(p, ctx).verify!;
    expect(v).toContain("state=up actual-tx-interval=200ms hold-time=600ms");
    expect(v).toContain('/ipv6/route/print where dst-address="::/0"');
    expect(v).toContain("fe80::1%wg-host");
    expect(v).toContain("/tool/ping address=2606:4700:4700::1111 count=3");
  });
});

describe("hostile names", () => {
  const site = (name: string, seg = "lan") => `site: ${JSON.stringify(name)}
prefix: 2001:db8::/48
vps: { endpoint: 203.0.113.1, nic: eth0 }
router: { platform: routeros, version: "7.22", bridge: bridge }
segments: [{ name: ${JSON.stringify(seg)}, index: 1, interface: bridge }]
failover: { mode: static }
`;
  it.each(['a"b', "x$[/system/reboot]", "a;b", "line\nbreak", "br[ack]et", "sp ace"])("a site named %j is refused by the schema with a clear error", (n) => {
    expect(() => parseSite(site(n), "site.yaml")).toThrow(UserError);
    try {
      parseSite(site(n), "site.yaml");
    } catch (e) {
      expect((e as UserError).diagnostics.some((d) => d.path === "site")).toBe(true);
    }
  });
  it.each(['a"b', "$x", "x;y"])("a segment named %j is refused too", (n) => {
    expect(() => parseSite(site("ok", n), "site.yaml")).toThrow(UserError);
  });
  it("even so, the tag function refuses such a name rather than writing it", () => {
    const p = planFor(recipe, "7.22.3");
    expect(() => render({ ...p, site: 'evil"site' })).toThrow(/tag parts/);
  });
});

describe("docs/targets/routeros.md", () => {
  it("lists every feature of the capability table with its first release", async () => {
    const { readFileSync } = await import("node:fs");
    const path = await import("node:path");
    const { repoRoot } = await import("./tree.js");
    const { formatRelease } = await import("../../src/targets/routeros/capabilities.js");
    const doc = readFileSync(path.join(repoRoot, "docs/targets/routeros.md"), "utf8");
    for (const f of FEATURES) {
      const head = "`" + f.what.split(" ")[0]! + "`";
      const row = doc.split("\n").find((l) => l.startsWith("|") && l.includes(head));
      expect(row, `a table row for ${f.id}`).toBeDefined();
      expect(row).toContain(`| ${formatRelease(f.since)} |`);
    }
  });
});
