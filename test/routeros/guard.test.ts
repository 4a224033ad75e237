// The checks the setup and undo scripts make before their first change: the release they
// were rendered for (users upgrade RouterOS after rendering) and a free WireGuard port.
// Each is a `:error` that stops the import with nothing changed.
import { describe, expect, it } from "vitest";
import { releaseMatches, releasePattern } from "../../src/targets/routeros/capabilities.js";
import { GOLDEN_SITES, ctx, freshRouter, planFor, render } from "./fixtures.js";
import { ScriptError } from "./model.js";
import { parse, type Command, type Stmt, type Value } from "./rsc.js";
import { capturedVersions } from "./tree.js";

const recipe = GOLDEN_SITES["recipe-home"].file;
const versions = capturedVersions();

/** `:if (<cond>) do={ :error "..." }`, nothing else in it. */
function stops(s: Stmt | undefined): { cond: Value; message: string } | undefined {
  if (!s || s.kind !== "if" || s.else.length !== 0 || s.then.length !== 1) return undefined;
  const e = s.then[0] as Command;
  if (e.kind !== "cmd" || e.verb !== "error" || e.menu.length !== 0) return undefined;
  const m = e.args.find((a) => a.name === "message")?.value;
  return m && m.kind === "str" ? { cond: s.cond, message: m.text } : undefined;
}

/** The release guard's shape: !([/system/resource/get version] ~ "<pattern>"). */
function releaseGuardPattern(cond: Value): string | undefined {
  if (cond.kind !== "expr" || cond.op !== "!") return undefined;
  const cmp = cond.args[0];
  if (cmp?.kind !== "expr" || cmp.op !== "~") return undefined;
  const [left, right] = cmp.args as [Value, Value];
  if (left.kind !== "sub" || left.stmts.length !== 1) return undefined;
  const get = left.stmts[0] as Command;
  if (get.menu.join("/") !== "system/resource" || get.verb !== "get") return undefined;
  const name = get.args.find((a) => a.name === "value-name")?.value;
  return name?.kind === "word" && name.text === "version" && right.kind === "str" ? right.text : undefined;
}

describe("release guard", () => {
  for (const [name, site] of Object.entries(GOLDEN_SITES))
    for (const v of versions)
      it(`${name} @ ${v}: the setup's and the undo's first statement stops unless the router runs ${v}`, () => {
        const files = render(planFor(site.file, v), site.ctx);
        for (const [kind, text] of [["setup", files.setup!], ["undo", files.undo!]] as const) {
          const guard = stops(parse(text)[0]);
          expect(guard, kind).toBeDefined();
          expect(releaseGuardPattern(guard!.cond), kind).toBe(releasePattern(v));
          expect(guard!.message).toMatch(/^relay6: this script is for RouterOS .* set router\.version/);
        }
      });

  for (const v of versions)
    it(`${v}: a router on another release stops the import at the guard, nothing changed (setup and undo)`, () => {
      const files = render(planFor(recipe, v), ctx);
      for (const other of versions.filter((x) => x !== v)) {
        const m = freshRouter(other);
        const before = m.snapshot();
        expect(() => m.import(files.setup!), `setup for ${v} on ${other}`).toThrow(ScriptError);
        expect(() => m.clone().import(files.setup!)).toThrow(/this script is for RouterOS 7\.\d+(\.\d+|\.x)? and the router runs another release/);
        expect(m.snapshot()).toEqual(before);
        expect(m.output).toEqual([]);
      }
      // Installed on v, then the router was upgraded: the undo refuses too.
      const m = freshRouter(v);
      m.import(files.setup!);
      const installed = m.snapshot();
      const upgraded = m.cloneAs(v === "7.24" ? "7.22.3" : "7.24");
      expect(() => upgraded.import(files.undo!)).toThrow(ScriptError);
      expect(upgraded.snapshot()).toEqual(installed);
      // and on the release it was made for, it runs
      m.import(files.undo!);
      expect(m.snapshot()).toEqual(freshRouter(v).snapshot());
    });

  it('"7.22" takes any 7.22.x (7.22.0 prints as "7.22"); "7.22.3" only 7.22.3', () => {
    const minor = render(planFor(recipe, "7.22"), ctx).setup!;
    for (const r of ["7.22", "7.22.3", "7.22.10"]) expect(() => freshRouter(r).import(minor), r).not.toThrow();
    for (const r of ["7.23", "7.2", "7.21.4", "7.220"]) expect(() => freshRouter(r).import(minor), r).toThrow(ScriptError);
    const exact = render(planFor(recipe, "7.22.3"), ctx).setup!;
    for (const r of ["7.22", "7.22.2", "7.22.30"]) expect(() => freshRouter(r).import(exact), r).toThrow(ScriptError);
  });

  it("the pattern agrees with releaseMatches (what apply refuses)", () => {
    const sites = ["7.15", "7.22", "7.22.0", "7.22.3", "7.24"];
    const routers = ["7.15", "7.15.1", "7.16", "7.22", "7.22.0", "7.22.3", "7.22.30", "7.2", "7.24", "7.24.9", "7.23beta2", "7.220"];
    for (const s of sites)
      for (const r of routers)
        expect(new RegExp(releasePattern(s)).test(`${r} (stable)`), `${s} vs ${r}`).toBe(releaseMatches(s, r));
  });
});

describe("WireGuard port guard", () => {
  it("another interface on wireguard.port stops the setup before any change", () => {
    const p = planFor(recipe, "7.22.3");
    const m = freshRouter("7.22.3");
    m.import(`/interface/wireguard/add name=wg-mine listen-port=${p.wireguard.port} comment="my own tunnel"`);
    const before = m.snapshot();
    expect(() => m.import(render(p, ctx).setup!)).toThrow(new RegExp(`another WireGuard interface on the router already listens on UDP ${p.wireguard.port}`));
    expect(m.snapshot()).toEqual(before);
  });

  it("one on another port, and relay6's own from an earlier import, do not", () => {
    const p = planFor(recipe, "7.22.3");
    const m = freshRouter("7.22.3");
    m.import(`/interface/wireguard/add name=wg-mine listen-port=${p.wireguard.port + 1}`);
    m.import(render(p, ctx).setup!);
    expect(() => m.import(render(p, ctx).setup!)).not.toThrow();
  });

  it("is the setup's second statement, before its first change (step 1 too)", () => {
    for (const site of [recipe, GOLDEN_SITES["device-step1"].file]) {
      const stmts = parse(render(planFor(site, "7.22.3"), ctx).setup!);
      expect(stops(stmts[1])?.message).toMatch(/already listens on UDP/);
    }
  });
});
