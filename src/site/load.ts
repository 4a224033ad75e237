// Site file → validated SiteFile, with every problem located at file:line:col. The schema
// is an argument (src/pipeline.ts makes it for the registry's router platforms).
import { readFileSync } from "node:fs";
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { z } from "zod";
import { formatPath, UserError, type Diagnostic } from "../errors.js";
import type { SiteFile, SiteSchema } from "./schema.js";

export type YamlPath = readonly (string | number)[];

export interface LoadedSite {
  site: SiteFile;
  file: string;
  /** Where a YAML path sits in the file (the nearest existing ancestor). */
  locate(path: YamlPath): { line: number; col: number };
}

export function loadSiteFile(file: string, schema: SiteSchema): LoadedSite {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read site file ${file}: ${code ?? String(e)}`, [], 2);
  }
  return parseSite(text, file, schema);
}

export function parseSite(text: string, file: string, schema: SiteSchema): LoadedSite {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `0x10` is an integer, `no` stays a string.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const diagnostics: Diagnostic[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const at = pos(err.pos[0]);
    diagnostics.push({
      code: "yaml-syntax",
      severity: "error",
      message: err.message.split("\n")[0]!,
      fix: "fix the YAML syntax at this place",
      path: "",
      file,
      ...at,
    });
  }
  if (diagnostics.length > 0) throw siteError(file, diagnostics);

  const locate = (path: YamlPath) => locateIn(doc, path, pos);
  const raw: unknown = doc.toJS() ?? {};
  const result = schema.safeParse(raw);
  if (!result.success) {
    const ds = result.error.issues.flatMap((issue) => issueToDiagnostics(issue, file, locate, raw));
    throw siteError(file, ds);
  }
  return { site: result.data, file, locate };
}

function siteError(file: string, diagnostics: Diagnostic[]): UserError {
  const n = diagnostics.length;
  return new UserError(`${file}: ${n} problem${n === 1 ? "" : "s"} in the site file`, diagnostics, 2);
}

function locateIn(doc: Document, path: YamlPath, pos: (o: number) => { line: number; col: number }) {
  let node: unknown = doc.contents;
  let best = (node as Node | null)?.range?.[0] ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      const keyNode = pair.key as Node;
      best = keyNode.range?.[0] ?? best;
      node = pair.value;
      // Point at the value when it is a scalar: that is what is wrong.
      if (node && !isMap(node) && !isSeq(node)) best = (node as Node).range?.[0] ?? best;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      best = item.range?.[0] ?? best;
      node = item;
    } else break;
  }
  return pos(best);
}

function issueToDiagnostics(
  issue: z.core.$ZodIssue,
  file: string,
  locate: (p: YamlPath) => { line: number; col: number },
  raw: unknown,
): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const base = { severity: "error" as const, file };
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      ...base,
      code: "unknown-key",
      path: formatPath([...path, key]),
      message: `unknown key "${key}"`,
      fix: `remove it, or check its spelling against the site-file reference (README, schema/site.schema.json)`,
      ...locate([...path, key]),
    }));
  }
  const missing = path.length > 0 && valueAt(raw, path) === undefined;
  if (missing) {
    return [
      {
        ...base,
        code: "missing-key",
        path: formatPath(path),
        message: `required key "${String(path[path.length - 1])}" is missing`,
        fix: `add ${formatPath(path)} (see the site-file reference in the README)`,
        ...locate(path.slice(0, -1)),
      },
    ];
  }
  let message = issue.message;
  let fix = "correct this value (see the site-file reference in the README)";
  if (issue.code === "invalid_value") {
    const opts = issue.values.map((v) => JSON.stringify(v)).join(", ");
    message = `must be one of ${opts}`;
    fix = `use one of ${opts}`;
  } else if (issue.code === "invalid_type") {
    message = `expected ${issue.expected}`;
    fix = `write a ${issue.expected} here`;
  } else if (issue.code === "invalid_union") {
    message = "is not any of the accepted forms";
  } else if (issue.code === "custom" || issue.code === "invalid_format") {
    fix = `use ${message.replace(/^must be /, "")}`;
  }
  return [{ ...base, code: "invalid-value", path: formatPath(path), message, fix, ...locate(path) }];
}

function valueAt(raw: unknown, path: YamlPath): unknown {
  let v = raw;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}
