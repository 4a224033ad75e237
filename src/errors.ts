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
  /** The site of a relay the finding is about, when it is one site's. */
  site?: string;
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

/** An error whose text is for the user: printed without a stack trace, as one line
 *  `relay6: <message>` naming the thing, then each diagnostic with its `fix:`, or `fix`
 *  itself when there are none. Exit status: badInput (2) for the user's arguments and
 *  files, findings (1) for the environment, a remote end, or checks that failed. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly exitCode: number = EXIT.badInput,
    /** What to do, when no diagnostic says it. */
    readonly fix?: string,
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
  const path = (d.path ? ` at ${d.path}` : "") + (d.site ? ` (site ${d.site})` : "");
  return `${where}${d.severity} ${d.code}${path}: ${d.message}\n    fix: ${d.fix}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

/** Errno codes that mean "the path the user gave is wrong" (exit 2): a file where a folder
 *  must be, a folder where a file must be, a name too long. The rest (EACCES, EPERM, EROFS,
 *  ENOSPC, EIO, EBUSY...) mean the machine refused (exit 1). */
const BAD_PATH = new Set(["ENOTDIR", "EISDIR", "EEXIST", "ENOENT", "ENAMETOOLONG", "ELOOP", "EINVAL"]);

/** A failed file operation as the user's error: exit 2 when the path they gave cannot be
 *  used as they asked (a file under a regular file...), exit 1 when the system refused
 *  (permission denied, read-only, disk full). `what` names the thing ("output folder out"),
 *  `fix` says what to do about a bad path; the environment's fix is said here. */
export function fileSystemError(e: unknown, what: string, fix: { badPath: string; refused?: string }, code = "file-error"): UserError {
  const errno = (e as NodeJS.ErrnoException | undefined)?.code ?? "";
  const at = (e as NodeJS.ErrnoException | undefined)?.path;
  const where = at ? ` (${at})` : "";
  const bad = BAD_PATH.has(errno);
  const reason =
    errno === "ENOTDIR" ? "a part of the path is a file, not a folder"
    : errno === "EISDIR" ? "it is a folder"
    : errno === "EEXIST" ? "something is in the way"
    : errno === "EACCES" || errno === "EPERM" ? "permission denied"
    : errno === "EROFS" ? "the file system is read-only"
    : errno === "ENOSPC" || errno === "EDQUOT" ? "no space left"
    : errno === "ENOENT" ? "no such file or folder"
    : errno || String(e);
  return new UserError(`cannot write ${what}: ${reason}${where}`, [
    {
      code,
      severity: "error",
      path: "",
      message: `${reason}${errno ? ` (${errno})` : ""}`,
      fix: bad ? fix.badPath : fix.refused ?? "run relay6 as a user that may write there, or choose a place you can write to",
    },
  ], bad ? EXIT.badInput : EXIT.findings);
}
