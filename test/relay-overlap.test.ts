// The relay lint's sub-prefix overlap check is linear in the sites (bench/relay-scale.ts
// measures it): it must still flag exactly the sites whose prefix overlaps an earlier
// site's, as the pairwise definition does, whichever holds which.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { writeRelaySites } from "../bench/relay-sites.js";
import { checkRelay } from "../src/lint/relay.js";
import { formatPrefix6, overlaps, parsePrefix6, subnet } from "../src/net/ipv6.js";
import { loadInput, platformOf } from "../src/pipeline.js";

const work = mkdtempSync(join(tmpdir(), "relay6-overlap-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const template = loadInput(writeRelaySites(work, 12));
const at = { file: "x.yaml", locate: () => ({ line: 1, col: 1 }) };
const relay = parsePrefix6("2401:4520:110b::/48");
if (!relay.ok) throw new Error("prefix");

describe("site-prefix-overlap", () => {
  it("flags the same sites as the pairwise check, for any mix of /56, /60 and /64", () => {
    // Indexes near each other so that overlaps are common: /56 #1-2, /60 #16-40, /64 #256-700.
    const arb = fc.array(fc.oneof(fc.record({ len: fc.constant(56), n: fc.integer({ min: 1, max: 2 }) }), fc.record({ len: fc.constant(60), n: fc.integer({ min: 16, max: 40 }) }), fc.record({ len: fc.constant(64), n: fc.integer({ min: 256, max: 700 }) })), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(arb, (picks) => {
        const prefixes = picks.map(({ len, n }) => subnet(relay.prefix, len, BigInt(n))!);
        const input = { ...template.input, sites: picks.map((_, i) => ({ ...template.input.sites[i]!, site: { ...template.input.sites[i]!.site, prefix: formatPrefix6(prefixes[i]!) } })) };
        const flagged = checkRelay(input, { relay: at, sites: input.sites.map(() => at) }, platformOf)
          .filter((d) => d.code === "site-prefix-overlap")
          .map((d) => d.site);
        const expected = input.sites.filter((_, i) => prefixes.slice(0, i).some((q) => overlaps(q, prefixes[i]!))).map((e) => e.site.site);
        expect(flagged).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
