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

/** A minimal unified diff (line based, whole-file hunk) for readable failures. */
export function unifiedDiff(want: string, got: string, name: string): string {
  const a = want.split("\n");
  const b = got.split("\n");
  // LCS table, fine for files of a few hundred lines.
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  const out = [`--- golden/${name}`, `+++ rendered/${name}`];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || dp[i]![j + 1]! >= dp[i + 1]![j]!)) out.push(`+${b[j++]} (line ${j})`);
    else out.push(`-${a[i++]} (line ${i})`);
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
