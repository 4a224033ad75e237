// Text relay6 prints may hold what others wrote: a router's error message or object values,
// a remote command's output, a key in a site file. A terminal acts on control characters
// (ESC starts sequences that move the cursor, retitle the window, rewrite what was shown),
// so none reaches it raw: every byte relay6 prints passes `printable`, installed once
// around each command by the CLI entry point (`guardOutput`).

// C0 controls but tab and newline, DEL, and C1 controls (U+0080-U+009F: 8-bit CSI and OSC).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Control characters written as `\u001b`. Inside a JSON string that is the same character,
 *  so JSON output stays valid and means the same. `oneLine` escapes newlines and tabs too
 *  (for one-line messages built from remote text). */
export function printable(text: string, opts: { oneLine?: boolean } = {}): string {
  return text.replace(opts.oneLine ? CONTROL_OR_NEWLINE : CONTROL, escape);
}

type Write = typeof process.stdout.write;

/** Routes process.stdout and process.stderr through `printable` until `restore()`;
 *  `wroteStdout()` says whether anything went to stdout (a --json command that failed
 *  before printing its JSON still prints an error object). */
export function guardOutput(): { restore(): void; wroteStdout(): boolean; writeError(): Promise<NodeJS.ErrnoException | undefined> } {
  let wrote = false;
  // A write to stdout that failed (a full disk, a closed descriptor): the command's output
  // is lost, and the exit status must say so. EPIPE (a reader such as `head` that has what
  // it wanted) is not a failure.
  let failed: NodeJS.ErrnoException | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") failed ??= e;
  };
  process.stdout.on("error", onError);
  const wrap = (stream: NodeJS.WriteStream, mark: boolean) => {
    const original = stream.write;
    const guarded = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (mark) wrote = true;
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
      return (original as (...a: unknown[]) => boolean).call(this, printable(text), ...rest);
    };
    stream.write = guarded as Write;
    return () => {
      if (stream.write === guarded) stream.write = original;
    };
  };
  const undo = [wrap(process.stdout, true), wrap(process.stderr, false)];
  return {
    restore: () => {
      undo.forEach((u) => u());
      process.stdout.off("error", onError);
    },
    wroteStdout: () => wrote,
    // Errors of writes already made arrive on a later tick: wait for them.
    writeError: () => new Promise((r) => setImmediate(() => r(failed))),
  };
}
