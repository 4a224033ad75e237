// The one writer: artifacts go to a temporary directory beside the target, then move into
// place in one rename. A failure leaves the previous output untouched, never half of it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { UserError } from "../errors.js";
import type { Artifact } from "../render/types.js";

export function writeArtifacts(outDir: string, artifacts: readonly Artifact[]): void {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  if (existsSync(target) && readdirSync(target).length > 0 && !existsSync(join(target, "plan.json")))
    throw new UserError(`${outDir} exists and was not made by relay6 render (no plan.json in it)`, [
      { code: "out-not-relay6", severity: "error", path: "", message: "refusing to replace a directory relay6 did not write", fix: "choose an empty or new directory with --out" },
    ]);
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.relay6-`));
  try {
    for (const a of artifacts) {
      const p = resolve(tmp, a.path);
      if (!p.startsWith(tmp + sep)) throw new Error(`internal: artifact path ${a.path} escapes the output directory`);
      mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
      writeFileSync(p, a.content, { mode: a.mode });
      chmodSync(p, a.mode); // the umask must not widen or narrow what the renderer chose
    }
    // The output's directories are ordinary (0755: copied around, read by the lab's
    // daemons); what must stay private is private by its own mode (secrets/, wg0.conf: 0600,
    // created so, inside mkdtemp's 0700 directory until the rename).
    chmodSync(tmp, 0o755);
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
