#!/bin/bash
# managed by relay6 for site moved. Re-render instead of editing.
# Removes relay6 from this router and puts back what it replaced. Run as root: sudo bash undo.sh
# Only what relay6 made goes: its files, units, firewall chains, addresses and the sysctl
# values it set. What setup.sh found before its first run (/var/lib/relay6/router/originals)
# comes back, and what ran before runs again. Packages stay installed. Idempotent.
# Exit 1, with what failed, when something could not be put back.
set -uo pipefail
[ "$(id -u)" -eq 0 ] || { echo "undo.sh: run me as root" >&2; exit 1; }
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
state=/var/lib/relay6/router
originals="$state/originals"
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
      p="${f#"$originals/files"}"
      if cmp -s "$f" "$p" && [ "$(stat -c '%a %U:%G' "$f")" = "$(stat -c '%a %U:%G' "$p" 2>/dev/null)" ]; then continue; fi
      printf '[#] restore %s (as relay6 found it)\n' "$p" >&2
      { mkdir -p "$(dirname "$p")" && cp -a -- "$f" "$p.relay6-restore" && mv -f -- "$p.relay6-restore" "$p"; } || could_not "restore $p"
    done < <(find "$originals/files" \( -type f -o -type l \) -print0)
  fi
  if [ -d "$originals/absent" ]; then
    while IFS= read -r -d '' f; do
      p="${f#"$originals/absent"}"
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
    [ "$(sysctl -n "${line%%=*}" 2>/dev/null)" = "${line#*=}" ] && continue
    try "set $line" sysctl -q -w "$line"
  done < <(tac "$originals/$1")
}

undo_done() {
  if [ "${#failures[@]}" -gt 0 ]; then
    printf '\n[relay6] UNDO INCOMPLETE: %s thing(s) could not be put back:\n' "${#failures[@]}" >&2
    printf '[relay6]   - %s\n' "${failures[@]}" >&2
    printf '[relay6] what relay6 found before its first run is kept in %s: fix the above and run undo.sh again\n' "$originals" >&2
    exit 1
  fi
  local parent_made=0
  [ -e "$originals/parent-made" ] && parent_made=1
  run rm -rf -- "$state"
  # The parent, when relay6 made it and the other end of a relay (same host) keeps nothing there.
  if [ "$parent_made" = 1 ] && [ -z "$(ls -A -- "${state%/*}" 2>/dev/null)" ]; then run rmdir -- "${state%/*}"; fi
  printf '\n[relay6] undone: relay6'\''s files, rules, units and routes are gone; what it replaced is back\n' >&2
}
if [ ! -d "$originals" ]; then
  printf '[relay6] nothing to undo: %s does not exist (relay6 has not set this router up, or undo.sh already ran)\n' "$originals" >&2
  exit 0
fi
units=(relay6-router-net wg-quick@wg0 radvd relay6-ra-drain relay6-gw-check)

step 'units'
# Last started, first stopped: the firewall goes last.
for ((i = ${#units[@]} - 1; i >= 0; i--)); do
  u="${units[i]}"
  if systemctl -q is-active "$u" 2>/dev/null && ! rec services "active:$u"; then try "stop $u" systemctl stop "$u"; fi
  if systemctl -q is-enabled "$u" 2>/dev/null && ! rec services "enabled:$u"; then try "disable $u" systemctl disable -q "$u"; fi
done
# relay6's chains and addresses, also when its unit was not running.
if [ -x /usr/local/sbin/relay6-router-net ]; then try 'remove relay6-router-net'"'"'s chains and addresses' /usr/local/sbin/relay6-router-net stop; fi

step 'files'
undo_files
try "reload systemd" systemctl daemon-reload
# The RA drain's running copy of radvd.conf goes with its drop-in.
if [ ! -f /etc/systemd/system/radvd.service.d/relay6.conf ]; then rm -f /run/relay6/radvd.conf; fi

step 'sysctl'
undo_sysctl sysctl

step 'what ran before relay6'
for u in "${units[@]}"; do
  if rec services "active:$u"; then
    if systemctl -q is-active "$u" 2>/dev/null; then try "restart $u with its original files" systemctl restart "$u"; else try "start $u again" systemctl start "$u"; fi
  fi
done

undo_done
