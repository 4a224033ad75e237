// The one writer: artifacts go to a temporary directory beside the target, then move into
// place in one rename. A failure leaves the previous output untouched, never half of it.
//
// relay6 replaces only what it wrote. Every output folder carries a marker,
// relay6-output.json, that names who it was rendered for (the relay, if any, and every
// site) and lists every path relay6 wrote there, each file with the sha256 of its content:
//
//   { "format": "relay6-output/1", "relay6": "0.1.0",
//     "sites": [{ "site": "home", "file": "/home/me/home.yaml" }],
//     "relay": { "name": "r1", "file": "/home/me/relay.yaml" },        (a relay render only)
//     "entries": [{ "path": "vps", "type": "dir" },
//                 { "path": "vps/setup.sh", "type": "file", "sha256": "…" }, …] }
//
// An existing folder is replaced only when it is empty, or when its marker lists every entry
// in it (a file added afterwards, or one changed since, is not relay6's) and names the same
// relay (or, without one, the same single site). Anything else is refused (exit 2) before
// anything is written.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { z } from "zod";
import { EXIT, fileSystemError, UserError } from "../errors.js";
import type { Artifact } from "../render/types.js";
import { readInputFile } from "./read.js";
import { VERSION } from "../version.js";

export const MARKER = "relay6-output.json";
const FORMAT = "relay6-output/1";

/** Who an output folder was rendered for: the relay (when relay6 renders one) and its sites. */
export interface OutputOwner {
  relay?: { name: string; file?: string };
  sites: { site: string; file?: string }[];
}

const Entry = z.discriminatedUnion("type", [
  z.object({ path: z.string(), type: z.literal("dir") }),
  z.object({ path: z.string(), type: z.literal("file"), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
]);
const Marker = z.object({
  format: z.literal(FORMAT),
  relay6: z.string(),
  relay: z.object({ name: z.string(), file: z.string().optional() }).optional(),
  sites: z.array(z.object({ site: z.string(), file: z.string().optional() })),
  entries: z.array(Entry),
});
type Marker = z.infer<typeof Marker>;

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The marker of these artifacts: every directory and file relay6 writes. */
export function markerFor(artifacts: readonly Artifact[], owner: OutputOwner): Marker {
  const dirs = new Set<string>();
  for (const a of artifacts) {
    const parts = a.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return {
    format: FORMAT,
    relay6: VERSION,
    ...(owner.relay ? { relay: owner.relay } : {}),
    sites: owner.sites,
    entries: [
      ...[...dirs].sort().map((path) => ({ path, type: "dir" as const })),
      ...artifacts.map((a) => ({ path: a.path, type: "file" as const, sha256: sha256(a.content) })).sort((a, b) => a.path.localeCompare(b.path)),
    ],
  };
}

/** "a, b and c", "a, b, c and 4 more". */
function few(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(", ")} and ${rest} more`;
  return shown.length <= 1 ? shown.join("") : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

const refuse = (outDir: string, message: string, detail: string, fix: string, code = "out-not-relay6") =>
  new UserError(`output folder ${outDir}: ${message}`, [{ code, severity: "error", path: "", file: outDir, message: detail, fix }], EXIT.badInput);

const MOVE_FIX = (outDir: string) => `move them out of ${outDir} (or delete them), or render into a new or empty folder with -o`;

function readMarker(dir: string, outDir: string): Marker | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, MARKER), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fileSystemError(e, `output folder ${outDir}`, { badPath: `${MARKER} in ${outDir} must be a file` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const m = Marker.safeParse(json);
  if (!m.success)
    throw refuse(outDir, `${MARKER} is not a marker this relay6 reads`, "relay6 cannot tell which files in it are its own", `delete ${outDir} (after saving what you want from it) and render again`);
  return m.data;
}

const ownerName = (o: OutputOwner) => (o.relay ? `relay ${o.relay.name}` : o.sites.length === 1 ? `site ${o.sites[0]!.site}` : `sites ${o.sites.map((s) => s.site).join(", ")}`);
// The same name and, where both record one, the same file: another site file that happens to
// use the same `site:` name is another owner.
const sameFile = (a?: string, b?: string) => a === undefined || b === undefined || a === b;
const sameOwner = (a: OutputOwner, b: OutputOwner) =>
  a.relay || b.relay
    ? a.relay?.name === b.relay?.name && sameFile(a.relay?.file, b.relay?.file)
    : a.sites.length === b.sites.length && a.sites.every((s, i) => s.site === b.sites[i]!.site && sameFile(s.file, b.sites[i]!.file));
const ownerFiles = (o: OutputOwner) => (o.relay?.file ? [o.relay.file] : o.sites.flatMap((s) => (s.file ? [s.file] : [])));

/** The entries of `dir` that its marker does not list (or lists as something else, or
 *  whose content changed since relay6 wrote it), as the user reads them. */
function unexpectedEntries(dir: string, marker: Marker): string[] {
  const listed = new Map(marker.entries.map((e) => [e.path, e]));
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (p === MARKER) continue;
      const want = listed.get(p);
      if (d.isDirectory()) {
        if (want?.type === "dir") walk(p);
        else out.push(`${p}/`);
      } else if (d.isFile()) {
        if (want?.type !== "file") out.push(p);
        else if (sha256(readFileSync(join(dir, p))) !== want.sha256) out.push(`${p} (changed since relay6 wrote it)`);
      } else out.push(`${p} (${d.isSymbolicLink() ? "a symbolic link" : "not a regular file"})`);
    }
  };
  walk("");
  return out;
}

/** What `outDir` is now: absent (made new), empty, or an output relay6 wrote for this
 *  owner. Anything else is refused (exit 2, naming a few of the entries that are not
 *  relay6's, and the fix); nothing is written here. */
export function checkOutput(outDir: string, owner: OutputOwner): { state: "absent" | "empty" | "ours"; path: string } {
  const target = resolve(outDir);
  let st;
  try {
    st = statSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw fileSystemError(e, `output folder ${outDir}`, { badPath: "-o must name a folder (new, empty, or one relay6 rendered)" }, "out-path");
    if (isSymlink(target)) throw refuse(outDir, "is a symbolic link to nothing", "relay6 neither writes through it nor replaces it", `point ${outDir} at a folder, or give -o another path`, "out-path");
    // The nearest existing ancestor must be a folder: -o under a regular file is a bad path.
    let up = dirname(target);
    while (up !== dirname(up)) {
      try {
        if (!statSync(up).isDirectory())
          throw refuse(outDir, `${up} is a file, not a folder`, "the output folder would be under a regular file", "give -o a path whose parents are folders", "out-path");
        break;
      } catch (e) {
        if (e instanceof UserError) throw e;
        up = dirname(up);
      }
    }
    return { state: "absent", path: target };
  }
  if (!st.isDirectory()) throw refuse(outDir, "is a file, not a folder", "render writes a folder of files", "give -o a new folder, an empty one, or one relay6 rendered", "out-path");
  const real = realpathSync(target);
  const names = readdirSync(real);
  if (names.length === 0) return { state: "empty", path: real };
  const marker = readMarker(real, outDir);
  if (!marker)
    throw refuse(outDir, `holds ${names.length === 1 ? "an entry" : `${names.length} entries`} relay6 did not write (no ${MARKER}): ${few(names.sort())}`, "relay6 replaces a folder only when every entry in it is one it wrote", `render into a new or empty folder with -o; if an older relay6 rendered ${outDir}, delete it and render again`);
  if (!sameOwner(marker, owner)) {
    const theirs = ownerFiles(marker).join(", ");
    const mine = ownerFiles(owner).join(", ");
    const sameName = ownerName(marker) === ownerName(owner);
    throw refuse(
      outDir,
      sameName ? `holds the render of ${ownerName(marker)} from another site file (${theirs}), not from ${mine}` : `holds the render of ${ownerName(marker)}, not of ${ownerName(owner)}`,
      `${MARKER} names ${ownerName(marker)}${theirs ? ` (${theirs})` : ""}`,
      sameName ? `render ${mine} into its own folder with -o (or give one of the two site files another \`site:\` name), or delete ${outDir} if ${theirs} is gone` : `render ${ownerName(owner)} into its own folder with -o, or delete ${outDir} first`,
      "out-other-owner",
    );
  }
  const unexpected = unexpectedEntries(real, marker);
  if (unexpected.length > 0)
    throw refuse(outDir, `holds ${unexpected.length === 1 ? "an entry" : `${unexpected.length} entries`} relay6 did not write: ${few(unexpected)}`, `${MARKER} does not list ${unexpected.length === 1 ? "it" : "them"} as relay6 wrote ${unexpected.length === 1 ? "it" : "them"}`, MOVE_FIX(outDir), "out-unexpected-entries");
  return { state: "ours", path: real };
}

/** Writes the artifacts and their marker as `outDir`, replacing an earlier render of the
 *  same owner in one rename; an empty folder is filled in place. */
export function writeArtifacts(outDir: string, artifacts: readonly Artifact[], owner: OutputOwner): void {
  const { state, path: target } = checkOutput(outDir, owner);
  const what = `output folder ${outDir}`;
  const badPath = { badPath: "give -o a path whose parents are folders" };
  const marker = markerFor(artifacts, owner);
  const files = [...artifacts, { path: MARKER, content: JSON.stringify(marker, null, 2) + "\n", mode: 0o644 }];
  const parent = dirname(target);
  let tmp: string;
  try {
    if (state !== "empty") mkdirSync(parent, { recursive: true });
    // An empty folder is filled in place (it may be a mount point, the shell's current
    // folder, or in a parent the user cannot write): the temp dir goes inside it.
    tmp = state === "empty" ? mkdtempSync(join(target, ".relay6-")) : mkdtempSync(join(parent, `.${basename(target)}.relay6-`));
  } catch (e) {
    throw fileSystemError(e, what, badPath, "out-path");
  }
  const moved: string[] = [];
  try {
    for (const a of files) {
      const p = resolve(tmp, a.path);
      if (!p.startsWith(tmp + sep)) throw new Error(`internal: artifact path ${a.path} escapes the output directory`);
      mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
      writeFileSync(p, a.content, { mode: a.mode });
      chmodSync(p, a.mode); // the umask must not widen or narrow what the renderer chose
    }
    // The output's directories are ordinary (0755: copied around, read by the lab's
    // daemons); what must stay private is private by its own mode (secrets/, wg0.conf: 0600,
    // created so, inside mkdtemp's 0700 directory until the rename).
    for (const e of marker.entries) if (e.type === "dir") chmodSync(join(tmp, e.path), 0o755);
    if (state === "empty") {
      // The marker first: a crash half way leaves a folder whose marker covers what is there.
      const top = [MARKER, ...readdirSync(tmp).filter((n) => n !== MARKER).sort()];
      for (const name of top) {
        renameSync(join(tmp, name), join(target, name));
        moved.push(name);
      }
      rmSync(tmp, { recursive: true, force: true });
      return;
    }
    chmodSync(tmp, 0o755);
    if (state === "ours") {
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, target);
  } catch (e) {
    for (const name of moved) rmSync(join(target, name), { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof UserError || !(e as NodeJS.ErrnoException).code) throw e;
    throw fileSystemError(e, what, badPath, "out-path");
  }
}

/** Whether `file` lies inside the folder `outDir` (which render replaces as a whole), by
 *  real paths: a symbolic link on either side does not hide it. */
export function isInside(file: string, outDir: string): boolean {
  const dir = realish(outDir);
  const f = realish(file);
  return f === dir || f.startsWith(dir + sep);
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended. */
function realish(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const up = dirname(abs);
    return up === abs ? abs : join(realish(up), basename(abs));
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Writes one file the user named (`schema -o FILE`): a new file, or one that `ours` says
 *  relay6 wrote, replaced in one rename from a temp file in the same folder. A symbolic link
 *  at `path` is refused, never followed; so is any other existing file (exit 2). */
export function replaceOwnFile(path: string, content: string, opts: { flag: string; what: string; mode: number; ours(text: string): boolean }): void {
  const refuse = (why: string, fix: string) => new UserError(`${opts.flag} ${path}: ${why}`, [], EXIT.badInput, fix);
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw fileSystemError(e, `${opts.what} ${path}`, { badPath: `give ${opts.flag} a file path whose folders exist` });
  }
  if (st?.isSymbolicLink()) throw refuse("is a symbolic link (relay6 does not write through it)", `give ${opts.flag} the path of a new file, or of the ${opts.what} itself`);
  if (st) {
    if (!st.isFile()) throw refuse("exists and is not a regular file", `give ${opts.flag} the path of a new file`);
    let text = "";
    try {
      text = readInputFile(path, opts.flag).toString("utf8");
    } catch {
      // too large or unreadable: not one relay6 wrote
    }
    if (!opts.ours(text)) throw refuse(`exists and is not a ${opts.what} relay6 wrote`, `give ${opts.flag} a new file name, or move ${path} away first`);
  }
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.relay6-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    writeFileSync(tmp, content, { mode: opts.mode, flag: "wx" });
    chmodSync(tmp, opts.mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fileSystemError(e, `${opts.what} ${path}`, { badPath: `give ${opts.flag} a file path whose folders exist` });
  }
}
