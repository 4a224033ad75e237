// Golden files: the rendered scripts for each golden site and captured version.
// RELAY6_UPDATE_GOLDEN=1 npx vitest run test/routeros rewrites them; otherwise a
// difference fails with a unified diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { describe, expect, it } from "vitest";
import { routerosTarget } from "../../src/targets/routeros/index.js";
import { GOLDEN_SITES, planFor } from "./fixtures.js";
import { capturedVersions, repoRoot } from "./tree.js";

const UPDATE = process.env.RELAY6_UPDATE_GOLDEN === "1";
const goldenDir = path.join(repoRoot, "test/routeros/golden");

/** A unified diff for readable failures. */
export function unifiedDiff(want: string, got: string, name: string): string {
  return createTwoFilesPatch(`golden/${name}`, `rendered/${name}`, want, got);
}

describe("golden scripts", () => {
  for (const [name, site] of Object.entries(GOLDEN_SITES))
    for (const v of capturedVersions())
      it(`${name} @ ${v}`, () => {
        const files = routerosTarget.render(planFor(site.file, v), site.ctx);
        for (const f of files) {
          expect(f.mode).toBe(f.content.includes("private-key=") ? 0o600 : 0o644); // a script holding a key is secret
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
