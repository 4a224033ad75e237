// dependency-cruiser's rules for src/, made from the layer table in docs/ARCHITECTURE.md:
// the table is the one source, so the docs and the check cannot drift apart. `npm test`
// runs `depcruise src` with this file, and test/structure.test.ts shows that a planted
// violation fails it.
import { readdirSync, readFileSync } from "node:fs";

const here = new URL(".", import.meta.url);
const doc = readFileSync(new URL("docs/ARCHITECTURE.md", here), "utf8");
const block = /<!-- layers:begin[^\n]*-->\n([\s\S]*?)<!-- layers:end -->/.exec(doc);
if (!block) throw new Error("docs/ARCHITECTURE.md has no layer table (<!-- layers:begin --> ... <!-- layers:end -->)");

/** `net/` → ^src/net/, `targets/*` + `/` → ^src/targets/[^/]+/, `errors.ts` → ^src/errors\.ts$ */
const toRegex = (p) => "^src/" + p.replace(/\./g, "\\.").replace(/\*/g, "[^/]+") + (p.endsWith("/") ? "" : "$");

const layers = block[1]
  .split("\n")
  .filter((l) => /^\| *\d+ /.test(l))
  .map((l) => {
    const [, head, paths] = l.split("|");
    const name = head.trim().replace(/^\d+\s+/, "");
    return { name, paths: [...paths.matchAll(/`([^`]+)`/g)].map((m) => toRegex(m[1])) };
  });
if (layers.length < 5) throw new Error(`docs/ARCHITECTURE.md: only ${layers.length} layers read from the table`);

// Every folder and top-level file of src/ (and every entry of src/targets/) has a layer.
const entries = [
  ...readdirSync(new URL("src/", here), { withFileTypes: true }).filter((e) => e.name !== "targets").map((e) => `src/${e.name}${e.isDirectory() ? "/x" : ""}`),
  ...readdirSync(new URL("src/targets/", here), { withFileTypes: true }).map((e) => `src/targets/${e.name}${e.isDirectory() ? "/x" : ""}`),
];
for (const e of entries)
  if (!layers.some((l) => l.paths.some((p) => new RegExp(p).test(e))))
    throw new Error(`${e.replace(/\/x$/, "/")} has no layer in docs/ARCHITECTURE.md's table: add it to a row`);

const either = (res) => res.map((r) => `(?:${r})`).join("|");
const layerRules = layers.slice(0, -1).map((l, i) => ({
  name: `layer-${l.name.replace(/\s+/g, "-")}`,
  comment: `${l.name} (layer ${i}) imports only from its own layer and above it in docs/ARCHITECTURE.md's table`,
  severity: "error",
  from: { path: either(l.paths) },
  to: { path: either(layers.slice(i + 1).flatMap((x) => x.paths)) },
}));

const IMPURE = "^src/targets/[^/]+/(?:apply|verify|doctor)(?:\\.ts$|/)";

export default {
  forbidden: [
    ...layerRules,
    { name: "no-circular", severity: "error", comment: "no import cycles", from: {}, to: { circular: true } },
    {
      name: "targets-independent",
      severity: "error",
      comment: "a target's folder imports no other target's folder",
      from: { path: "^src/targets/([^/]+)/" },
      to: { path: "^src/targets/[^/]+/", pathNot: "^src/targets/$1/" },
    },
    {
      name: "pure-targets-no-remote",
      severity: "error",
      comment: "a target's check and render code import no remote/, apply/, verify/ or doctor/ module",
      from: { path: "^src/targets/[^/]+/", pathNot: IMPURE },
      to: { path: "^src/(?:remote|apply|verify|doctor)/" },
    },
    {
      name: "pure-targets-lazy-impure",
      severity: "error",
      comment: "a target's pure files reach its own apply/verify/doctor modules only by the Target's lazy import()",
      from: { path: "^src/targets/([^/]+)/", pathNot: IMPURE },
      to: { path: "^src/targets/$1/(?:apply|verify|doctor)(?:\\.ts$|/)", dependencyTypesNot: ["dynamic-import"] },
    },
    {
      name: "registry-via-pipeline",
      severity: "error",
      comment: "only src/pipeline.ts reads the registry",
      from: { pathNot: "^src/pipeline\\.ts$" },
      to: { path: "^src/targets/index\\.ts$" },
    },
    {
      name: "core-via-pipeline",
      severity: "error",
      comment: "loading, the JSON Schema and rendering need the registry's platforms: everything above the core calls them through src/pipeline.ts",
      from: { pathNot: "^src/(?:site|plan|lint|render)/|^src/pipeline\\.ts$" },
      to: { path: "^src/(?:site/load|site/json-schema|render/render)\\.ts$", dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are edges too: a layer must not even name a type from below it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
