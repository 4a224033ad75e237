// The entry point: the only place that prints errors and decides the exit status
// (bin/relay6.js passes it to process.exit).
import { Command, CommanderError } from "commander";
import { EXIT, UserError, formatDiagnostic } from "../errors.js";
import { registerCore } from "./commands/core.js";
import { registerInit } from "./commands/init.js";
import { registerApply } from "./commands/apply.js";
import { registerLab } from "./commands/lab.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerVerify } from "./commands/verify.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command("relay6")
    .description("Relay a VPS's routed IPv6 prefix over WireGuard to a home router.")
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError("(relay6 --help lists the commands)");
  registerCore(program);
  registerInit(program);
  registerApply(program);
  registerLab(program);
  registerDoctor(program);
  registerVerify(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv);
    const code = process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
    process.exitCode = undefined;
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed help/version/usage errors
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof UserError) {
      process.stderr.write(`relay6: ${e.message}\n`);
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(
      `relay6: internal error: ${err.message}\nThis is a bug in relay6. Please report it with the command you ran and this trace:\n${err.stack ?? ""}\n`,
    );
    return EXIT.internal;
  }
}
