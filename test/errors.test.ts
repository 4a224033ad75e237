// Golden diagnostics: each bad site file in test/errors gives exactly the .expected output
// (exit status, stdout, stderr) from `relay6 lint`. `npm run golden:update` rewrites them;
// nothing else writes one: a site file without its .expected file fails.
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli } from "./helpers.js";

const DIR = join(REPO, "test/errors");
const UPDATE = process.env.RELAY6_UPDATE_GOLDEN === "1";

describe("error goldens", () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yaml"))) {
    it(file, async () => {
      const rel = relative(REPO, join(DIR, file));
      const prev = process.cwd();
      process.chdir(REPO);
      try {
        const r = await runCli("lint", rel);
        const got = `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
        const expectedFile = join(DIR, file.replace(/\.yaml$/, ".expected"));
        if (UPDATE) writeFileSync(expectedFile, got);
        else if (!existsSync(expectedFile)) expect.fail(`no ${relative(REPO, expectedFile)}: run \`npm run golden:update\` and review what it wrote`);
        expect(got).toBe(readFileSync(expectedFile, "utf8"));
        expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // never a stack trace
      } finally {
        process.chdir(prev);
      }
    });
  }
});
