// Applying over SSH, shared by the targets that do it (the VPS, a Linux router):
//   1. read the state of every file relay6 manages on the host (secrets by hash only)
//   2. show the diff; with --dry-run stop here
//   3. upload the rendered folder of that end to a private temp dir and run its setup.sh
//      there, detached from the SSH channel (a dropped connection cannot stop it half
//      way), following its log: it installs only what differs (atomic renames), reloads
//      live, prints each command, and rolls everything back if a step fails. If the
//      connection drops, relay6 reconnects, reattaches and reports the run's real exit
//      status.
//   4. the temp dir goes as soon as setup.sh ends (the run removes it itself)
import { createHash, randomBytes } from "node:crypto";
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

/** How long relay6 keeps trying to reach the host again when the connection drops while
 *  setup.sh runs, and how long a silent connection counts as alive. */
export const RECONNECT = { forMs: 180_000, everyMs: 2_000, silenceMs: 20_000 };

/** Starts `bash DIR/setup.sh` detached from the SSH channel, so that a dropped connection
 *  cannot kill it half way: a transient systemd unit where systemd is PID 1, else a new
 *  session (setsid nohup). Its output goes to RUN/log, its exit status to RUN/status
 *  (written last, atomically), its pid to RUN/pid; the uploaded folder (secrets) is removed
 *  as soon as it ends. RUN is private (0700, under /run/relay6). */
export function startScript(dir: string, run: string, unit: string): string {
  return [
    "set -eu",
    "umask 077",
    `dir=${shQuote(dir)} run=${shQuote(run)}`,
    'install -d -m 700 /run/relay6 && mkdir "$run"',
    `wrapper='echo $$ > "$2/pid"; bash "$1/setup.sh" > "$2/log" 2>&1 < /dev/null; s=$?; rm -rf -- "$1"; echo "$s" > "$2/status.new"; mv "$2/status.new" "$2/status"'`,
    "if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then",
    // A unit starts with an empty environment: what setup.sh and firewall.sh need goes along
    // (SSH_CONNECTION: the port of this session stays open).
    "  envs=()",
    '  for v in SSH_CONNECTION WG_QUICK_USERSPACE_IMPLEMENTATION WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD; do if [ -n "${!v:-}" ]; then envs+=("--setenv=$v=${!v}"); fi; done',
    `  systemd-run --quiet --collect --unit=${shQuote(unit)} "\${envs[@]}" bash -c "$wrapper" relay6 "$dir" "$run"`,
    `  echo "started as the transient unit ${unit}"`,
    "else",
    '  setsid nohup bash -c "$wrapper" relay6 "$dir" "$run" > /dev/null 2>&1 < /dev/null &',
    '  echo "started in its own session (setsid; no systemd here)"',
    "fi",
    'for _ in $(seq 200); do [ -s "$run/pid" ] && exit 0; sleep 0.05; done',
    'echo "setup.sh did not start" >&2; exit 1',
  ].join("\n");
}

/** Follows RUN/log from byte OFFSET: prints its complete lines as they come, a heartbeat
 *  line every 5 s, and at the end one line with the run's exit status (or that the run
 *  died without one, or that its record is gone). Control lines carry TOKEN, which no
 *  log line can hold by chance. */
export function followScript(run: string, token: string, offset: number): string {
  const t = shQuote(`@@${token}`);
  return [
    "export LC_ALL=C",
    `run=${shQuote(run)} off=${offset} last=$(date +%s)`,
    "emit() {",
    "  local line",
    '  while IFS= read -r line; do printf \'%s\\n\' "$line"; off=$((off + ${#line} + 1)); done < <(tail -c +$((off + 1)) "$run/log" 2>/dev/null)',
    "}",
    'alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d " " -f 3 "/proc/$1/stat")" != Z ]; }',
    "while :; do",
    `  [ -d "$run" ] || { printf '%s gone\\n' ${t}; exit 0; }`,
    "  emit",
    '  if [ -e "$run/status" ]; then',
    "    emit",
    '    rest="$(tail -c +$((off + 1)) "$run/log")"',
    `    [ -z "$rest" ] || printf '%s\\n' "$rest"`,
    `    printf '%s status %s\\n' ${t} "$(cat "$run/status")"`,
    "    exit 0",
    "  fi",
    '  if ! alive "$(cat "$run/pid")"; then',
    '    sleep 0.3; [ -e "$run/status" ] && continue',
    `    emit; printf '%s lost\\n' ${t}; exit 0`,
    "  fi",
    `  now=$(date +%s); if [ $((now - last)) -ge 5 ]; then printf '%s alive\\n' ${t}; last=$now; fi`,
    "  sleep 0.2",
    "done",
  ].join("\n");
}

type RunEnd = { kind: "status"; code: number } | { kind: "lost" } | { kind: "gone" };

/** Uploads one end's rendered folder (`vps/`, `router/`) to a private temp dir on the
 *  host and runs its setup.sh there, detached from the SSH channel (startScript). relay6
 *  follows its log; when the connection drops it reconnects, reattaches from where it
 *  was, and reports the run's real exit status. Secrets go over stdin, never on a command
 *  line. Returns what setup.sh printed. */
export async function uploadAndRun(session: SshSession, artifacts: readonly Artifact[], prefix: string, log: (line: string) => void): Promise<string> {
  const host = session.target.host;
  const dir = (await session.run("umask 077; mktemp -d /tmp/relay6-apply.XXXXXX")).trim();
  if (!/^\/tmp\/relay6-apply\.[A-Za-z0-9]+$/.test(dir)) throw new Error(`internal: unexpected temp dir ${JSON.stringify(dir)}`);
  const id = dir.slice("/tmp/relay6-apply.".length);
  const run = `/run/relay6/apply-${id}`;
  const token = randomBytes(12).toString("hex");
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
      log(`[${host}]# write ${dir}/${rel} (${a.mode.toString(8)}${rel.startsWith("secrets/") ? ", secret" : ""})`);
    }
    await session.run("set -e; umask 077; bash -s", { stdin: `set -e\n${script}\n`, quiet: true });
    const how = await session.run(startScript(dir, run, `relay6-apply-${id}`), { show: `bash ${dir}/setup.sh, detached (log: ${run}/log)` });
    log(`  ${how.trim()}`);
  } catch (e) {
    // Nothing runs yet: the upload (secrets included) goes at once.
    await session.exec(`rm -rf ${shQuote(dir)} ${shQuote(run)}`, { quiet: true }).catch(() => {});
    throw e;
  }

  let output = "";
  let offset = 0;
  let current = session;
  const opened: SshSession[] = [];
  try {
    for (;;) {
      const end = await followOnce(current, run, token, offset, (line) => {
        output += `${line}\n`;
        offset += Buffer.byteLength(line) + 1;
        if (line.trim()) log(`  ${line}`);
      });
      if (end) {
        if (end.kind === "gone") throw new UserError(`the record of the run on ${host} (${run}) is gone (did the host reboot?)`, [], 1, "run relay6 apply again: setup.sh starts over from the files relay6 uploads");
        if (end.kind === "lost") throw new UserError(`setup.sh on ${host} stopped without an exit status (killed, or out of memory?): its log is in ${run}/log`, [], 1, `read ${run}/log on the host (journalctl -k for the OOM killer), then run relay6 apply again`);
        if (end.code !== 0) {
          const incomplete = output.includes("ROLLBACK INCOMPLETE") ? "; its rollback could not put everything back (see above)" : "";
          throw new UserError(`setup.sh failed on ${host} (exit ${end.code})${incomplete}; its log is kept in ${run}/log`, [], 1, `read the failing step above (the whole log: ${run}/log on the host), fix the host or the site file, then run relay6 apply again`);
        }
        await current.exec(`rm -rf ${shQuote(run)}`, { quiet: true }).catch(() => {});
        return output;
      }
      log(`connection to ${host} lost while setup.sh runs there (detached: it goes on); reconnecting`);
      current = await reconnect(session, log);
      opened.push(current);
      log(`reattached to the run on ${host} (its log from byte ${offset})`);
    }
  } finally {
    for (const s of opened) s.close();
  }
}

/** One follower over one connection: the run's end, or undefined when the connection
 *  dropped (closed, or silent for longer than RECONNECT.silenceMs). */
async function followOnce(session: SshSession, run: string, token: string, offset: number, onLine: (line: string) => void): Promise<RunEnd | undefined> {
  const mark = `@@${token} `;
  let end: RunEnd | undefined;
  let partial = "";
  let heard = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - heard > RECONNECT.silenceMs) session.close();
  }, 1000);
  let r: { code: number; stderr: string } | undefined;
  try {
    r = await session.exec(followScript(run, token, offset), {
      quiet: true,
      onOutput: (chunk) => {
        heard = Date.now();
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (end) continue;
          if (!line.startsWith(mark)) onLine(line);
          else {
            const what = line.slice(mark.length).split(" ");
            if (what[0] === "status") end = { kind: "status", code: Number(what[1]) };
            else if (what[0] === "lost") end = { kind: "lost" };
            else if (what[0] === "gone") end = { kind: "gone" };
          }
        }
      },
    });
  } catch {
    // The connection was gone already (exec refused): reconnect.
  } finally {
    clearInterval(watchdog);
  }
  // The follower ended on its own without saying how the run ended (255: the connection).
  if (!end && r && r.code !== 255) throw new Error(`internal: the log follower on ${session.target.host} exited ${r.code}: ${r.stderr.trim()}`);
  return end;
}

/** A new SSH session to the same host, with the same target (host key checked again). */
async function reconnect(session: SshSession, log: (line: string) => void): Promise<SshSession> {
  const { SshSession } = await import("../remote/ssh.js");
  const until = Date.now() + RECONNECT.forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await SshSession.connect({ ...session.target, acceptNewHostKey: false });
    } catch (e) {
      if (e instanceof UserError && /host key/i.test(e.message)) throw e;
      if (Date.now() > until)
        throw new UserError(`lost the connection to ${session.target.host} while setup.sh ran there, and could not reconnect for ${RECONNECT.forMs / 1000} s: it may have finished`, [], 1, "log in to the host and read /run/relay6/apply-*/log and its status file, then run relay6 apply again once the host is reachable");
      log(`  reconnect attempt ${attempt} failed (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, RECONNECT.everyMs));
    }
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
