// relay6 apply router against the RouterOS REST model, for every captured version, from
// defconf and from an empty router: the result equals importing the rendered .rsc into the
// import model, a second run sends nothing but reads, and the user's objects stay as they were.
import { afterEach, describe, expect, it } from "vitest";
import type { RunningModel } from "../fixtures/routeros-model/index.js";
import { ctx, freshRouter, render } from "../routeros/fixtures.js";
import type { RouterModel } from "../routeros/model.js";
import { managedMenus } from "../../src/targets/routeros/objects.js";
import type { Menu } from "../../src/targets/routeros/script.js";
import { capabilitiesOf, parseRelease } from "../../src/targets/routeros/capabilities.js";
import { sameValue } from "../../src/targets/routeros/apply/values.js";
import { TEST_ROUTER_PRIVATE_KEY } from "../routeros/fixtures.js";
import { USER_SCRIPT, VERSIONS, addCams, apply, changing, dropIot, foreign, planOf, snapshot, startRouter, toStatic } from "./helpers.js";
import type { Plan } from "../../src/plan/plan.js";

let m: RunningModel | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const tagged = (o: Record<string, string>) => (o.comment ?? "").startsWith("relay6:home:");

/** The import model after importing these setup scripts (and the same user objects). */
function imported(seed: "defconf" | "empty", plans: Plan[]): RouterModel {
  const im = freshRouter(plans[0]!.router.version!, seed === "defconf");
  im.import(USER_SCRIPT);
  for (const p of plans) im.import(render(p, ctx).setup!);
  return im;
}

/** relay6's objects in the REST model equal those the .rsc makes in the import model:
 *  same tags per menu, every value the script sets, and the firewall's order. */
function expectSameAsImport(m: RunningModel, im: RouterModel, version: string) {
  const menus: Menu[] = managedMenus(capabilitiesOf(parseRelease(version)!));
  for (const menu of menus) {
    const key = menu.slice(1);
    const rest = m.state.list(key).filter(tagged);
    const imp = im.list(key).map((o) => o.props).filter(tagged);
    const order = (xs: Record<string, string>[]) => xs.map((x) => x.comment!);
    if (menu.includes("firewall")) expect(order(rest), menu).toEqual(order(imp));
    else expect(order(rest).sort(), menu).toEqual(order(imp).sort());
    for (const want of imp) {
      const got = rest.find((x) => x.comment === want.comment)!;
      for (const [k, v] of Object.entries(want)) {
        if (menu === "/interface/wireguard" && k === "public-key") continue; // the import model fakes RouterOS's key
        expect(sameValue(got[k], v), `${menu} ${want.comment} ${k}: ${got[k]} vs ${v}`).toBe(true);
      }
    }
    // ND entries that are not relay6's (interface=all) keep their values in both.
  }
  // Firewall: what follows each of relay6's rules (its anchor, or the end).
  for (const table of ["ipv6/firewall/filter", "ipv6/firewall/mangle"]) {
    const next = (xs: Record<string, string>[]) =>
      xs.flatMap((x, i) => (tagged(x) ? [`${x.comment} -> ${xs.slice(i + 1).find((y) => !tagged(y))?.comment ?? "end"}`] : []));
    expect(next(m.state.list(table)), table).toEqual(next(im.list(table).map((o) => o.props)));
  }
}

describe("apply router: every version, defconf and empty", () => {
  for (const version of VERSIONS)
    for (const seed of ["defconf", "empty"] as const)
      it(`${version} from ${seed}: as the .rsc import would leave it; a second run changes nothing; user objects untouched`, async () => {
        m = await startRouter(version, seed);
        const before = snapshot(m, version);
        const plan = planOf(version);
        const first = await apply(m, plan, ctx);
        expect(first.result.outcome).toBe("applied");
        expect(first.result.changes.every((c) => c.action === "create")).toBe(true);
        expectSameAsImport(m, imported(seed, [plan]), version);
        const after = snapshot(m, version);
        expect(foreign(after)).toEqual(foreign(before));
        // The router's key is the one relay6 made (keys: relay6), and never shown.
        expect(m.state.list("interface/wireguard").find(tagged)!["private-key"]).toBe(TEST_ROUTER_PRIVATE_KEY);
        expect(JSON.stringify(first)).not.toContain(TEST_ROUTER_PRIVATE_KEY);
        expect(first.result.routerPublicKey).toBe(m.state.list("interface/wireguard").find(tagged)!["public-key"]);

        const writes = changing(m).length;
        const second = await apply(m, plan, ctx);
        expect(second.result.outcome).toBe("no-changes");
        expect(second.result.changes).toEqual([]);
        expect(changing(m).length).toBe(writes);
        expect(snapshot(m, version)).toEqual(after);
      });
});

describe("apply router: a changed site changes only relay6's objects", () => {
  for (const version of ["7.15", "7.19", "7.20.8", "7.24"])
    it(`${version}: segment added, static, segment removed, back to bgp-bfd — each as the .rsc imports leave it`, async () => {
      m = await startRouter(version, "defconf");
      const user = foreign(snapshot(m, version));
      const steps: Plan[] = [
        planOf(version),
        planOf(version, addCams),
        planOf(version, (s) => (addCams(s), toStatic(s))),
        planOf(version, (s) => (addCams(s), toStatic(s), dropIot(s))),
        planOf(version, dropIot),
      ];
      for (let i = 0; i < steps.length; i++) {
        const r = await apply(m, steps[i]!, ctx);
        expect(r.result.outcome, `step ${i}`).toBe("applied");
        if (i > 0) expect(r.result.changes.length).toBeLessThan(20); // diffs, not a re-install
        expectSameAsImport(m, imported("defconf", steps.slice(0, i + 1)), version);
        expect(foreign(snapshot(m, version))).toEqual(user);
        const writes = changing(m).length;
        expect((await apply(m, steps[i]!, ctx)).result.outcome).toBe("no-changes");
        expect(changing(m).length).toBe(writes);
      }
    });

  it("the inbound rule goes between relay6's accepts and its drop; a dry run sends nothing", async () => {
    const version = "7.22.3";
    m = await startRouter(version, "defconf");
    await apply(m, planOf(version), ctx);
    const writes = changing(m).length;
    const dry = await apply(m, planOf(version, addCams), ctx, { dryRun: true });
    expect(dry.result.outcome).toBe("dry-run");
    expect(changing(m).length).toBe(writes);
    expect(dry.result.changes.map((c) => `${c.action} ${c.menu} ${c.key}`)).toEqual([
      "create /ipv6/address addr:cams",
      "create /ipv6/nd nd:vlan20",
      "update /system/script drain", // the RA drain names every segment's interface
      "create /ipv6/firewall/filter fw:fwd-in:cams:web",
    ]);
    await apply(m, planOf(version, addCams), ctx);
    const fwd = m.state.list("ipv6/firewall/filter").filter((r) => r.chain === "forward").map((r) => r.comment!.split(";")[0]);
    const at = (c: string) => fwd.indexOf(c);
    expect(at("relay6:home:fw:fwd-icmpv6")).toBeLessThan(at("relay6:home:fw:fwd-in:cams:web"));
    expect(at("relay6:home:fw:fwd-in:cams:web")).toBeLessThan(at("relay6:home:fw:fwd-drop"));
    // relay6's drop sits right in front of defconf's first IPsec/HIP accept (HIP), so none of
    // them lets unsolicited packets from the tunnel through; the source check heads the chain.
    expect(at("relay6:home:fw:fwd-drop")).toBe(at("defconf: accept HIP") - 1);
    for (const c of ["defconf: accept HIP", "defconf: accept IKE", "defconf: accept ipsec AH", "defconf: accept ipsec ESP", "defconf: accept all that matches ipsec policy"])
      expect(at("relay6:home:fw:fwd-drop"), c).toBeLessThan(at(c));
    expect(fwd[0]).toBe("relay6:home:fw:fwd-src");
    const src = m.state.list("ipv6/firewall/filter").find((r) => r.comment?.startsWith("relay6:home:fw:fwd-src;"))!;
    expect(src).toMatchObject({ action: "reject", "reject-with": "icmp-admin-prohibited", "out-interface": "wg-host", "src-address": "!2401:4520:110b::/48" });
  });

  it("a rule an earlier install lacks (the source check) is created where the .rsc puts it, in one run", async () => {
    const version = "7.24";
    m = await startRouter(version, "defconf");
    await apply(m, planOf(version), ctx);
    const src = m.state.list("ipv6/firewall/filter").find((r) => r.comment?.startsWith("relay6:home:fw:fwd-src;"))!;
    expect(m.runScript(`/ipv6/firewall/filter/remove numbers=${src[".id"]}`).error).toBeUndefined();
    const r = await apply(m, planOf(version), ctx);
    expect(r.result.changes.map((c) => `${c.action} ${c.key}`)).toEqual(["create fw:fwd-src"]);
    expectSameAsImport(m, imported("defconf", [planOf(version)]), version);
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("no-changes");
  });

  it("a table that lists its forward rules before its input rules converges in one run; the next is a no-op", async () => {
    const version = "7.22.3";
    m = await startRouter(version, "defconf");
    expect(m.runScript("/ipv6/firewall/filter/move numbers=[find where chain=input]").error).toBeUndefined(); // input rules to the end
    const chains = m.state.list("ipv6/firewall/filter").map((r) => r.chain);
    expect(chains.indexOf("input")).toBeGreaterThan(chains.lastIndexOf("forward"));
    const first = await apply(m, planOf(version), ctx);
    expect(first.result.outcome).toBe("applied");
    expect(first.result.changes.every((c) => c.action === "create")).toBe(true);
    const writes = changing(m).length;
    const second = await apply(m, planOf(version), ctx);
    expect(second.result.outcome).toBe("no-changes");
    expect(changing(m).length).toBe(writes);
    // and relay6's rules stand where they belong in each chain
    const rules = m.state.list("ipv6/firewall/filter");
    const pos = (c: string) => rules.findIndex((r) => r.comment === c || r.comment?.startsWith(`${c};`));
    const inputDrop = rules.findIndex((r) => r.chain === "input" && r.comment === "defconf: drop everything else not coming from LAN");
    expect(pos("relay6:home:fw:in-bfd")).toBe(inputDrop - 1);
    expect(pos("relay6:home:fw:fwd-drop")).toBe(pos("defconf: accept HIP") - 1);
  });

  it("an existing ND entry for a segment's interface is set, not doubled, and keeps its comment", async () => {
    const version = "7.24";
    m = await startRouter(version, "defconf");
    expect(m.runScript('/ipv6/nd/add interface=bridge advertise-dns=no comment="my RA"').error).toBeUndefined();
    const r = await apply(m, planOf(version), ctx);
    expect(r.result.changes.find((c) => c.menu === "/ipv6/nd" && c.key === "interface=bridge")).toMatchObject({ action: "update", set: { "advertise-dns": "self" } });
    const nd = m.state.list("ipv6/nd").filter((n) => n.interface === "bridge");
    expect(nd).toHaveLength(1);
    expect(nd[0]).toMatchObject({ comment: "my RA", "advertise-dns": "self", mtu: "1420" });
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("no-changes");
  });

  for (const [version, how] of [["7.20.8", "dns= set to the router's address"], ["7.22.3", "PATCH dns=\"\""], ["7.24", "POST /ipv6/nd/unset"]] as const)
    it(`${version}: a user's RA entry keeps its M and O flags; a dns= list left on it goes (${how})`, async () => {
      m = await startRouter(version, "defconf");
      expect(m.runScript('/ipv6/nd/add interface=bridge managed-address-configuration=yes other-configuration=yes advertise-dns=yes dns=2001:db8::53 comment="my DHCPv6 RA"').error).toBeUndefined();
      const r = await apply(m, planOf(version), ctx);
      const change = r.result.changes.find((c) => c.menu === "/ipv6/nd" && c.key === "interface=bridge")!;
      expect(Object.keys(change.set!).sort()).toEqual(["advertise-dns", "dns", "mtu"].filter((k) => version !== "7.20.8" || k !== "advertise-dns"));
      const nd = m.state.list("ipv6/nd").find((n) => n.interface === "bridge")!;
      expect(nd).toMatchObject({ comment: "my DHCPv6 RA", "managed-address-configuration": "true", "other-configuration": "true", mtu: "1420" });
      if (version === "7.20.8") expect(nd).toMatchObject({ "advertise-dns": "yes", dns: "2401:4520:110b:1::1" });
      else expect(nd["advertise-dns"]).toBe("self");
      if (version === "7.22.3") expect(nd.dns).toBe("");
      if (version === "7.24") expect(nd.dns).toBeUndefined();
      const unsets = m.requests.filter((q) => q.method === "POST" && q.path === "/rest/ipv6/nd/unset");
      expect(unsets.length).toBe(version === "7.24" ? 1 : 0);
      expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("no-changes");
    });

  it("relay6 rules out of place (moved by hand behind the drop) are put back in front of it", async () => {
    const version = "7.21.4";
    m = await startRouter(version, "defconf");
    await apply(m, planOf(version), ctx);
    const rules = m.state.list("ipv6/firewall/filter");
    const icmp = rules.find((r) => r.comment?.startsWith("relay6:home:fw:in-icmpv6;"))!;
    expect(m.runScript(`/ipv6/firewall/filter/move numbers=${icmp[".id"]}`).error).toBeUndefined(); // to the end
    const r = await apply(m, planOf(version), ctx);
    expect(r.result.changes.some((c) => c.action === "move")).toBe(true);
    expectSameAsImport(m, imported("defconf", [planOf(version)]), version);
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("no-changes");
  });

  it("refuses before changing anything when an interface is missing or a hand-made object is in the way", async () => {
    const version = "7.22.3";
    m = await startRouter(version, "defconf");
    expect(m.runScript("/interface/wireguard/add name=wg-host listen-port=51820").error).toBeUndefined();
    const writes = changing(m).length;
    await expect(apply(m, planOf(version, (s) => s.segments.push({ name: "x", index: 0x30, interface: "vlan30" })), ctx)).rejects.toThrow(
      /interface vlan30 .* does not exist[\s\S]*wg-host exists and is not relay6's/,
    );
    expect(changing(m).length).toBe(writes);
  });

  it("refuses, before any change, a WireGuard port another interface already listens on (as the .rsc's guard does)", async () => {
    const version = "7.20.8";
    m = await startRouter(version, "defconf");
    expect(m.runScript("/interface/wireguard/set [find where name=wg-mine] listen-port=51820").error).toBeUndefined();
    const writes = changing(m).length;
    await expect(apply(m, planOf(version), ctx)).rejects.toThrow(/WireGuard interface wg-mine already listens on UDP 51820 \(wireguard.port\)/);
    expect(changing(m).length).toBe(writes);
    // relay6's own interface on that port is no conflict: a second run is a no-op
    expect(m.runScript("/interface/wireguard/set [find where name=wg-mine] listen-port=13231").error).toBeUndefined();
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("applied");
    expect((await apply(m, planOf(version), ctx)).result.outcome).toBe("no-changes");
  });
});
