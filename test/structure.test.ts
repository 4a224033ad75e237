// The project checks its own structure: dependency-cruiser with the rules .dependency-cruiser.mjs
// makes from docs/ARCHITECTURE.md's layer table. The real tree passes with every local
// import resolved (so the rules cannot pass by seeing no edges), and a copy of the tree
// with planted violations (an up-import, the old render → registry import, a pure target
// reaching remote/, the old sshd ↔ up cycle, a folder without a layer) fails.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, tmp } from "./helpers.js";

interface Cruise {
  modules: { source: string; dependencies: { module: string; resolved: string; couldNotResolve: boolean; dependencyTypes: string[] }[] }[];
  summary: { violations: { rule: { name: string; severity: string }; from: string; to: string }[] };
}

const DEPCRUISE = join(REPO, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** The cruise as `npm test` runs it (its exit status), and as JSON (what it saw). */
function cruise(cwd: string): { status: number | null; out: string; json?: Cruise } {
  const run = (...extra: string[]) => spawnSync(process.execPath, [DEPCRUISE, "--config", ".dependency-cruiser.mjs", ...extra, "src"], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  const plain = run();
  const json = plain.status === 0 || /violations/.test(plain.stdout) ? run("--output-type", "json").stdout : "";
  return { status: plain.status, out: plain.stdout + plain.stderr, ...(json.trim().startsWith("{") ? { json: JSON.parse(json) as Cruise } : {}) };
}

function copyTree(): string {
  const dir = tmp("relay6-structure-");
  for (const p of ["src", "docs", "tsconfig.json", ".dependency-cruiser.mjs", "package.json"]) cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return dir;
}

describe("dependency-cruiser on src/", () => {
  it("passes, with every local import resolved to its .ts file", () => {
    const r = cruise(REPO);
    expect(r.status, r.out).toBe(0);
    const ours = r.json!.modules.filter((m) => m.source.startsWith("src/"));
    const local = ours.flatMap((m) => m.dependencies.filter((d) => d.dependencyTypes.includes("local")));
    expect(ours.length).toBeGreaterThan(80);
    expect(local.length).toBeGreaterThan(350);
    expect(local.filter((d) => d.couldNotResolve)).toEqual([]);
    // The sources' `./x.js` specifiers are the .ts files (package.json is the only other).
    expect(local.filter((d) => !(d.module.endsWith(".js") && d.resolved.endsWith(".ts")) && d.resolved !== "package.json")).toEqual([]);
    expect(r.json!.summary.violations).toEqual([]);
  });

  it("fails on planted violations, naming each rule", () => {
    const dir = copyTree();
    const plant = (file: string, line: string) => appendFileSync(join(dir, "src", file), `\n${line}\n`);
    plant("net/ipv6.ts", 'import "../pipeline.js";');
    plant("render/render.ts", 'import "../targets/index.js";');
    plant("targets/vps/index.ts", 'import "../../remote/connect.js";');
    plant("targets/linux/index.ts", 'import "./verify.js";');
    plant("targets/linux/frr.ts", 'import "../routeros/quote.js";');
    plant("lab/sshd.ts", 'import "./up.js";');
    const r = cruise(dir);
    expect(r.status).not.toBe(0);
    const seen = r.json!.summary.violations.filter((v) => v.rule.severity === "error").map((v) => `${v.rule.name} ${v.from} -> ${v.to}`);
    for (const v of [
      "layer-primitives src/net/ipv6.ts -> src/pipeline.ts",
      "layer-render src/render/render.ts -> src/targets/index.ts",
      "registry-via-pipeline src/render/render.ts -> src/targets/index.ts",
      "pure-targets-no-remote src/targets/vps/index.ts -> src/remote/connect.ts",
      "pure-targets-lazy-impure src/targets/linux/index.ts -> src/targets/linux/verify.ts",
      "targets-independent src/targets/linux/frr.ts -> src/targets/routeros/quote.ts",
    ])
      expect(seen).toContain(v);
    expect(seen.some((v) => v.startsWith("no-circular src/lab/sshd.ts"))).toBe(true);
  });

  it("refuses a folder the layer table does not name", () => {
    const dir = copyTree();
    mkdirSync(join(dir, "src/newthing"));
    const r = cruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain("src/newthing/ has no layer in docs/ARCHITECTURE.md's table");
  });
});
