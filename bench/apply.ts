// Apply speed, in the lab over real SSH: `relay6 apply vps` on a bare VPS (connect, diff,
// upload, setup.sh: files, sysctl, ufw, wg-quick, bird), a second run (no changes), and
// a segment added live; then the time until the router holds ::/0 after the first apply.
// Median of several runs (a fresh bare lab each); figures go to bench/results/apply.json.
//   sudo npx tsx bench/apply.ts [RUNS]     (root; `npm run build` first)
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { labDown } from "../src/lab/down.js";
import { waitFor } from "../src/lab/exec.js";
import { nsOf } from "../src/lab/nodes.js";
import { routerDefault } from "../src/lab/probes.js";
import { bundledSite, labSecretsFile, labUp } from "../src/lab/up.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 5);
const name = "bench-apply";

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: Math.round(s[0]!), median: Math.round(median), max: Math.round(s[s.length - 1]!) };
}

const first: number[] = [];
const noop: number[] = [];
const grow: number[] = [];
const routeBack: number[] = [];
for (let i = 0; i < runs; i++) {
  const { state } = await labUp({ name, siteFile: bundledSite(), bareVps: true });
  try {
    const relay6 = (site: string, ...more: string[]) => {
      const t0 = performance.now();
      const r = spawnSync("ip", ["netns", "exec", nsOf(state, "inet"), process.execPath, join(repo, "bin/relay6.js"), "apply", "vps", site, "--vps-host", state.addresses!.vpsUnderlay, "-i", join(state.dir, "ssh/id_ed25519"), "--known-hosts", join(state.dir, "known_hosts"), "--secrets", labSecretsFile(state), ...more], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`apply failed: ${r.stderr}`);
      return performance.now() - t0;
    };
    const t0 = performance.now();
    first.push(relay6(bundledSite(), "--accept-new-host-key"));
    await waitFor("::/0 on the router", async () => ((await routerDefault(state)) ? true : undefined), 30_000, 20);
    routeBack.push(performance.now() - t0);
    noop.push(relay6(bundledSite()));
    const site = parse(readFileSync(bundledSite(), "utf8"));
    site.segments.push({ name: "more", index: 0x20, interface: "more0" });
    const grown = join(state.dir, "grown.yaml");
    writeFileSync(grown, stringify(site));
    grow.push(relay6(grown));
  } finally {
    await labDown(name);
  }
}
const result = {
  command: "relay6 apply vps (lab, over SSH from the internet namespace)",
  runs,
  node: process.version,
  date: new Date().toISOString(),
  first_apply_ms: stats(first),
  first_apply_to_router_default_ms: stats(routeBack),
  noop_apply_ms: stats(noop),
  add_segment_apply_ms: stats(grow),
};
mkdirSync(join(repo, "bench/results"), { recursive: true });
writeFileSync(join(repo, "bench/results/apply.json"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
