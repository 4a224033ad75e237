// Defects a hostile reviewer found through the CLI, by class: files written or read where
// the user pointed, secrets in what is shown, remote answers of the wrong shape.
import { existsSync, lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmp } from "./helpers.js";

describe("schema -o FILE", () => {
  it("refuses an existing file that is not a relay6 schema, and leaves it as it was", async () => {
    const dir = tmp();
    const f = join(dir, "notes.txt");
    writeFileSync(f, "my notes\n");
    const r = await runCli("schema", "-o", f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`-o ${f}: exists and is not a schema file relay6 wrote`);
    expect(r.stderr).toContain("fix:");
    expect(readFileSync(f, "utf8")).toBe("my notes\n");
  });

  it("refuses a symbolic link at -o without writing through it", async () => {
    const dir = tmp();
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep\n");
    const link = join(dir, "site.schema.json");
    symlinkSync(victim, link);
    const r = await runCli("schema", "-o", link);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("symbolic link");
    expect(readFileSync(victim, "utf8")).toBe("keep\n");
    expect(readlinkSync(link)).toBe(victim);
  });

  it("writes a new file, and replaces one that holds a relay6 schema", async () => {
    const dir = tmp();
    const f = join(dir, "site.schema.json");
    expect((await runCli("schema", "-o", f)).code).toBe(0);
    const first = readFileSync(f, "utf8");
    expect(JSON.parse(first).$id).toMatch(/relay6/);
    writeFileSync(f, first.replace('"title"', '"description": "old", "title"'));
    expect((await runCli("schema", "-o", f)).code).toBe(0);
    expect(readFileSync(f, "utf8")).toBe(first);
    expect(lstatSync(f).isFile()).toBe(true);
  });
});
