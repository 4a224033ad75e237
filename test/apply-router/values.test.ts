// The pure parts of apply router: value comparison, tags, version matching, the rollback script.
import { describe, expect, it } from "vitest";
import { normValue, sameValue, tagKey, versionMatches } from "../../src/targets/routeros/apply.js";

describe("values", () => {
  it("yes/no as REST answers them, durations, single addresses with /128", () => {
    expect(sameValue("true", "yes")).toBe(true);
    expect(sameValue("false", "no")).toBe(true);
    expect(sameValue("true", "no")).toBe(false);
    expect(sameValue("25s", "25s")).toBe(true);
    expect(sameValue("1m30s", "90s")).toBe(true);
    expect(sameValue("200ms", "200ms")).toBe(true);
    expect(sameValue("2401:4520:110b:20::80/128", "2401:4520:110b:20::80")).toBe(true);
    expect(sameValue("2401:4520:110b:20::/64", "2401:4520:110b:20::")).toBe(false);
    expect(sameValue(undefined, "")).toBe(false);
    expect(sameValue("1420", "1420")).toBe(true);
    expect(normValue("established,related,untracked")).toBe("established,related,untracked");
  });

  it("tag keys: only this site's, up to the ;", () => {
    expect(tagKey("home", "relay6:home:addr:lan; segment lan")).toBe("addr:lan");
    expect(tagKey("home", "relay6:home2:addr:lan; x")).toBeUndefined();
    expect(tagKey("home", "relay6:home:addr:lan")).toBeUndefined();
    expect(tagKey("home", "defconf: drop")).toBeUndefined();
    expect(tagKey("home", undefined)).toBeUndefined();
  });

  it("versions", () => {
    expect(versionMatches("7.15", "7.15")).toBe(true);
    expect(versionMatches("7.18", "7.18.2")).toBe(true);
    expect(versionMatches("7.18.2", "7.18")).toBe(false);
  });
});
