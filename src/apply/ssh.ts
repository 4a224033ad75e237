// Applying over SSH, shared by the targets that do it (the VPS, a Linux router):
//   1. read the state of every file relay6 manages on the host (secrets by hash only)
//   2. show the diff; with --dry-run stop here
//   3. upload the rendered folder of that end to a private temp dir and run its setup.sh,
//      which installs only what differs, reloads live, prints each command, and rolls
//      everything back if a step fails
//   4. remove the temp dir
import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";
import { redactSecrets } from "./redact.js";
import { shQuote } from "../render/quote.js";
import type { Artifact } from "../render/types.js";
import type { SshSession } from "../remote/ssh.js";

/** A file relay6 installs on a host over SSH: where, how, and whether it is a secret. */
export interface ManagedFile {
  dst: string;
  content: string;
  /** Octal mode as installed, e.g. "600". */
  mode: string;
  /** user:group as installed; undefined when the host's setup script decides. */
  owner?: string;
  secret: boolean;
}
import { UserError } from "../errors.js";

export type FileAction = "create" | "update" | "mode" | "unchanged";

export interface FileChange {
  path: string;
  action: FileAction;
  secret: boolean;
  /** Unified diff (never for secrets; secret values inside it are <redacted>). */
  diff?: string;
  /** Some lines of the diff held secret values, shown as <redacted>. */
  secretsHidden?: true;
  from?: string;
  to: string;
}

interface RemoteFile {
  exists: boolean;
  modeOwner?: string;
  /** Content (base64-decoded), or the sha256 of a secret. */
  body?: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** One command that reports every managed file: content in base64, secrets as sha256. */
export function stateCommand(files: readonly ManagedFile[]): string {
  const lines = files.map((f) => {
    const p = shQuote(f.dst);
    const body = f.secret ? `sha256sum < ${p} | cut -d ' ' -f 1` : `base64 -w 0 < ${p}; echo`;
    return `if [ -e ${p} ]; then printf 'FILE\\t%s\\t%s\\t' ${p} "$(stat -c '%a %U:%G' ${p})"; ${body}; else printf 'MISSING\\t%s\\n' ${p}; fi`;
  });
  return lines.join("\n");
}

export function parseState(output: string): Map<string, RemoteFile> {
  const out = new Map<string, RemoteFile>();
  for (const line of output.split("\n")) {
    const f = line.split("\t");
    if (f[0] === "MISSING" && f[1]) out.set(f[1], { exists: false });
    else if (f[0] === "FILE" && f[1]) out.set(f[1], { exists: true, modeOwner: f[2] ?? "", body: f[3] ?? "" });
  }
  return out;
}

/** The unified diff as apply shows it: secret values of either side (a hand-made
 *  wg0.conf's PrivateKey, a password) replaced by <redacted> first (src/apply/redact.ts). */
function shownDiff(from: string, to: string, oldText: string, newText: string): { diff: string; secretsHidden?: true } {
  const a = redactSecrets(oldText);
  const b = redactSecrets(newText);
  return { diff: createTwoFilesPatch(from, to, a.text, b.text), ...(a.redacted || b.redacted ? { secretsHidden: true as const } : {}) };
}

export function diffFiles(files: readonly ManagedFile[], remote: Map<string, RemoteFile>): FileChange[] {
  return files.map((f) => {
    const r = remote.get(f.dst) ?? { exists: false };
    const to = f.owner ? `${f.mode} ${f.owner}` : f.mode;
    const had = f.owner ? r.modeOwner : r.modeOwner?.split(" ")[0];
    if (!r.exists) return { path: f.dst, action: "create", secret: f.secret, to, ...(f.secret ? {} : shownDiff("/dev/null", f.dst, "", f.content)) };
    const old = f.secret ? r.body : Buffer.from(r.body ?? "", "base64").toString("utf8");
    const same = f.secret ? old === sha256(f.content) : old === f.content;
    if (!same)
      return { path: f.dst, action: "update", secret: f.secret, ...(had !== undefined ? { from: had } : {}), to, ...(f.secret ? {} : shownDiff(f.dst, f.dst, old ?? "", f.content)) };
    if (had !== to) return { path: f.dst, action: "mode", secret: f.secret, ...(had !== undefined ? { from: had } : {}), to };
    return { path: f.dst, action: "unchanged", secret: f.secret, to };
  });
}

/** Reads the state of the files relay6 manages on a host and diffs it with what it would
 *  install: the first step of every apply over SSH. */
export async function readAndDiff(session: SshSession, files: readonly ManagedFile[], log: (line: string) => void): Promise<{ host: string; hostKey: string; changes: FileChange[] }> {
  log(`reading the state of ${files.length} managed files`);
  const state = parseState(await session.run(stateCommand(files), { show: `stat + read ${files.map((f) => f.dst).join(" ")}` }));
  return { host: session.target.host, hostKey: session.hostKeyFingerprint, changes: diffFiles(files, state) };
}

/** Uploads one end's rendered folder (`vps/`, `router/`) to a private temp dir on the
 *  host, runs its setup.sh there with the output streamed to `log`, and removes the dir.
 *  Secrets go over stdin, never on a command line. Returns what setup.sh printed. */
export async function uploadAndRun(session: SshSession, artifacts: readonly Artifact[], prefix: string, log: (line: string) => void): Promise<string> {
  const dir = (await session.run("umask 077; mktemp -d /tmp/relay6-apply.XXXXXX")).trim();
  if (!/^\/tmp\/relay6-apply\.[A-Za-z0-9]+$/.test(dir)) throw new Error(`internal: unexpected temp dir ${JSON.stringify(dir)}`);
  try {
    const files = artifacts.filter((x) => x.path.startsWith(prefix));
    // One round trip for the whole folder: a script on stdin that writes each file from
    // base64 (contents, secrets included, never reach a command line).
    const script = files
      .map((a) => {
        const dst = `${dir}/${a.path.slice(prefix.length)}`;
        const b64 = Buffer.from(a.content).toString("base64").replace(/(.{76})/g, "$1\n");
        return `mkdir -p ${shQuote(dst.slice(0, dst.lastIndexOf("/")))}\nbase64 -d > ${shQuote(dst)} <<'RELAY6_EOF'\n${b64}\nRELAY6_EOF\nchmod ${a.mode.toString(8)} ${shQuote(dst)}`;
      })
      .join("\n");
    for (const a of files) {
      const rel = a.path.slice(prefix.length);
      log(`[${session.target.host}]# write ${dir}/${rel} (${a.mode.toString(8)}${rel.startsWith("secrets/") ? ", secret" : ""})`);
    }
    await session.run("set -e; umask 077; bash -s", { stdin: `set -e\n${script}\n`, quiet: true });
    let output = "";
    const r = await session.exec(`bash ${shQuote(`${dir}/setup.sh`)}`, {
      onOutput: (chunk) => {
        output += chunk;
        for (const line of chunk.split("\n")) if (line.trim()) log(`  ${line}`);
      },
    });
    if (r.code !== 0) throw new UserError(`setup.sh failed on ${session.target.host} (exit ${r.code})`, [], 1);
    return output;
  } finally {
    await session.exec(`rm -rf ${shQuote(dir)}`, { quiet: true });
  }
}

export function formatChanges(changes: readonly FileChange[]): string {
  const L: string[] = [];
  for (const c of changes) {
    if (c.action === "unchanged") continue;
    const what = c.action === "mode" ? `mode/owner ${c.from} -> ${c.to}` : c.action === "create" ? `new (${c.to})` : `changed${c.from !== c.to ? ` (${c.from} -> ${c.to})` : ""}`;
    L.push(`~ ${c.path}: ${what}${c.secret ? " [secret: contents not shown]" : c.secretsHidden ? " [secret values shown as <redacted>]" : ""}`);
    if (c.diff) L.push(...c.diff.split("\n").slice(2).filter((l) => l !== "\\ No newline at end of file").map((l) => `    ${l}`));
  }
  return L.length === 0 ? "no file changes" : L.join("\n");
}

/** The result of an apply over SSH as ApplyReport fields: JSON, or the diff, the outcome
 *  and `notes` (one line each). `what`: "VPS", "router". */
export function sshReport(result: { changes: FileChange[]; outcome: "dry-run" | "no-changes" | "changed"; host: string }, what: string, notes: string[]): { text: string; json: unknown; failed: boolean } {
  const L = [formatChanges(result.changes)];
  if (result.outcome === "dry-run") L.push("dry run: nothing changed. setup.sh would also check packages, sysctl and the firewall rules.");
  else if (result.outcome === "no-changes") L.push(`no changes: the ${what} already matches the plan`);
  else L.push(`applied to ${result.host}`);
  return { text: [...L, ...notes].join("\n"), json: result, failed: false };
}
