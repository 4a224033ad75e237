// The shell functions both hosts' setup.sh and undo.sh share (the VPS, a Linux router):
// install a file only when it differs, keep what it replaced for a rollback of this run
// and (once, the first time) for undo.sh, and put it all back.
//
//   $backup               this run's copies: files/<path> (as it was), absent/<path> (it
//                         was not there), sysctl (live values before), state/ (relay6's
//                         own state dir as it was). Removed when the run succeeds.
//   $state/originals      what relay6 found before it first changed anything, recorded
//                         once per path: files/<path>, absent/<path>, dirs (directories
//                         relay6 made, one a line), sysctl (key=value before relay6).
//                         undo.sh puts it back, then removes $state.
import { MANAGED_MARK } from "./types.js";

/** Where relay6 keeps its state on a host (one directory per role). */
export const stateDir = (role: "vps" | "router") => `/var/lib/relay6/${role}`;

/** A template for bash text: backslashes stay as written (String.raw), `${x}` interpolates,
 *  and `\${...}` is bash's own `${...}`. */
export function bash(strings: TemplateStringsArray, ...values: unknown[]): string {
  return String.raw(strings, ...values).replace(/\\\$\{/g, "${");
}

/** Functions for setup.sh. Expects `here` (the rendered folder), `state` and `run`/`step`. */
export const SETUP_FUNCTIONS = bash`originals="$state/originals"
backup="$(mktemp -d /tmp/relay6-backup.XXXXXX)"
saved=() made_dirs=() failures=() installed_packages=()
changed=0
state_existed=0 state_parent_existed=0
if [ -d "$state" ]; then state_existed=1; cp -a "$state" "$backup/state"; fi
if [ -d "\${state%/*}" ]; then state_parent_existed=1; fi

# ensure_originals: relay6's state dir, made when first needed; whether its parent
# (/var/lib/relay6) was made too is noted, so that undo.sh removes only what relay6 made.
ensure_originals() {
  [ -d "$originals" ] && return 0
  local parent="\${state%/*}" made=0
  [ -d "$parent" ] || made=1
  install -d -m 700 "$state" "$originals"
  if [ "$made" = 1 ]; then : > "$originals/parent-made"; fi
}

# save PATH: keeps PATH as this run found it (content, mode, owner; or that it was absent),
# once per run, for the rollback.
save() {
  local p="$1"
  if [ -e "$backup/files$p" ] || [ -e "$backup/absent$p" ]; then return 0; fi
  if [ -e "$p" ] || [ -L "$p" ]; then mkdir -p "$backup/files$(dirname "$p")"; cp -a "$p" "$backup/files$p"
  else mkdir -p "$backup/absent$(dirname "$p")"; : > "$backup/absent$p"; fi
  saved+=("$p")
}

# keep_original PATH: the first time relay6 replaces PATH, what was there (or that nothing
# was), for undo.sh. A file that already carries relay6's header is relay6's own (left by a
# relay6 older than this record): undo removes it.
keep_original() {
  local p="$1"
  if [ -e "$originals/files$p" ] || [ -e "$originals/absent$p" ]; then return 0; fi
  ensure_originals
  if [ -e "$p" ] && ! grep -q '${MANAGED_MARK}' <(head -n 3 -- "$p" 2>/dev/null); then mkdir -p "$originals/files$(dirname "$p")"; cp -a "$p" "$originals/files$p"
  else mkdir -p "$originals/absent$(dirname "$p")"; : > "$originals/absent$p"; fi
}

# note_new_dirs DIR: DIR and each missing directory above it, before something creates
# them: the rollback and undo.sh remove them again.
note_new_dirs() {
  local d="$1" list=()
  while [ ! -d "$d" ]; do list=("$d" "\${list[@]}"); d="$(dirname "$d")"; done
  for d in "\${list[@]}"; do
    made_dirs+=("$d")
    ensure_originals
    grep -qxF -- "$d" "$originals/dirs" 2>/dev/null || printf '%s\n' "$d" >> "$originals/dirs"
  done
}

# install_file SRC DST MODE OWNER FLAG: installs SRC when content, mode or owner differ, by
# an atomic rename, and sets the variable FLAG to 1 (none: no flag). A failure stops the
# run, and the rollback puts everything back: it is never skipped.
install_file() {
  local src="$here/$1" dst="$2" mode="$3" owner="$4" flag="$5"
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c '%a %U:%G' "$dst")" = "$mode $owner" ]; then return 0; fi
  save "$dst"
  save "$dst.relay6-new"
  keep_original "$dst"
  note_new_dirs "$(dirname "$dst")"
  run install -D -m "$mode" -o "\${owner%%:*}" -g "\${owner##*:}" "$src" "$dst.relay6-new"
  run mv -f "$dst.relay6-new" "$dst"
  changed=1
  if [ "$flag" != none ]; then printf -v "$flag" 1; fi
}

# The keys a sysctl file sets (dotted or slashed), one a line.
sysctl_keys() { sed -n 's/^[[:space:]]*\([^#;[:space:]][^=[:space:]]*\)[[:space:]]*=.*/\1/p' "$1"; }
has_key() { [ -f "$2" ] && awk -F= -v k="$1" '$1 == k { f = 1 } END { exit !f }' "$2"; }

# save_sysctl FILE [NAME]: the live values of the keys FILE sets, before this run (and
# before relay6's first run, for undo.sh: in $originals/NAME, default sysctl).
save_sysctl() {
  local k v name="\${2:-sysctl}"
  for k in $(sysctl_keys "$1"); do
    v="$(sysctl -n "$k" 2>/dev/null)" || continue
    has_key "$k" "$backup/sysctl" || printf '%s=%s\n' "$k" "$v" >> "$backup/sysctl"
    ensure_originals
    has_key "$k" "$originals/$name" || printf '%s=%s\n' "$k" "$v" >> "$originals/$name"
  done
}

# --- the rollback's parts: each failure is reported and counted, none stops the rest -----
could_not() { failures+=("$*"); printf '[relay6] ROLLBACK: could not %s\n' "$*" >&2; }

restore_file() {
  local p="$1"
  if [ -e "$backup/absent$p" ]; then
    if [ -e "$p" ] || [ -L "$p" ]; then rm -f -- "$p" && printf '[#] removed %s\n' "$p" >&2; fi
  else
    cp -a -- "$backup/files$p" "$p.relay6-restore" && mv -f -- "$p.relay6-restore" "$p" && printf '[#] restored %s\n' "$p" >&2
  fi
}

# Every file this run touched, the directories it made, relay6's state dir: as they were.
restore_files() {
  local p i
  for p in "\${saved[@]}"; do restore_file "$p" || could_not "restore $p"; done
  for ((i = \${#made_dirs[@]} - 1; i >= 0; i--)); do
    p="\${made_dirs[i]}"
    if [ -d "$p" ]; then rmdir -- "$p" && printf '[#] removed %s/\n' "$p" >&2 || could_not "remove the directory $p"; fi
  done
  rm -rf -- "$state" || could_not "remove $state"
  if [ "$state_existed" = 1 ]; then cp -a -- "$backup/state" "$state" || could_not "restore $state"; fi
  if [ "$state_parent_existed" = 0 ] && [ -d "\${state%/*}" ]; then rmdir -- "\${state%/*}" || could_not "remove \${state%/*}"; fi
}

# The live sysctl values as they were, last key first.
restore_sysctl() {
  local line
  [ -s "$backup/sysctl" ] || return 0
  while IFS= read -r line; do sysctl -q -w "$line" >/dev/null || could_not "set $line"; done < <(tac "$backup/sysctl")
  printf '[#] sysctl values restored: %s\n' "$(cut -d= -f1 "$backup/sysctl" | tr '\n' ' ')" >&2
}

# The end of a rollback: exit with the run's status, and say whether all came back.
rollback_done() {
  local status="$1"
  if [ "\${#installed_packages[@]}" -gt 0 ]; then printf '[relay6] packages this run installed stay installed: %s\n' "\${installed_packages[*]}" >&2; fi
  if [ "\${#failures[@]}" -gt 0 ]; then
    printf '[relay6] ROLLBACK INCOMPLETE: %s thing(s) could not be put back:\n' "\${#failures[@]}" >&2
    printf '[relay6]   - %s\n' "\${failures[@]}" >&2
    printf '[relay6] the copies saved before this run are kept in %s\n' "$backup" >&2
  else
    rm -rf "$backup"
    printf '[relay6] rolled back: this host is as it was before the run\n' >&2
  fi
  exit "$status"
}`;

/** Functions for undo.sh. Expects `state`, `run`. */
export const UNDO_FUNCTIONS = bash`originals="$state/originals"
failures=()
could_not() { failures+=("$*"); printf '[relay6] could not %s\n' "$*" >&2; }
# try WHAT CMD...: runs CMD (shown first); a failure is reported and counted, not fatal.
try() { local what="$1"; shift; run "$@" || could_not "$what"; }
rec() { [ -f "$originals/$1" ] && grep -q "^$2=1$" "$originals/$1"; }

# Every file relay6 replaced back as it found it; every file it created removed; then the
# directories it made, if empty.
undo_files() {
  local f p d
  if [ -d "$originals/files" ]; then
    while IFS= read -r -d '' f; do
      p="\${f#"$originals/files"}"
      if cmp -s "$f" "$p" && [ "$(stat -c '%a %U:%G' "$f")" = "$(stat -c '%a %U:%G' "$p" 2>/dev/null)" ]; then continue; fi
      printf '[#] restore %s (as relay6 found it)\n' "$p" >&2
      { mkdir -p "$(dirname "$p")" && cp -a -- "$f" "$p.relay6-restore" && mv -f -- "$p.relay6-restore" "$p"; } || could_not "restore $p"
    done < <(find "$originals/files" \( -type f -o -type l \) -print0)
  fi
  if [ -d "$originals/absent" ]; then
    while IFS= read -r -d '' f; do
      p="\${f#"$originals/absent"}"
      if [ -e "$p" ] || [ -L "$p" ]; then try "remove $p" rm -f -- "$p"; fi
    done < <(find "$originals/absent" -type f -print0)
  fi
  if [ -f "$originals/dirs" ]; then
    while IFS= read -r d; do
      if [ -d "$d" ]; then try "remove the directory $d (not empty?)" rmdir -- "$d"; fi
    done < <(tac "$originals/dirs")
  fi
}

# The sysctl values relay6 changed, as it found them (last key first).
undo_sysctl() {
  local line
  [ -s "$originals/$1" ] || return 0
  while IFS= read -r line; do
    [ "$(sysctl -n "\${line%%=*}" 2>/dev/null)" = "\${line#*=}" ] && continue
    try "set $line" sysctl -q -w "$line"
  done < <(tac "$originals/$1")
}

undo_done() {
  if [ "\${#failures[@]}" -gt 0 ]; then
    printf '\n[relay6] UNDO INCOMPLETE: %s thing(s) could not be put back:\n' "\${#failures[@]}" >&2
    printf '[relay6]   - %s\n' "\${failures[@]}" >&2
    printf '[relay6] what relay6 found before its first run is kept in %s: fix the above and run undo.sh again\n' "$originals" >&2
    exit 1
  fi
  local parent_made=0
  [ -e "$originals/parent-made" ] && parent_made=1
  run rm -rf -- "$state"
  # The parent, when relay6 made it and the other end of a relay (same host) keeps nothing there.
  if [ "$parent_made" = 1 ] && [ -z "$(ls -A -- "\${state%/*}" 2>/dev/null)" ]; then run rmdir -- "\${state%/*}"; fi
  printf '\n[relay6] undone: relay6'\''s files, rules, units and routes are gone; what it replaced is back\n' >&2
}`;
