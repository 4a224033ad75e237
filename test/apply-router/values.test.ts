// The pure parts of apply router: value comparison, tags, version matching, the rollback script.
import { describe, expect, it } from "vitest";
import { normValue, sameValue, tagKey } from "../../src/targets/routeros/apply/values.js";
import { releaseMatches } from "../../src/targets/routeros/capabilities.js";

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
    expect(releaseMatches("7.15", "7.15")).toBe(true);
    expect(releaseMatches("7.18", "7.18.2")).toBe(true);
    expect(releaseMatches("7.18.2", "7.18")).toBe(false);
  });
});

describe("RouterOS durations: one parser for apply, verify and doctor", async () => {
  const { rosDurationMs } = await import("../../src/targets/routeros/duration.js");
  it("unit forms as REST and exports print them", () => {
    expect(rosDurationMs("25s")).toBe(25_000);
    expect(rosDurationMs("1m30s")).toBe(90_000);
    expect(rosDurationMs("1h2m3s")).toBe(3_723_000);
    expect(rosDurationMs("250ms")).toBe(250);
    expect(rosDurationMs("1s500ms")).toBe(1500);
    expect(rosDurationMs("1w1d")).toBe(691_200_000);
    expect(rosDurationMs("1.5s")).toBe(1500);
  });
  it("a bare number is a duration only where the menu gives it a unit", () => {
    expect(rosDurationMs("1420")).toBeUndefined(); // an MTU stays a number for apply's compare
    expect(rosDurationMs("25", "s")).toBe(25_000); // persistent-keepalive
    expect(rosDurationMs("200", "ms")).toBe(200); // BFD min-rx
  });
  it("anything else is not a duration", () => {
    for (const t of [undefined, "", "never", "25x", "s", "1m30", "00:01:30", "yes"]) expect(rosDurationMs(t as string | undefined)).toBeUndefined();
  });
});
