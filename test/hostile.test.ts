// Free text (a segment's description) holding every hostile shape, through every target:
// it may only ever land in a comment (shell, wg, bird, radvd, FRR) or inside a RouterOS
// string that reads back to exactly the text.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { unquote } from "../src/targets/routeros/quote.js";
import { REPO, renderFile, tmp } from "./helpers.js";

const HOSTILE = `it's "x" $(touch /tmp/relay6-pwned) \`id\` $[/system/reboot] ; ] [ {} \\ $HOME ?`;

function render(platform: "routeros" | "linux") {
  const site = parse(readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8"));
  site.router.platform = platform;
  if (platform === "linux") delete site.router.version;
  site.segments[0].description = HOSTILE;
  const file = join(tmp(), "site.yaml");
  writeFileSync(file, stringify(site));
  return renderFile(file).artifacts;
}

describe("hostile free text", () => {
  for (const platform of ["routeros", "linux"] as const)
    it(`stays in comments or RouterOS strings (${platform} router)`, () => {
      const artifacts = render(platform);
      let seen = 0;
      for (const a of artifacts) {
        if (a.path === "plan.json") continue;
        for (const line of a.content.split("\n")) {
          if (!line.includes("touch /tmp/relay6-pwned")) continue;
          seen++;
          if (a.path.endsWith(".rsc")) {
            // Inside a RouterOS string: comment="..." reading back to the text.
            const m = /comment="((?:[^"\\]|\\.)*)"/.exec(line);
            expect(m, `${a.path}: ${line}`).not.toBeNull();
            expect(unquote(m![1]!)).toContain(HOSTILE);
          } else expect(line.trimStart().startsWith("#") || line.trimStart().startsWith("!"), `${a.path}: ${line}`).toBe(true);
        }
        if (a.path.endsWith(".sh")) {
          const r = spawnSync("bash", ["-n"], { input: a.content, encoding: "utf8" });
          expect(r.status, `${a.path}: ${r.stderr}`).toBe(0);
        }
      }
      expect(seen).toBeGreaterThan(0);
    });
});
