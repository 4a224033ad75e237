// YAML files → validated data, with every problem located at file:line:col: the site
// file (src/site/load.ts), the secrets file (src/keys/wireguard.ts) and the router
// credentials file (src/remote/routeros-rest.ts) share this machinery. It knows no schema:
// each caller passes its own.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { z } from "zod";
import { EXIT, formatPath, UserError, type Diagnostic } from "./errors.js";

/** The largest YAML file relay6 reads (a site file is a few KiB). */
export const MAX_YAML_BYTES = 1024 * 1024;
/** How many times aliases may be expanded in one file (the yaml package's guard against an
 *  alias bomb: a few lines that expand to gigabytes). */
const MAX_ALIAS_COUNT = 100;

export type YamlPath = readonly (string | number)[];

/** What kind of YAML file is read: names it in errors and says where its format is told. */
export interface YamlFileKind {
  /** "site file", "secrets file" */
  name: string;
  /** Where its keys are listed, for unknown keys. */
  keysReference: string;
  /** Where its format is described, for missing keys and wrong values. */
  reference: string;
  /** The whole file's shape, told when it is not a mapping at all (e.g. "`user:` and `password:`"). */
  shape?: string;
  /** The file holds secrets: no text of it (a YAML snippet, an unknown key's name) is ever
   *  repeated in a diagnostic; problems are named by YAML path and line only. */
  secret?: boolean;
}

/** Parses YAML text and validates it with a zod schema. Every problem at once, as
 *  diagnostics with file:line:col and YAML path, in one UserError (exit 2). */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  kind: YamlFileKind,
): { data: z.output<S>; locate(path: YamlPath): { line: number; col: number }; given(path: YamlPath): boolean } {
  const doc = parseYamlDoc(text, file, kind);
  const r = checkYamlDoc(doc, schema, kind);
  if (!r.ok) throw fileError(file, kind, r.diagnostics);
  return { data: r.data, locate: doc.locate, given: doc.given };
}

/** A YAML document, parsed and located, not yet validated (a relay file: which schema
 *  applies, and which site files it lists, shows only once it is parsed). Syntax errors
 *  and files too large to read are thrown (exit 2). */
export interface YamlDoc {
  raw: unknown;
  file: string;
  locate(path: YamlPath): { line: number; col: number };
  given(path: YamlPath): boolean;
}

export function parseYamlDoc(text: string, file: string, kind: YamlFileKind): YamlDoc {
  if (Buffer.byteLength(text, "utf8") > MAX_YAML_BYTES) throw tooLarge(file, kind, `it is over ${MAX_YAML_BYTES / 1024 / 1024} MiB`);
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `0x10` is an integer, `no` stays a string.
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    if (e instanceof RangeError) throw tooLarge(file, kind, "it is nested too deeply to read");
    throw e;
  }
  const pos = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const diagnostics: Diagnostic[] = [];
  // The yaml package reports a nest deeper than the stack as a syntax error of its own.
  if (doc.errors.some((e) => /call stack/i.test(e.message))) throw tooLarge(file, kind, "it is nested too deeply to read");
  for (const err of [...doc.errors, ...doc.warnings]) {
    const at = pos(err.pos[0]);
    diagnostics.push({
      code: "yaml-syntax",
      severity: "error",
      // Some of the yaml package's messages quote the text (an alias, a tag): not for secrets.
      message: kind.secret ? `not valid YAML here (${err.code.toLowerCase().replace(/_/g, " ")})` : err.message.split("\n")[0]!,
      fix: "fix the YAML syntax at this place",
      path: "",
      file,
      ...at,
    });
  }
  if (diagnostics.length > 0) throw fileError(file, kind, diagnostics);

  // An alias whose anchor is not set before it (`site: *b`): named where it is.
  const unresolved: Diagnostic[] = [];
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (node.resolve(doc) !== undefined) return;
      const path = yamlPathOf(ancestors, node);
      unresolved.push({
        code: "yaml-unresolved-alias",
        severity: "error",
        message: kind.secret ? "an alias (*name) whose anchor (&name) is not set before it" : `the alias *${node.source} has no anchor &${node.source} before it`,
        fix: "set the anchor (&name) before the alias, or write the value itself",
        path: formatPath(path),
        file,
        ...pos(node.range?.[0] ?? 0),
      });
    },
  });
  if (unresolved.length > 0) throw fileError(file, kind, unresolved);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    // The yaml package stops an alias bomb with a ReferenceError; a deep nest overflows.
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw tooLarge(file, kind, `its aliases (*name) expand it more than ${MAX_ALIAS_COUNT} times`);
    if (e instanceof RangeError) throw tooLarge(file, kind, "it is nested too deeply to read");
    throw e;
  }
  const d = doc;
  return { raw, file, locate: (path) => locateIn(d, path, pos), given: (path) => d.hasIn(path) };
}

/** Keys that, found where they do not belong, get their own diagnostic instead of
 *  unknown-key (a relay's key in a site file under it). Dotted path → diagnostic. */
export type MisplacedKey = (path: string) => Pick<Diagnostic, "code" | "message" | "fix"> | undefined;

/** The document's data, or every problem the schema has with it, located. */
export function checkYamlDoc<S extends z.ZodType>(
  doc: YamlDoc,
  schema: S,
  kind: YamlFileKind,
  misplaced?: MisplacedKey,
): { ok: true; data: z.output<S> } | { ok: false; diagnostics: Diagnostic[] } {
  const result = schema.safeParse(doc.raw);
  if (result.success) return { ok: true, data: result.data as z.output<S> };
  return { ok: false, diagnostics: result.error.issues.flatMap((issue) => issueToDiagnostics(issue, doc.file, doc.locate, doc.raw, kind, misplaced)) };
}

function tooLarge(file: string, kind: YamlFileKind, why: string): UserError {
  return fileError(file, kind, [
    {
      code: "yaml-too-large",
      severity: "error",
      message: `refused: ${why}`,
      fix: `a ${kind.name} is a few KiB of plain YAML: check that ${file} is the file you meant`,
      path: "",
      file,
    },
  ]);
}

/** Reads a YAML file's text, at most MAX_YAML_BYTES of it: a larger file (or a device that
 *  never ends, /dev/zero) is refused without reading it all. Errors are errno codes for the
 *  caller to word (ENOENT...), or the UserError yaml-too-large. */
export function readYamlText(path: string, kind: YamlFileKind): string {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: "EISDIR" });
    if (st.isFile() && st.size > MAX_YAML_BYTES) throw tooLarge(path, kind, `it is over ${MAX_YAML_BYTES / 1024 / 1024} MiB (${st.size} bytes)`);
    const buf = Buffer.alloc(MAX_YAML_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_YAML_BYTES) throw tooLarge(path, kind, `it is over ${MAX_YAML_BYTES / 1024 / 1024} MiB`);
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export function fileError(file: string, kind: Pick<YamlFileKind, "name">, diagnostics: Diagnostic[]): UserError {
  const n = diagnostics.length;
  return new UserError(`${file}: ${n} problem${n === 1 ? "" : "s"} in the ${kind.name}`, diagnostics, EXIT.badInput);
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
  kind: YamlFileKind,
  misplaced?: MisplacedKey,
): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const base = { severity: "error" as const, file };
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key): Diagnostic => {
      const elsewhere = kind.secret ? undefined : misplaced?.(formatPath([...path, key]));
      if (elsewhere) return { ...base, ...elsewhere, path: formatPath([...path, key]), ...locate([...path, key]) };
      return {
      ...base,
      code: "unknown-key",
      // A key's name may be what the user meant as a value (a password on the wrong line).
      path: formatPath(kind.secret ? path : [...path, key]),
      message: kind.secret ? "unknown key" : `unknown key "${key}"`,
      fix: kind.secret
        ? `remove it: ${kind.keysReference}`
        : `remove it, or check its spelling against ${kind.keysReference}`,
      ...locate([...path, key]),
      };
    });
  }
  const missing = path.length > 0 && valueAt(raw, path) === undefined;
  if (missing) {
    return [
      {
        ...base,
        code: "missing-key",
        path: formatPath(path),
        message: `required key "${String(path[path.length - 1])}" is missing`,
        fix: `add ${formatPath(path)} (see ${kind.reference})`,
        ...locate(path.slice(0, -1)),
      },
    ];
  }
  let message = issue.message;
  let fix = `correct this value (see ${kind.reference})`;
  if (issue.code === "invalid_type" && path.length === 0 && kind.shape) {
    message = `is not a YAML mapping of keys`;
    fix = `the ${kind.name} holds ${kind.shape}`;
  } else if (issue.code === "invalid_value") {
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

/** The YAML path of `node`, from the ancestors `visit` gives. */
function yamlPathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const a = chain[i];
    const next = chain[i + 1];
    if (isPair(a)) {
      if (next === a.value) path.push(isScalar(a.key) ? String(a.key.value) : String(a.key));
    } else if (isSeq(a)) path.push(a.items.indexOf(next as never));
  }
  return path;
}
