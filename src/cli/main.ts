// The entry point: the only place that prints errors and decides the exit status
// (bin/relay6.js passes it to process.exit).
import { Command, CommanderError } from "commander";
import { EXIT, UserError, formatDiagnostic, type Diagnostic } from "../errors.js";
import { guardOutput } from "../terminal.js";
import { registerCore } from "./commands/core.js";
import { registerInit } from "./commands/init.js";
import { registerApply } from "./commands/apply.js";
import { registerLab } from "./commands/lab.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerStatus } from "./commands/status.js";
import { registerVerify } from "./commands/verify.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command("relay6")
    .description("Relay a VPS's routed IPv6 prefix over WireGuard to a home router.")
    .version(VERSION)
    .exitOverride();
  registerCore(program);
  registerInit(program);
  registerApply(program);
  registerLab(program);
  registerDoctor(program);
  registerVerify(program);
  registerStatus(program);
  commanderErrors(program, "relay6");
  program.hook("preAction", (_root, action) => refuseEmptyPaths(action));
  return program;
}

/** A path option (`<file>`, `<dir>`) given as "" would mean the current folder or nothing:
 *  refused (exit 2) before the command runs. */
function refuseEmptyPaths(cmd: Command): void {
  for (const o of cmd.options) {
    if (!/<(file|dir|path)>/.test(o.flags)) continue;
    const v: unknown = cmd.getOptionValue(o.attributeName());
    if (typeof v === "string" && v.trim() === "")
      throw new UserError(`${o.long ?? o.short} is empty`, [], EXIT.badInput, `give ${o.long ?? o.short} a path (\`${cmd.name()} --help\` says what it names), or leave it out`);
  }
}

/** commander quotes an option as given (`unknown option '--router-password=hunter2'`): the
 *  value after `=` may be a secret, so it is cut. */
export const withoutOptionValues = (text: string) => text.replace(/('-{1,2}[^'=\s]*)=[^']*'/g, "$1=…'");

/** commander's own errors (an unknown command or option, a missing argument, a bad option
 *  value) the way relay6 prints every error: one line naming it, then the fix. */
function commanderErrors(cmd: Command, path: string): void {
  cmd.configureOutput({
    outputError: (text, write) => {
      const [first, ...more] = withoutOptionValues(text.trim().replace(/^error: /, "")).split("\n");
      const fix = cmd.commands.length > 0 ? `\`${path} --help\` lists the commands` : `\`${path} --help\` lists its arguments and options`;
      write(`relay6: ${[first, ...more.map((l) => l.trim())].join(" ")}\n    fix: ${fix}\n`);
    },
  });
  for (const c of cmd.commands) commanderErrors(c, `${path} ${c.name()}`);
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  // Every byte printed passes one filter (no raw control characters from remote text).
  const output = guardOutput();
  let code: number;
  try {
    await buildProgram().parseAsync(argv);
    code = process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
    process.exitCode = undefined;
  } catch (e) {
    const failed = report(e);
    // --json: a command that fails before printing its JSON still prints JSON.
    if (failed.json && argv.includes("--json") && !output.wroteStdout()) process.stdout.write(JSON.stringify({ error: failed.json }, null, 2) + "\n");
    code = failed.code;
  }
  try {
    // Output that could not be written is a failure of the environment (exit 1), said once.
    const lost = await output.writeError();
    if (lost && code === EXIT.ok) {
      process.stderr.write(`relay6: cannot write to standard output: ${lost.code ?? lost.message}\n`);
      code = EXIT.findings;
    }
  } finally {
    output.restore();
  }
  return code;
}

/** Prints an error the one way relay6 prints errors; returns the exit status and the error
 *  as --json shows it. */
function report(e: unknown): { code: number; json?: { message: string; exit: number; diagnostics?: Diagnostic[] } } {
  if (e instanceof CommanderError) {
    // commander already printed help/version/usage errors
    return e.exitCode === 0 ? { code: EXIT.ok } : { code: EXIT.badInput, json: { message: withoutOptionValues(e.message), exit: EXIT.badInput } };
  }
  if (e instanceof UserError) {
    process.stderr.write(`relay6: ${e.message}\n`);
    for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
    if (e.diagnostics.length === 0 && e.fix) process.stderr.write(`    fix: ${e.fix}\n`);
    return { code: e.exitCode, json: { message: e.message, exit: e.exitCode, diagnostics: e.diagnostics, ...(e.fix ? { fix: e.fix } : {}) } };
  }
  const err = e as Error;
  process.stderr.write(
    `relay6: internal error: ${err.message}\nThis is a bug in relay6. Please report it with the command you ran and this trace:\n${err.stack ?? ""}\n`,
  );
  return { code: EXIT.internal, json: { message: `internal error (a bug in relay6): ${err.message}`, exit: EXIT.internal } };
}
