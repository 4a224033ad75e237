// Errors users can act on carry diagnostics; only the CLI entry point prints and exits.

export type Severity = "error" | "warning" | "info";

/** One problem (or note) about the input, located as precisely as we can. */
export interface Diagnostic {
  /** Stable code, listed in the README. */
  code: string;
  severity: Severity;
  message: string;
  /** One line telling the user what to do. */
  fix: string;
  /** YAML path, e.g. `segments[1].index`; empty for the document as a whole. */
  path: string;
  file?: string;
  line?: number;
  col?: number;
}

export const EXIT = {
  ok: 0,
  /** lint found errors; or a verification/test failed */
  findings: 1,
  /** bad input: unreadable/invalid site file, bad arguments */
  badInput: 2,
  /** a bug in relay6 */
  internal: 70,
} as const;

/** An error whose text is for the user: printed without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.col ?? 1}` : ""}: ` : "";
  const path = d.path ? ` at ${d.path}` : "";
  return `${where}${d.severity} ${d.code}${path}: ${d.message}\n    fix: ${d.fix}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}
