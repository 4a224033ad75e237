// Every golden site, rendered for every RouterOS version with a captured command tree,
// must use only menus, commands and arguments that version has, with the arguments
// RouterOS requires and values deep-inspect allows.
import { describe, expect, it } from "vitest";
import { parseRelease, isSupported } from "../../src/targets/routeros/capabilities.js";
import { GOLDEN_SITES, planFor, render } from "./fixtures.js";
import { allCommands, parse } from "./rsc.js";
import { capturedVersions, checkScript } from "./tree.js";

const versions = capturedVersions();

describe("tree check", () => {
  it("has the captured trees the issue names", () => {
    expect(versions).toEqual(["7.15", "7.18.2", "7.19", "7.20.8", "7.21.4", "7.22.3", "7.24"]);
    for (const v of versions) expect(isSupported(parseRelease(v)!)).toBe(true);
  });

  for (const [name, site] of Object.entries(GOLDEN_SITES))
    for (const v of versions)
      it(`${name} for RouterOS ${v}: every script passes ${v}'s tree`, () => {
        const files = render(planFor(site.file, v), site.ctx);
        for (const [kind, text] of Object.entries(files)) {
          if (text === undefined) continue;
          const stmts = parse(text);
          expect(allCommands(stmts).length, `${kind} has commands`).toBeGreaterThan(0);
          expect(checkScript(stmts, v), `${kind} for ${v}`).toEqual([]);
        }
      });

  // Controls: the checker finds real version differences, so the passes above mean something.
  it("a 7.22 script fails the 7.15 tree (no BGP instance, no afi=)", () => {
    const s = render(planFor(GOLDEN_SITES["recipe-home"].file, "7.22.3")).setup!;
    const what = checkScript(parse(s), "7.15").map((f) => f.what);
    expect(what).toContain("/routing/bgp/instance/add: menu /routing/bgp/instance does not exist in 7.15");
    expect(what).toContain("/routing/bgp/connection/add: no argument afi in 7.15");
  });

  it("a 7.15 script fails the 7.22.3 tree (router-id and address-families moved, instance required)", () => {
    const s = render(planFor(GOLDEN_SITES["recipe-home"].file, "7.15")).setup!;
    const what = checkScript(parse(s), "7.22.3").map((f) => f.what);
    expect(what).toContain("/routing/bgp/connection/add: no argument router-id in 7.22.3");
    expect(what).toContain("/routing/bgp/connection/add: no argument address-families in 7.22.3");
    expect(what).toContain("/routing/bgp/connection/add: required argument instance missing (7.22.3)");
  });

  it("values outside deep-inspect's completions are caught", () => {
    const s = render(planFor(GOLDEN_SITES["recipe-home"].file, "7.22.3")).setup!;
    const bad = s.replace("advertise-dns=self", "advertise-dns=maybe").replace("check-gateway", "x").replace("local.role=ebgp", "local.role=ebgpx");
    const what = checkScript(parse(bad), "7.22.3").map((f) => f.what);
    expect(what).toContain("/ipv6/nd/add: advertise-dns=maybe is not one of no|self|yes");
    expect(what.some((w) => w.includes("local.role=ebgpx"))).toBe(true);
  });

  it("a missing required argument is caught", () => {
    const s = "/interface/wireguard/peers/add interface=wg-host public-key=\"x\"";
    expect(checkScript(parse(s), "7.22.3").map((f) => f.what)).toEqual([
      "/interface/wireguard/peers/add: required argument allowed-address missing (7.22.3)",
    ]);
  });

  it("/ping is gone from the 7.24 tree; relay6 uses /tool/ping", () => {
    expect(checkScript(parse("/ping address=::1 count=1"), "7.24")).not.toEqual([]);
    expect(checkScript(parse("/tool/ping address=::1 count=1"), "7.24")).toEqual([]);
  });
});
