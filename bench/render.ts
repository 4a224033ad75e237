// Render speed: the pure pipeline in-process (load → lint → plan → render, no disk) and
// the whole CLI as a user runs it (`relay6 render SITE -o DIR`: process start, YAML,
// secrets, atomic write). Median of several runs; figures go to bench/results/render.json.
//   npx tsx bench/render.ts [RUNS]      (needs `npm run build` for the CLI figure)
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { analyse, loadSite, renderPlan } from "../src/pipeline.js";
import { generateKeyPair } from "../src/keys/wireguard.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 20);
const sites = ["examples/recipe-home.yaml", "test/golden/sites/slash56.yaml"];

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  const r = (n: number) => Math.round(n * 100) / 100;
  return { min: r(s[0]!), median: r(median), max: r(s[s.length - 1]!) };
}

const secrets = { vpsPrivateKey: generateKeyPair().privateKey, routerPrivateKey: generateKeyPair().privateKey };
const result: Record<string, unknown> = { runs, node: process.version, date: new Date().toISOString() };
const work = mkdtempSync(join(tmpdir(), "relay6-bench-"));
try {
  for (const site of sites) {
    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const loaded = loadSite(join(repo, site));
      const { plan } = analyse(loaded);
      renderPlan(plan!, { secrets, version: "bench" });
      inProcess.push(performance.now() - t0);
    }
    const cli: number[] = [];
    // A folder of its own for each site: render refuses an output folder another site wrote.
    const dir = join(work, String(sites.indexOf(site)));
    mkdirSync(dir);
    const copy = join(dir, "site.yaml");
    copyFileSync(join(repo, site), copy);
    for (let i = 0; i < Math.min(runs, 10); i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, [join(repo, "bin/relay6.js"), "render", copy, "-o", join(dir, "out")], { stdio: "ignore" });
      cli.push(performance.now() - t0);
    }
    result[site] = { pipeline_ms: stats(inProcess.slice(1)), cli_render_ms: stats(cli) };
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
mkdirSync(join(repo, "bench/results"), { recursive: true });
writeFileSync(join(repo, "bench/results/render.json"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
