// Golden files: every site file and relay file in test/golden/sites renders to exactly the
// files under test/golden/expected/<name>/ (a relay's site files sit in a folder beside
// it). They render as `relay6 render` does (loadInput, analyseInput, renderInput), so a
// standalone site's goldens prove its files came out unchanged by the relay model.
// Regenerate with `npm run golden:update`.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, renderFile, renderInputFile } from "./helpers.js";

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
      const { artifacts, relay } = renderInputFile(join(SITES, file));
      // A standalone site renders the same through the older entry points (the lab's, the tests').
      if (relay.kind === "site") expect(renderFile(join(SITES, file)).artifacts).toEqual(artifacts);
      const dir = join(EXPECTED, name);
      // File modes are part of the output: secrets 0600, scripts 0755.
      const modes = artifacts.map((a) => `${a.mode.toString(8).padStart(4, "0")} ${a.path}`).join("\n") + "\n";
      if (UPDATE) {
        rmSync(dir, { recursive: true, force: true });
        for (const a of artifacts) {
          mkdirSync(dirname(join(dir, a.path)), { recursive: true });
          writeFileSync(join(dir, a.path), a.content);
        }
        writeFileSync(join(dir, "MODES"), modes);
      }
      expect(modes).toBe(readFileSync(join(dir, "MODES"), "utf8"));
      expect(artifacts.map((a) => a.path).sort()).toEqual(listFiles(dir).filter((f) => f !== "MODES"));
      for (const a of artifacts) expect(a.content, `${name}/${a.path}`).toBe(readFileSync(join(dir, a.path), "utf8"));
    });
  }
});
