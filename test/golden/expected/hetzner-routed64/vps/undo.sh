#!/usr/bin/env bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# Removes relay6 from this VPS and puts back what it replaced. Run as root: sudo bash undo.sh
# Only what relay6 made goes: its files, its ufw rules (tagged with this site), wg0 and
# its routes, bird's relay6 configuration, the sysctl values it set. What setup.sh found
# before its first run (/var/lib/relay6/vps/originals) comes back. Packages stay installed.
# Idempotent. Exit 1, with what failed, when something could not be put back.
set -uo pipefail
[ "$(id -u)" -eq 0 ] || { echo "undo.sh: run me as root" >&2; exit 1; }
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
state=/var/lib/relay6/vps
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
has_systemd() { [ -d /run/systemd/system ]; }
bird_running() { birdc show status >/dev/null 2>&1; }
ufw_active() { [[ "$(ufw status 2>/dev/null)" == *"Status: active"* ]]; }
wg_start() { if has_systemd; then run systemctl enable --now wg-quick@wg0; else run wg-quick up wg0; fi; }
wg_stop() { if has_systemd; then run systemctl stop wg-quick@wg0; else run wg-quick down wg0; fi; }
# Without systemd (a container, the relay6 lab) bird runs as its own daemon.
bird_start() { if has_systemd; then run systemctl enable --now bird; else run mkdir -p /run/bird; run bird -c /etc/bird/bird.conf; fi; }
bird_stop() { if has_systemd; then run systemctl stop bird; else run birdc down >/dev/null; fi; }
# ufw_clear: what \`ufw disable\` leaves behind until the next boot (its chains, empty, still
# hooked into the built-in ones), removed: only chains named ufw*.
ufw_clear() {
  local t c rule
  for t in iptables ip6tables; do
    while read -r c rule; do $t -D "$c" $rule; done < <($t-save -t filter 2>/dev/null | sed -n 's/^-A \(INPUT\|OUTPUT\|FORWARD\) \(-j ufw6\{0,1\}-[a-z-]*\)$/\1 \2/p')
    for c in $($t-save -t filter 2>/dev/null | sed -n 's/^:\(ufw6\{0,1\}-[a-z-]*\) .*/\1/p'); do $t -F "$c"; done
    for c in $($t-save -t filter 2>/dev/null | sed -n 's/^:\(ufw6\{0,1\}-[a-z-]*\) .*/\1/p'); do $t -X "$c"; done
  done
}
tag='relay6 hetzner: '
if [ ! -d "$originals" ]; then
  printf '[relay6] nothing to undo: %s does not exist (relay6 has not set this VPS up, or undo.sh already ran)\n' "$originals" >&2
  exit 0
fi

step 'wg0'
if ip link show wg0 >/dev/null 2>&1; then
  if has_systemd; then try "stop wg-quick@wg0" systemctl stop wg-quick@wg0; else try "take wg0 down" wg-quick down wg0; fi
elif [ -x /etc/wireguard/relay6-hook.sh ]; then
  # wg0 is gone already: the hook's own rules (MSS clamp, source guard) may still be there.
  run /etc/wireguard/relay6-hook.sh down wg0
fi
if has_systemd && systemctl -q is-enabled wg-quick@wg0 2>/dev/null && ! rec services wg_enabled; then try "disable wg-quick@wg0" systemctl disable -q wg-quick@wg0; fi

step 'bird'
if bird_running && ! rec services bird_running; then bird_stop || could_not "stop bird"; fi
if has_systemd && systemctl -q is-enabled bird 2>/dev/null && ! rec services bird_enabled; then try "disable bird" systemctl disable -q bird; fi

step 'firewall'
if [ -f "$originals/ufw" ]; then
  active=0; ufw_active && active=1
  if ! rec ufw active && [ "$active" = 1 ]; then
    # relay6 turned ufw on: off again, with what ufw leaves behind and the sysctl values it set.
    try "disable ufw" ufw --force disable
    ufw_clear
    undo_sysctl ufw-sysctl
    active=0
  fi
  # relay6's rules: this site's tag only. While ufw stays on, the SSH rules stay too:
  # deleting one could lock out the session running this.
  while IFS= read -r line; do
    case "$line" in *" comment '$tag"*) ;; *) continue ;; esac
    if [ "$active" = 1 ]; then case "$line" in *" comment '${tag}ssh'") printf '[relay6] kept while ufw stays active (removing it could lock you out): %s\n' "$line" >&2; continue ;; esac; fi
    spec="${line%% comment \'*}"
    read -ra words <<< "${spec#ufw }"
    # stdin from /dev/null: ufw's children read it, and would eat this loop's other lines.
    if [ "${words[0]}" = route ]; then try "delete the ufw rule $spec" ufw route delete "${words[@]:1}" </dev/null; else try "delete the ufw rule $spec" ufw delete "${words[@]}" </dev/null; fi
  done <<< "$(ufw show added)"
  # The default policies as relay6 found them.
  if [ -f "$originals/files/etc/default/ufw" ]; then
    was="$(sed -n 's/^DEFAULT_INPUT_POLICY="\(.*\)"/\1/p' "$originals/files/etc/default/ufw")"; now="$(sed -n 's/^DEFAULT_INPUT_POLICY="\(.*\)"/\1/p' /etc/default/ufw)"
    if [ -n "$was" ] && [ "$was" != "$now" ]; then try "set ufw's default incoming policy back" ufw default "$(case "$was" in DROP) echo deny ;; ACCEPT) echo allow ;; *) echo reject ;; esac)" incoming; fi
    was="$(sed -n 's/^DEFAULT_OUTPUT_POLICY="\(.*\)"/\1/p' "$originals/files/etc/default/ufw")"; now="$(sed -n 's/^DEFAULT_OUTPUT_POLICY="\(.*\)"/\1/p' /etc/default/ufw)"
    if [ -n "$was" ] && [ "$was" != "$now" ]; then try "set ufw's default outgoing policy back" ufw default "$(case "$was" in DROP) echo deny ;; ACCEPT) echo allow ;; *) echo reject ;; esac)" outgoing; fi
    was="$(sed -n 's/^DEFAULT_FORWARD_POLICY="\(.*\)"/\1/p' "$originals/files/etc/default/ufw")"; now="$(sed -n 's/^DEFAULT_FORWARD_POLICY="\(.*\)"/\1/p' /etc/default/ufw)"
    if [ -n "$was" ] && [ "$was" != "$now" ]; then try "set ufw's default routed policy back" ufw default "$(case "$was" in DROP) echo deny ;; ACCEPT) echo allow ;; *) echo reject ;; esac)" routed; fi
  fi
  # ufw rewrites its files whole: when it holds just the rules it held before relay6, they
  # go back byte for byte; when someone added rules since, they stay as they are.
  if [ "$(ufw show added)" != "$(cat "$originals/ufw-added")" ]; then
    printf '[relay6] ufw holds rules added since relay6'\''s first run: its files stay as they are (without relay6'\''s rules)\n' >&2
    rm -rf -- "$originals/files/etc/ufw" "$originals/files/etc/default/ufw"
  fi
fi

step 'files'
undo_files

step 'sysctl'
undo_sysctl sysctl
if has_systemd; then try "reload systemd" systemctl daemon-reload; fi

step 'what ran before relay6'
if rec services wg_up && [ -f "$originals/files/etc/wireguard/wg0.conf" ] && ! ip link show wg0 >/dev/null 2>&1; then wg_start || could_not "bring the original wg0 back up"; fi
if rec services bird_running && [ -f /etc/bird/bird.conf ]; then
  if bird_running; then try "reload bird with its original configuration" birdc configure; else bird_start || could_not "start bird again"; fi
fi

undo_done
