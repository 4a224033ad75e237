// Golden files: the rendered scripts for each golden site and captured version.
// RELAY6_UPDATE_GOLDEN=1 npx vitest run test/routeros rewrites them; otherwise a
// difference fails with a unified diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { routerosTarget } from "../../src/targets/routeros/index.js";
import { GOLDEN_SITES, planFor } from "./fixtures.js";
import { capturedVersions, repoRoot } from "./tree.js";

const UPDATE = process.env.RELAY6_UPDATE_GOLDEN === "1";
const goldenDir = path.join(repoRoot, "test/routeros/golden");

/** A unified diff (LCS over lines, hunks with 3 lines of context) for readable failures. */
export function unifiedDiff(want: string, got: string, name: string): string {
  const a = want.split("\n");
  const b = got.split("\n");
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  const ops: { t: " " | "-" | "+"; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ t: " ", line: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j >= b.length || dp[i + 1]![j]! >= dp[i]![j + 1]!)) ops.push({ t: "-", line: a[i]!, ai: i++, bi: j });
    else ops.push({ t: "+", line: b[j]!, ai: i, bi: j++ });
  }
  const out = [`--- golden/${name}`, `+++ rendered/${name}`];
  const changed = ops.map((o, k) => (o.t !== " " ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const from = Math.max(0, changed[k]! - 3);
    let to = changed[k]! + 3;
    while (k + 1 < changed.length && changed[k + 1]! - 3 <= to + 1) to = changed[++k]! + 3;
    to = Math.min(ops.length - 1, to);
    const hunk = ops.slice(from, to + 1);
    const aLen = hunk.filter((o) => o.t !== "+").length;
    const bLen = hunk.filter((o) => o.t !== "-").length;
    out.push(`@@ -${hunk[0]!.ai + 1},${aLen} +${hunk[0]!.bi + 1},${bLen} @@`, ...hunk.map((o) => o.t + o.line));
    k++;
  }
  return out.join("\n");
}

describe("golden scripts", () => {
  for (const [name, site] of Object.entries(GOLDEN_SITES))
    for (const v of capturedVersions())
      it(`${name} @ ${v}`, () => {
        const files = routerosTarget.render(planFor(site.file, v), site.ctx);
        for (const f of files) {
          expect(f.mode).toBe(0o644);
          expect(f.path.startsWith("router/")).toBe(true);
          const rel = path.join(name, v, path.basename(f.path));
          const file = path.join(goldenDir, rel);
          if (UPDATE) {
            mkdirSync(path.dirname(file), { recursive: true });
            writeFileSync(file, f.content);
            continue;
          }
          if (!existsSync(file)) throw new Error(`no golden ${rel}: run RELAY6_UPDATE_GOLDEN=1 npx vitest run test/routeros`);
          const want = readFileSync(file, "utf8");
          if (want !== f.content) throw new Error(`${rel} differs from its golden:\n${unifiedDiff(want, f.content, rel)}`);
        }
      });
});
