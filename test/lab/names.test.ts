// Lab names and the namespaces they own: one lab's `down` must never touch another's.
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { checkLabName, clientRole, isLabNamespace, nsName, routerRole } from "../../src/lab/state.js";
import { stats } from "../../src/lab/failover.js";

describe("lab names", () => {
  it("a lab owns exactly its roles' namespaces", () => {
    expect(isLabNamespace("a", nsName("a", "inet"))).toBe(true);
    expect(isLabNamespace("a", "r6-a-c12")).toBe(true);
    expect(isLabNamespace("a", "r6-a-b-inet")).toBe(false); // lab "a-b"
    expect(isLabNamespace("a", "r6-ab-inet")).toBe(false);
    expect(isLabNamespace("a", "r6-a-")).toBe(false);
    expect(isLabNamespace("a", "other")).toBe(false);
  });

  it("a relay lab's sites: the first site's roles as a standalone site's, the others' numbered", () => {
    expect([0, 1, 2].map(routerRole)).toEqual(["rtr", "rtr2", "rtr3"]);
    expect([clientRole(0, 0), clientRole(0, 1), clientRole(1, 0), clientRole(2, 1)]).toEqual(["c1", "c2", "s2c1", "s3c2"]);
    for (const role of ["rtr2", "rtr3", "s2c1", "s3c2"]) expect(isLabNamespace("a", nsName("a", role)), role).toBe(true);
    expect(isLabNamespace("a", "r6-a-rtrx")).toBe(false);
  });

  it("names that would not make usable namespace or interface names are refused", () => {
    for (const bad of ["", "A", "-x", "x/y", "much-too-long-name", "a b"]) expect(() => checkLabName(bad), bad).toThrow(UserError);
    for (const good of ["lab", "b1x", "ci-2"]) expect(checkLabName(good)).toBe(good);
  });
});

describe("failover statistics", () => {
  it("min, median (mean of the middle two for an even count), max", () => {
    expect(stats([5])).toEqual({ min: 5, median: 5, max: 5 });
    expect(stats([900, 100, 500])).toEqual({ min: 100, median: 500, max: 900 });
    expect(stats([4, 1, 3, 2])).toEqual({ min: 1, median: 3, max: 4 });
  });
});
