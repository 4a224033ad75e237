// Importing the setup script into a model of RouterOS (objects keyed as RouterOS keys
// them): twice equals once, the undo takes away exactly what the setup added, the user's
// objects are never touched, and the firewall does what the issue asks.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { containsAddress, parseAddress6, parsePrefix6 } from "../../src/net/ipv6.js";
import type { Plan } from "../../src/plan/plan.js";
import { probeFigures } from "../../src/plan/bfd.js";
import { DEFCONF_DROP } from "../../src/targets/routeros/objects.js";
import { DEFCONF, GOLDEN_SITES, LAN_INTERFACES, ctx, freshRouter, planFor, render } from "./fixtures.js";
import { RouterModel, unmodelled, type Obj } from "./model.js";
import { allCommands, parse } from "./rsc.js";
import { capturedVersions, checkScript } from "./tree.js";

const recipe = GOLDEN_SITES["recipe-home"].file;
const staticSite = GOLDEN_SITES["static-inbound"].file;

const allCommandsOf = (script: string) => allCommands(parse(script));
const relay6 = (o: Obj, site = "home") => (o.props.comment ?? "").startsWith(`relay6:${site}:`);

/** A router with the user's own objects on it, beside defconf. */
function usedRouter(release: string, withDefconf = true): RouterModel {
  const m = freshRouter(release, withDefconf);
  m.import(`
/ipv6/address/add address=2001:db8:aaaa::1/64 interface=ether1 comment="my uplink"
/ipv6/firewall/filter/add chain=input action=accept protocol=tcp dst-port=22 in-interface=ether1 comment="my ssh"
/ipv6/route/add dst-address=2001:db8:bbbb::/48 gateway=2001:db8:aaaa::fe comment="my lab route"
/interface/wireguard/add name=wg-mine listen-port=13231 comment="my own tunnel"
`);
  return m;
}

const userObjects = (m: RouterModel, site = "home") =>
  Object.fromEntries(
    Object.entries(m.snapshot())
      .map(([k, objs]) => [k, objs.filter((p) => !(p.comment ?? "").startsWith(`relay6:${site}:`))] as const)
      .filter(([, objs]) => objs.length > 0),
  );

/** First-match walk of a filter chain: the verdict RouterOS would reach for a packet.
 *  Matchers relay6 and defconf use are modelled; a rule with any other matcher (address
 *  lists, hop-limit) is taken not to match these packets. */
interface Packet {
  chain: "input" | "forward";
  in: string;
  out?: string;
  state: "new" | "established" | "related" | "invalid";
  protocol: "tcp" | "udp" | "icmpv6" | "139" | "ipsec-esp" | "ipsec-ah";
  dstPort?: number;
  src: string;
  dst: string;
}
function verdict(m: RouterModel, p: Packet): { action: string; rule?: string } {
  const lan = new Set(LAN_INTERFACES);
  const inAddr = (spec: string, addr: string) => {
    const a = parseAddress6(addr)!;
    const pre = parsePrefix6(spec.includes("/") ? spec : `${spec}/128`);
    return pre.ok && containsAddress(pre.prefix, a);
  };
  const matchers: Record<string, (v: string) => boolean> = {
    chain: (v) => v === p.chain,
    "in-interface": (v) => v === p.in,
    "out-interface": (v) => v === p.out,
    "in-interface-list": (v) => (v === "!LAN" ? !lan.has(p.in) : v === "LAN" ? lan.has(p.in) : false),
    "connection-state": (v) => v.split(",").includes(p.state),
    protocol: (v) => v === p.protocol,
    "dst-port": (v) => p.dstPort !== undefined && v.split(",").some((r) => { const [lo, hi] = r.split("-").map(Number); return p.dstPort! >= lo! && p.dstPort! <= (hi ?? lo)!; }),
    "src-address": (v) => (v.startsWith("!") ? !inAddr(v.slice(1), p.src) : inAddr(v, p.src)),
    "reject-with": () => true, // how it answers, not what it matches
    "dst-address": (v) => inAddr(v, p.dst),
  };
  for (const r of m.list("ipv6/firewall/filter")) {
    const conds = Object.entries(r.props).filter(([k]) => k !== "action" && k !== "comment");
    if (conds.every(([k, v]) => matchers[k]?.(v) ?? false)) return { action: r.props.action! + (r.props["reject-with"] ? ` ${r.props["reject-with"]}` : ""), rule: r.props.comment };
  }
  return { action: "accept (chain policy)" };
}

function importTwice(plan: Plan, start: () => RouterModel) {
  const { setup } = render(plan, ctx);
  const once = start();
  once.import(setup!);
  const twice = once.clone();
  twice.import(setup!);
  return { once, twice, setup: setup! };
}

describe("import model", () => {
  it("models every command the scripts use", () => {
    for (const v of capturedVersions()) {
      const f = render(planFor(recipe, v), ctx);
      for (const s of [f.setup!, f.undo!, f.verify!]) expect(unmodelled(s)).toEqual([]);
    }
  });

  it("RouterOS keys are enforced: a second ND entry for an interface is refused (control)", () => {
    const m = freshRouter("7.22.3");
    m.import("/ipv6/nd/add interface=bridge");
    expect(() => m.import("/ipv6/nd/add interface=bridge")).toThrow(/already exists/);
    expect(() => m.import("/ipv6/address/add address=2001:db8::1/64 interface=nosuch")).toThrow(/interface/);
  });

  for (const v of capturedVersions())
    for (const [name, file] of [["recipe-home", recipe], ["static-inbound", staticSite]] as const)
      it(`${name} @ ${v}: importing twice leaves what importing once left`, () => {
        const site = name === "recipe-home" ? "home" : "lab.2";
        const { once, twice } = importTwice(planFor(file, v), () => usedRouter(v));
        expect(twice.snapshot()).toEqual(once.snapshot());
        // and the first import really did something
        const ours = [...once.menus.values()].flat().filter((o) => relay6(o, site));
        expect(ours.length).toBeGreaterThan(10);
      });

  it("no duplicates: one of each object, as many firewall rules as the plan has", () => {
    const plan = planFor(recipe, "7.22.3");
    const { twice } = importTwice(plan, () => freshRouter("7.22.3"));
    const count = (menu: string) => twice.list(menu).filter((o) => relay6(o)).length;
    expect(count("interface/wireguard")).toBe(1);
    expect(count("interface/wireguard/peers")).toBe(1);
    expect(count("ipv6/address")).toBe(1 + plan.segments.length); // transit + GUA per segment (no ULA in the recipe file)
    expect(count("ipv6/nd")).toBe(3);
    expect(count("routing/bgp/instance")).toBe(1);
    expect(count("routing/bgp/template")).toBe(1);
    expect(count("routing/bgp/connection")).toBe(1);
    expect(count("routing/bfd/configuration")).toBe(1);
    expect(count("ipv6/route")).toBe(0); // bgp-bfd: the BGP route owns ::/0
    expect(count("ipv6/firewall/filter")).toBe(3 + 4); // input: icmpv6, bgp, bfd; forward: source check, replies, icmpv6, drop
    expect(count("ipv6/firewall/mangle")).toBe(2);
  });

  it("the user's objects are untouched by setup and by undo; undo removes exactly what setup added", () => {
    for (const v of capturedVersions())
      for (const [file, site] of [[recipe, "home"], [staticSite, "lab.2"]] as const) {
        const before = usedRouter(v);
        const files = render(planFor(file, v), ctx);
        const after = before.clone();
        after.import(files.setup!);
        expect(userObjects(after, site)).toEqual(userObjects(before, site));
        after.import(files.undo!);
        expect(after.snapshot()).toEqual(before.snapshot());
      }
  });

  it("an ND entry the user already had is set, not duplicated, and survives undo", () => {
    const before = usedRouter("7.22.3");
    before.import(`/ipv6/nd/add interface=vlan10 ra-interval=20s-60s comment="my guest RA"`);
    const files = render(planFor(recipe, "7.22.3"), ctx);
    const m = before.clone();
    m.import(files.setup!);
    m.import(files.setup!);
    const guest = m.list("ipv6/nd").filter((o) => o.props.interface === "vlan10");
    expect(guest).toHaveLength(1);
    expect(guest[0]!.props).toMatchObject({ comment: "my guest RA", "ra-interval": "20s-60s", "advertise-dns": "self", mtu: "1420" });
    m.import(files.undo!);
    expect(m.list("ipv6/nd").filter((o) => o.props.interface === "vlan10")).toHaveLength(1);
  });

  it("firewall rules sit before defconf's drop in both chains", () => {
    const { once } = importTwice(planFor(recipe, "7.22.3"), () => usedRouter("7.22.3"));
    for (const chain of ["input", "forward"]) {
      const rules = once.list("ipv6/firewall/filter").filter((r) => r.props.chain === chain);
      const drop = rules.findIndex((r) => r.props.comment === DEFCONF_DROP);
      const ours = rules.map((r, i) => (relay6(r) ? i : -1)).filter((i) => i >= 0);
      expect(ours.length).toBeGreaterThan(0);
      expect(Math.max(...ours)).toBeLessThan(drop);
    }
  });

  it("without defconf the rules land at the end of the chain and still act", () => {
    const { once, twice } = importTwice(planFor(recipe, "7.22.3"), () => usedRouter("7.22.3", false));
    expect(twice.snapshot()).toEqual(once.snapshot());
    const p = planFor(recipe, "7.22.3");
    const wg = p.router.tunnelInterface;
    expect(verdict(once, { chain: "input", in: wg, state: "new", protocol: "tcp", dstPort: 179, src: p.transit.vps.address, dst: p.transit.router.address }).action).toBe("accept");
    expect(verdict(once, { chain: "forward", in: wg, out: "bridge", state: "new", protocol: "tcp", dstPort: 22, src: "2001:db8:ffff::1", dst: p.segments[0]!.router.address }).action).toBe("drop");
  });

  it("without defconf but with the user's own drop rules, the rules land in front of the first one", () => {
    const p = planFor(recipe, "7.22.3");
    const wg = p.router.tunnelInterface;
    const start = () => {
      const m = freshRouter("7.22.3", false);
      m.import(`
/ipv6/firewall/filter/add chain=input action=accept connection-state=established,related comment="mine: replies"
/ipv6/firewall/filter/add chain=input action=drop comment="mine: drop the rest"
/ipv6/firewall/filter/add chain=forward action=drop in-interface=ether1 comment="mine: no WAN in"
/ipv6/firewall/filter/add chain=forward action=drop comment="mine: drop the rest"
`);
      return m;
    };
    const { once, twice } = importTwice(p, start);
    expect(twice.snapshot()).toEqual(once.snapshot());
    const input = once.list("ipv6/firewall/filter").filter((r) => r.props.chain === "input").map((r) => r.props.comment!.split(";")[0]);
    expect(input).toEqual(["mine: replies", "relay6:home:fw:in-icmpv6", "relay6:home:fw:in-bgp", "relay6:home:fw:in-bfd", "mine: drop the rest"]);
    expect(verdict(once, { chain: "input", in: wg, state: "new", protocol: "tcp", dstPort: 179, src: p.transit.vps.address, dst: p.transit.router.address }).action).toBe("accept");
    expect(verdict(once, { chain: "input", in: wg, state: "new", protocol: "udp", dstPort: 3784, src: p.transit.vps.address, dst: p.transit.router.address }).action).toBe("accept");
  });

  describe("what the firewall does with the tunnel's traffic", () => {
    const cases = [
      { defconf: true, label: "with defconf" },
      { defconf: false, label: "without defconf" },
    ];
    for (const { defconf, label } of cases) {
      it(`${label}: unsolicited inbound to the LAN is dropped, replies and ICMPv6 pass`, () => {
        const p = planFor(recipe, "7.22.3");
        const wg = p.router.tunnelInterface;
        const m = freshRouter("7.22.3", defconf);
        m.import(render(p, ctx).setup!);
        const lanHost = "2401:4520:110b:1::abcd";
        const out = (state: Packet["state"], protocol: Packet["protocol"], dstPort?: number) =>
          verdict(m, { chain: "forward", in: wg, out: "bridge", state, protocol, dstPort, src: "2001:db8:ffff::1", dst: lanHost }).action;
        expect(out("new", "tcp", 22)).toBe("drop");
        expect(out("new", "udp", 53)).toBe("drop");
        expect(out("established", "tcp", 22)).toBe("accept");
        expect(out("related", "icmpv6")).toBe("accept");
      });

      it(`${label}: the input chain takes BGP, BFD and ICMPv6 from the VPS, not SSH`, () => {
        const p = planFor(recipe, "7.22.3");
        const wg = p.router.tunnelInterface;
        const m = freshRouter("7.22.3", defconf);
        m.import(render(p, ctx).setup!);
        const inp = (protocol: Packet["protocol"], dstPort?: number) =>
          verdict(m, { chain: "input", in: wg, state: "new", protocol, dstPort, src: p.transit.vps.address, dst: p.transit.router.address });
        expect(inp("tcp", 179).action).toBe("accept");
        expect(inp("udp", 3784).action).toBe("accept");
        expect(inp("icmpv6").action).toBe("accept");
        // SSH from the tunnel: defconf's drop gets it; without defconf nothing relay6 adds accepts it.
        const ssh = inp("tcp", 22);
        if (defconf) expect(ssh).toEqual({ action: "drop", rule: DEFCONF_DROP });
        else expect(ssh.rule ?? "").not.toMatch(/^relay6:/);
      });
    }

    it("with defconf: unsolicited HIP, IKE, AH and ESP from the tunnel are dropped by relay6's rule, ahead of defconf's accepts", () => {
      const p = planFor(recipe, "7.22.3");
      const wg = p.router.tunnelInterface;
      const m = freshRouter("7.22.3");
      m.import(render(p, ctx).setup!);
      const lanHost = "2401:4520:110b:1::abcd";
      for (const [protocol, dstPort] of [["139"], ["ipsec-esp"], ["ipsec-ah"], ["udp", 500], ["udp", 4500]] as const)
        expect(verdict(m, { chain: "forward", in: wg, out: "bridge", state: "new", protocol, dstPort, src: "2001:db8:ffff::1", dst: lanHost }), `${protocol} ${dstPort ?? ""}`).toEqual({
          action: "drop",
          rule: expect.stringMatching(/^relay6:home:fw:fwd-drop;/),
        });
      // defconf still accepts them between LAN segments (not from the tunnel)
      expect(verdict(m, { chain: "forward", in: "vlan10", out: "bridge", state: "new", protocol: "ipsec-esp", src: "2401:4520:110b:10::5", dst: lanHost }).rule).toBe("defconf: accept ipsec ESP");
    });

    it("a defconf variant with other comments: relay6 still anchors on what the accepts accept", () => {
      const p = planFor(recipe, "7.22.3");
      const wg = p.router.tunnelInterface;
      const m = new RouterModel(["ether1", ...LAN_INTERFACES], "7.22.3");
      m.import(
        DEFCONF.replace(/defconf: accept ipsec (AH|ESP)/g, "defconf: accept $1")
          .replace("defconf: accept HIP", "hip in")
          .replaceAll("defconf: drop everything else not coming from LAN", "defconf: drop all not coming from LAN"),
      );
      m.import(render(p, ctx).setup!);
      const fwd = m.list("ipv6/firewall/filter").filter((r) => r.props.chain === "forward").map((r) => r.props.comment!.split(";")[0]);
      expect(fwd.indexOf("relay6:home:fw:fwd-drop")).toBe(fwd.indexOf("hip in") - 1);
      for (const protocol of ["139", "ipsec-esp", "ipsec-ah"] as const)
        expect(verdict(m, { chain: "forward", in: wg, out: "bridge", state: "new", protocol, src: "2001:db8:ffff::1", dst: "2401:4520:110b:1::abcd" }).action).toBe("drop");
    });

    for (const { defconf, label } of cases)
      it(`${label}: LAN traffic into the tunnel from a source outside the prefix is refused (admin-prohibited), from inside it passes`, () => {
        const p = planFor(recipe, "7.22.3");
        const wg = p.router.tunnelInterface;
        const m = freshRouter("7.22.3", defconf);
        m.import(render(p, ctx).setup!);
        const out = (src: string, protocol: Packet["protocol"], state: Packet["state"] = "new") =>
          verdict(m, { chain: "forward", in: "bridge", out: wg, state, protocol, dstPort: 443, src, dst: "2606:4700:4700::1111" });
        for (const src of ["2001:db8:ffff::1", "fd12:3456:789a:1::5", "2401:4520:110c::1"])
          for (const protocol of ["tcp", "icmpv6"] as const) {
            expect(out(src, protocol), `${src} ${protocol}`).toEqual({ action: "reject icmp-admin-prohibited", rule: expect.stringMatching(/^relay6:home:fw:fwd-src;/) });
            expect(out(src, protocol, "established").action).toBe("reject icmp-admin-prohibited");
          }
        for (const src of ["2401:4520:110b:1::abcd", "2401:4520:110b:11::7"]) expect(out(src, "tcp").action, src).toMatch(/^accept/);
        // the first rule of the forward chain: nothing of defconf's can accept it first
        expect(m.list("ipv6/firewall/filter").find((r) => r.props.chain === "forward")!.props.comment).toMatch(/^relay6:home:fw:fwd-src;/);
      });

    it("an inbound service opens exactly its port to exactly its host", () => {
      const p = planFor(staticSite, "7.22.3");
      const wg = p.router.tunnelInterface;
      const m = freshRouter("7.22.3");
      m.import(render(p, ctx).setup!);
      const to = (dst: string, dstPort: number) =>
        verdict(m, { chain: "forward", in: wg, out: "bridge", state: "new", protocol: "tcp", dstPort, src: "2001:db8:ffff::1", dst }).action;
      expect(to("2001:db8:4400:1::80", 443)).toBe("accept");
      expect(to("2001:db8:4400:1::80", 22)).toBe("drop");
      expect(to("2001:db8:4400:1::81", 443)).toBe("drop");
    });

    it("acceptAllFromTunnel: one accept-all input rule instead of the three", () => {
      const p = planFor(recipe, "7.22.3", (x) => ({ ...x, router: { ...x.router, acceptAllFromTunnel: true } }));
      const m = freshRouter("7.22.3");
      m.import(render(p, ctx).setup!);
      const ours = m.list("ipv6/firewall/filter").filter((r) => relay6(r) && r.props.chain === "input");
      expect(ours.map((r) => r.props)).toEqual([{ chain: "input", action: "accept", "in-interface": "wg-host", comment: expect.stringMatching(/^relay6:home:fw:in-all;/) }]);
    });
  });

  it("switching failover mode converges: static → bgp-bfd removes the static route, and back", () => {
    const bgp = planFor(recipe, "7.22.3");
    const stat: Plan = { ...bgp, failover: { mode: "static", probe: probeFigures(4) }, transit: { ...bgp.transit } };
    const m = freshRouter("7.22.3");
    m.import(render(stat, ctx).setup!);
    expect(m.list("ipv6/route").filter((o) => relay6(o))).toHaveLength(1);
    expect(m.list("ipv6/route")[0]!.props).toMatchObject({ "dst-address": "::/0", gateway: "2401:4520:110b::1%wg-host", "check-gateway": "ping" });
    m.import(render(bgp, ctx).setup!);
    expect(m.list("ipv6/route").filter((o) => relay6(o))).toHaveLength(0);
    expect(m.list("routing/bgp/connection").filter((o) => relay6(o))).toHaveLength(1);
    m.import(render(stat, ctx).setup!);
    for (const menu of ["routing/bgp/connection", "routing/bgp/template", "routing/bgp/instance", "routing/bfd/configuration"])
      expect(m.list(menu).filter((o) => relay6(o)), menu).toHaveLength(0);
    const fresh = freshRouter("7.22.3");
    fresh.import(render(stat, ctx).setup!);
    expect(m.snapshot()).toEqual(fresh.snapshot());
  });

  it("dropping segments from the site file removes their addresses and RA entries on the next import", () => {
    const full = planFor(recipe, "7.22.3");
    const lanOnly: Plan = { ...full, segments: full.segments.slice(0, 1) };
    const m = usedRouter("7.22.3");
    m.import(render(full, ctx).setup!);
    m.import(render(lanOnly, ctx).setup!);
    const fresh = usedRouter("7.22.3");
    fresh.import(render(lanOnly, ctx).setup!);
    const ids = (x: RouterModel) => x.snapshot();
    // same objects as a router that only ever saw the smaller site (the WireGuard key aside)
    const strip = (snap: ReturnType<RouterModel["snapshot"]>) =>
      JSON.parse(JSON.stringify(snap).replace(/ROUTER-PUBLIC-KEY-\d+/g, "K")) as unknown;
    expect(strip(ids(m))).toEqual(strip(ids(fresh)));
    expect(m.list("ipv6/address").filter((o) => relay6(o)).map((o) => o.props.address)).toEqual(["2401:4520:110b::2/64", "2401:4520:110b:1::1/64"]);
  });

  it("a new VPS key is set on the existing peer, not added as a second one", () => {
    const p = planFor(recipe, "7.22.3");
    const m = freshRouter("7.22.3");
    m.import(render(p, ctx).setup!);
    m.import(render({ ...p, vps: { ...p.vps, publicKey: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" } }, { ...ctx, secrets: {} }).setup!);
    const peers = m.list("interface/wireguard/peers");
    expect(peers).toHaveLength(1);
    expect(peers[0]!.props["public-key"]).toBe("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=");
  });

  it("prints the router's public key (the VPS needs it; RouterOS made it)", () => {
    const m = freshRouter("7.22.3");
    m.import(render(planFor(recipe, "7.22.3"), ctx).setup!);
    expect(m.output.at(-1)).toBe(m.list("interface/wireguard")[0]!.props["public-key"]);
  });

  it("the defconf fixture is what the tests meet", () => {
    expect(DEFCONF).toContain(DEFCONF_DROP);
    expect(freshRouter("7.22.3").list("ipv6/firewall/filter").filter((r) => r.props.comment === DEFCONF_DROP)).toHaveLength(2);
  });
});

describe("an RA entry relay6 did not create", () => {
  const user = `/ipv6/nd/add interface=bridge managed-address-configuration=yes other-configuration=yes advertise-dns=yes dns=2001:db8::53 comment="my DHCPv6 RA"`;
  for (const [v, dns] of [["7.20.8", "2401:4520:110b:1::1"], ["7.22.3", undefined], ["7.24", undefined]] as const)
    it(`${v}: keeps its M and O flags; advertise-dns=${v === "7.20.8" ? "yes with the router's address" : "self, its dns= list cleared"}`, () => {
      const m = freshRouter(v);
      m.import(user);
      m.import(render(planFor(recipe, v), ctx).setup!);
      const bridge = m.list("ipv6/nd").find((o) => o.props.interface === "bridge")!.props;
      expect(bridge).toMatchObject({ comment: "my DHCPv6 RA", "managed-address-configuration": "yes", "other-configuration": "yes", mtu: "1420" });
      expect(bridge["advertise-dns"]).toBe(dns ? "yes" : "self");
      expect(bridge.dns).toBe(dns);
      // the entries relay6 made have both flags off
      const made = m.list("ipv6/nd").find((o) => o.props.interface === "vlan10")!.props;
      expect(made).toMatchObject({ "managed-address-configuration": "no", "other-configuration": "no" });
    });

  it("the dns= list is cleared with unset from 7.23, with dns=\"\" before (no unset there)", () => {
    const nd = (v: string) => allCommandsOf(render(planFor(recipe, v), ctx).setup!).filter((c) => c.menu.join("/") === "ipv6/nd");
    expect(nd("7.24").filter((c) => c.verb === "unset").length).toBe(3);
    expect(nd("7.22.3").filter((c) => c.verb === "unset")).toEqual([]);
    expect(nd("7.22.3").filter((c) => c.verb === "set" && c.args.some((a) => a.name === "dns" && a.value?.kind === "str" && a.value.text === "")).length).toBe(3);
  });
});

describe("router.management.fromVps: REST through the tunnel, from the VPS's transit address only", () => {
  const withMgmt = (mgmt: Record<string, unknown> | undefined): string => {
    const dir = mkdtempSync(join(tmpdir(), "relay6-mgmt-"));
    const doc = parseYaml(readFileSync(recipe, "utf8")) as Record<string, Record<string, unknown>>;
    const file = join(dir, "home.yaml");
    writeFileSync(file, stringifyYaml({ ...doc, router: { ...doc.router, ...(mgmt ? { management: mgmt } : {}) } }));
    return file;
  };

  it("one tagged input rule in front of defconf's drop: www-ssl from the VPS's ::1 accepted, from anyone else dropped", () => {
    const p = planFor(withMgmt({ fromVps: true }), "7.22.3");
    const wg = p.router.tunnelInterface;
    const { once, twice, setup } = importTwice(p, () => usedRouter("7.22.3"));
    expect(twice.snapshot()).toEqual(once.snapshot());
    expect(setup).toContain('comment="relay6:home:fw:in-mgmt; accept REST (www-ssl) on TCP 443 from the VPS');
    const rule = once.list("ipv6/firewall/filter").find((r) => (r.props.comment ?? "").startsWith("relay6:home:fw:in-mgmt;"))!;
    const { comment: _c, ...props } = rule.props;
    expect(props).toEqual({ chain: "input", action: "accept", protocol: "tcp", "dst-port": "443", "src-address": p.transit.vps.address, "in-interface": wg });
    const rest = (src: string, port = 443) => verdict(once, { chain: "input", in: wg, state: "new", protocol: "tcp", dstPort: port, src, dst: p.transit.router.address });
    expect(rest(p.transit.vps.address)).toMatchObject({ action: "accept", rule: expect.stringMatching(/^relay6:home:fw:in-mgmt;/) });
    expect(rest("2001:db8:ffff::1")).toMatchObject({ action: "drop", rule: DEFCONF_DROP });
    expect(rest(p.transit.vps.address, 22).action).toBe("drop");
    const off = importTwice(planFor(withMgmt(undefined), "7.22.3"), () => usedRouter("7.22.3")).once;
    expect(verdict(off, { chain: "input", in: wg, state: "new", protocol: "tcp", dstPort: 443, src: p.transit.vps.address, dst: p.transit.router.address })).toMatchObject({ action: "drop", rule: DEFCONF_DROP });
    // The undo takes it away with the rest.
    const undone = once.clone();
    undone.import(render(p, ctx).undo!);
    expect(undone.list("ipv6/firewall/filter").some((r) => relay6(r))).toBe(false);
  });

  it("a chosen port; every release's command tree takes the rule", () => {
    for (const v of capturedVersions()) {
      const p = planFor(withMgmt({ fromVps: true, port: 8443 }), v);
      const stmts = parse(render(p, ctx).setup!);
      expect(checkScript(stmts, v), v).toEqual([]);
      expect(render(p, ctx).setup!).toContain("dst-port=8443");
    }
  });
});
