// Golden files: every site in test/golden/sites renders to exactly the files under
// test/golden/expected/<site>/. Regenerate with `npm run golden:update`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, renderFile } from "./helpers.js";

const SITES = join(REPO, "test/golden/sites");
const EXPECTED = join(REPO, "test/golden/expected");
const UPDATE = process.env.RELAY6_UPDATE_GOLDEN === "1";

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe("golden renders", () => {
  for (const file of readdirSync(SITES).filter((f) => f.endsWith(".yaml"))) {
    const name = file.replace(/\.yaml$/, "");
    it(name, () => {
      const { artifacts } = renderFile(join(SITES, file));
      const dir = join(EXPECTED, name);
      if (UPDATE) {
        rmSync(dir, { recursive: true, force: true });
        for (const a of artifacts) {
          mkdirSync(dirname(join(dir, a.path)), { recursive: true });
          writeFileSync(join(dir, a.path), a.content);
        }
      }
      expect(artifacts.map((a) => a.path).sort()).toEqual(listFiles(dir));
      for (const a of artifacts) expect(a.content, `${name}/${a.path}`).toBe(readFileSync(join(dir, a.path), "utf8"));
    });
  }
});
