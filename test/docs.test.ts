// The README tells the truth about lint codes and site-file keys.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LINT_CODES } from "../src/lint/lint.js";
import { siteJsonSchema } from "../src/pipeline.js";
import { REPO } from "./helpers.js";

const readme = readFileSync(join(REPO, "README.md"), "utf8");

describe("README", () => {
  it("lists every lint code with its severity", () => {
    for (const c of LINT_CODES) expect(readme).toContain(`| \`${c.code}\` | ${c.severity} |`);
  });

  it("documents every site-file key", () => {
    const keys: string[] = [];
    const walk = (schema: Record<string, unknown>, prefix: string) => {
      const props = (schema.properties ?? (schema.items as Record<string, unknown> | undefined)?.properties) as Record<string, Record<string, unknown>> | undefined;
      if (!props) return;
      for (const [k, v] of Object.entries(props)) {
        if (k === "$schema") continue;
        const path = schema.items ? `${prefix}[].${k}` : prefix ? `${prefix}.${k}` : k;
        keys.push(path);
        walk(v, path);
      }
    };
    walk(siteJsonSchema(), "");
    for (const k of keys) {
      const last = k.split(".").pop()!.replace("[]", "");
      expect(readme, k).toMatch(new RegExp("`[^`]*" + last.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[^`]*`"));
    }
  });
});
