// Reading a file the user named on the command line (--wg-conf, --router-ca, -i...): a
// regular file only (a device such as /dev/zero never ends, a FIFO may never answer), at
// most a few MiB of it. Errors name the flag and the file, never its contents (exit 2).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { constants } from "node:fs";
import { EXIT, UserError } from "../errors.js";

/** The largest input file relay6 reads: a configuration, a routing table, an export. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
/** The largest key or certificate bundle relay6 reads. */
export const MAX_KEY_BYTES = 64 * 1024;

/** A user-named input file that cannot be read as one: `why` says what is wrong with it. */
export class InputFileError extends UserError {
  constructor(readonly flag: string, readonly file: string, readonly why: string, fix: string) {
    super(`cannot read ${flag} ${file}: ${why}`, [], EXIT.badInput, fix);
    this.name = "InputFileError";
  }
}

const size = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`);

/** The bytes of the file `path`, given with `flag`: refused (exit 2, naming both) when it
 *  cannot be read, is not a regular file, or is larger than `max`. Opened without blocking
 *  (a FIFO does not hang the open) and read no further than `max` + 1 bytes. */
export function readInputFile(path: string, flag: string, max = MAX_INPUT_BYTES): Buffer {
  const refuse = (why: string, fix = `give ${flag} the regular file you meant`) => new InputFileError(flag, path, why, fix);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw refuse((e as NodeJS.ErrnoException).code ?? String(e), `give ${flag} a file you can read`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(st.isDirectory() ? "it is a folder" : "not a regular file (a device, FIFO or socket)");
    if (st.size > max) throw refuse(`it is larger than ${size(max)} (${st.size} bytes)`, `check that ${path} is the file you meant for ${flag}`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) throw refuse(`it is larger than ${size(max)}`, `check that ${path} is the file you meant for ${flag}`);
    }
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw refuse((e as NodeJS.ErrnoException).code ?? String(e), `give ${flag} a file you can read`);
  } finally {
    closeSync(fd);
  }
}
