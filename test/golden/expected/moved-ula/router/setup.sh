#!/bin/bash
# managed by relay6 for site moved. Re-render instead of editing.
# Router setup for the relay (Debian/Ubuntu, systemd). Run as root from this folder: sudo bash setup.sh
# Installs wireguard-tools, radvd, iptables, iputils-ping, then the rendered files (each with the mode and owner
# relay6 chose), then starts what is not running and restarts (the firewall: reloads)
# what changed. Idempotent: a second run changes nothing. If a step fails, every file
# is put back, what this run started is stopped, what it restarted runs again with the
# old files, and the run fails; a restore that fails is reported, the others still happen.
# What relay6 replaces the first time is kept in /var/lib/relay6/router/originals for undo.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
state=/var/lib/relay6/router
originals="$state/originals"
backup="$(mktemp -d /tmp/relay6-backup.XXXXXX)"
saved=() made_dirs=() failures=() installed_packages=()
changed=0
state_existed=0 state_parent_existed=0
if [ -d "$state" ]; then state_existed=1; cp -a "$state" "$backup/state"; fi
if [ -d "${state%/*}" ]; then state_parent_existed=1; fi

# ensure_originals: relay6's state dir, made when first needed; whether its parent
# (/var/lib/relay6) was made too is noted, so that undo.sh removes only what relay6 made.
ensure_originals() {
  [ -d "$originals" ] && return 0
  local parent="${state%/*}" made=0
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
  if [ -e "$p" ] && ! grep -q 'managed by relay6' <(head -n 3 -- "$p" 2>/dev/null); then mkdir -p "$originals/files$(dirname "$p")"; cp -a "$p" "$originals/files$p"
  else mkdir -p "$originals/absent$(dirname "$p")"; : > "$originals/absent$p"; fi
}

# note_new_dirs DIR: DIR and each missing directory above it, before something creates
# them: the rollback and undo.sh remove them again.
note_new_dirs() {
  local d="$1" list=()
  while [ ! -d "$d" ]; do list=("$d" "${list[@]}"); d="$(dirname "$d")"; done
  for d in "${list[@]}"; do
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
  run install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dst.relay6-new"
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
  local k v name="${2:-sysctl}"
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
  for p in "${saved[@]}"; do restore_file "$p" || could_not "restore $p"; done
  for ((i = ${#made_dirs[@]} - 1; i >= 0; i--)); do
    p="${made_dirs[i]}"
    if [ -d "$p" ]; then rmdir -- "$p" && printf '[#] removed %s/\n' "$p" >&2 || could_not "remove the directory $p"; fi
  done
  rm -rf -- "$state" || could_not "remove $state"
  if [ "$state_existed" = 1 ]; then cp -a -- "$backup/state" "$state" || could_not "restore $state"; fi
  if [ "$state_parent_existed" = 0 ] && [ -d "${state%/*}" ]; then rmdir -- "${state%/*}" || could_not "remove ${state%/*}"; fi
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
  if [ "${#installed_packages[@]}" -gt 0 ]; then printf '[relay6] packages this run installed stay installed: %s\n' "${installed_packages[*]}" >&2; fi
  if [ "${#failures[@]}" -gt 0 ]; then
    printf '[relay6] ROLLBACK INCOMPLETE: %s thing(s) could not be put back:\n' "${#failures[@]}" >&2
    printf '[relay6]   - %s\n' "${failures[@]}" >&2
    printf '[relay6] the copies saved before this run are kept in %s\n' "$backup" >&2
  else
    rm -rf "$backup"
    printf '[relay6] rolled back: this host is as it was before the run\n' >&2
  fi
  exit "$status"
}

net_changed=0 net_unit_changed=0 wg_changed=0 radvd_conf_changed=0 radvd_unit_changed=0 drain_changed=0 drain_unit_changed=0 frr_changed=0 gw_changed=0 gw_unit_changed=0
units=(relay6-router-net wg-quick@wg0 radvd relay6-ra-drain relay6-gw-check)
declare -A was_active=() was_enabled=()
for u in "${units[@]}"; do
  was_active[$u]=0; systemctl -q is-active "$u" 2>/dev/null && was_active[$u]=1
  was_enabled[$u]=0; systemctl -q is-enabled "$u" 2>/dev/null && was_enabled[$u]=1
done
started=() restarted=() reloaded=()

rollback() {
  local status=$? i u
  trap - ERR EXIT
  if [ "$status" -eq 0 ]; then rm -rf "$backup"; return; fi
  set +e
  printf '\n[relay6] FAILED (exit %s): putting back the state before this run\n' "$status" >&2
  # What this run started, stopped again, the firewall last (its stop removes its rules).
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do run systemctl stop "${started[i]}" || could_not "stop ${started[i]}"; done
  # A start that failed half way runs no ExecStop: relay6-router-net's own stop, to be sure.
  for u in "${started[@]}"; do if [ "$u" = relay6-router-net ] && [ -x /usr/local/sbin/relay6-router-net ]; then run /usr/local/sbin/relay6-router-net stop || could_not "remove relay6-router-net's chains and addresses"; fi; done
  # Enabled by this run: disabled again while their unit files are still there.
  for u in "${units[@]}"; do
    if [ "${was_enabled[$u]}" = 0 ] && systemctl -q is-enabled "$u" 2>/dev/null; then run systemctl disable -q "$u" || could_not "disable $u"; fi
  done
  restore_files
  if [ "$net_unit_changed$gw_unit_changed$radvd_unit_changed$drain_unit_changed" != 0000 ]; then run systemctl daemon-reload || could_not "reload systemd"; fi
  # The RA drain's running copy of radvd.conf goes with its drop-in.
  if [ ! -f /etc/systemd/system/radvd.service.d/relay6.conf ]; then rm -f /run/relay6/radvd.conf; fi
  # What this run restarted runs again with the old files.
  for u in "${restarted[@]}"; do
    if [ "$u" = relay6-router-net ]; then run systemctl reload "$u" || could_not "reload $u with its old files"
    else run systemctl restart "$u" || could_not "restart $u with its old files"; fi
  done
  for u in "${reloaded[@]}"; do run systemctl reload "$u" || could_not "reload $u with its old files"; done
  restore_sysctl
  rollback_done "$status"
}
trap rollback EXIT
trap 'exit 1' ERR

step 'packages'
# For undo.sh, once: which units ran before relay6's first run.
if [ ! -f "$originals/services" ]; then
  ensure_originals
  for u in "${units[@]}"; do printf 'active:%s=%s\nenabled:%s=%s\n' "$u" "${was_active[$u]}" "$u" "${was_enabled[$u]}"; done > "$originals/services"
fi
echo "[#] packages: wireguard-tools radvd iptables iputils-ping" >&2
missing=()
for p in wireguard-tools radvd iptables iputils-ping; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  installed_packages=("${missing[@]}")
  run apt-get update -qq
  run apt-get install -y -qq --no-install-recommends "${missing[@]}"
  changed=1
fi

step 'files'
install_file files/etc/wireguard/wg0.conf /etc/wireguard/wg0.conf 600 root:root wg_changed
install_file files/etc/radvd.conf /etc/radvd.conf 644 root:root radvd_conf_changed
install_file files/etc/systemd/system/radvd.service.d/relay6.conf /etc/systemd/system/radvd.service.d/relay6.conf 644 root:root radvd_unit_changed
install_file files/usr/local/sbin/relay6-ra-drain /usr/local/sbin/relay6-ra-drain 755 root:root drain_changed
install_file files/etc/systemd/system/relay6-ra-drain.service /etc/systemd/system/relay6-ra-drain.service 644 root:root drain_unit_changed
install_file files/etc/sysctl.d/99-relay6.conf /etc/sysctl.d/99-relay6.conf 644 root:root none
install_file files/usr/local/sbin/relay6-router-net /usr/local/sbin/relay6-router-net 755 root:root net_changed
install_file files/etc/systemd/system/relay6-router-net.service /etc/systemd/system/relay6-router-net.service 644 root:root net_unit_changed
install_file files/usr/local/sbin/relay6-gw-check /usr/local/sbin/relay6-gw-check 755 root:root gw_changed
install_file files/etc/systemd/system/relay6-gw-check.service /etc/systemd/system/relay6-gw-check.service 644 root:root gw_unit_changed
install_file secrets/wg0.key /etc/wireguard/wg0.key 600 root:root wg_changed
echo "router public key: $(wg pubkey </etc/wireguard/wg0.key)"

step 'sysctl'
save_sysctl /etc/sysctl.d/99-relay6.conf
run sysctl -q -p /etc/sysctl.d/99-relay6.conf

step 'services'
if [ "$net_unit_changed$gw_unit_changed$radvd_unit_changed$drain_unit_changed" != 0000 ]; then run systemctl daemon-reload; fi
# converge UNIT CHANGED WANTS: started when it is not running, restarted (the firewall:
# reloaded, its rules swapped in one go) when its files changed (CHANGED=reload: reloaded);
# enabled (a .wants directory that enabling creates is noted: the rollback and undo.sh
# remove it again).
converge() {
  local u="$1" c="$2"
  note_new_dirs "/etc/systemd/system/$3.wants"
  if ! systemctl -q is-active "$u"; then started+=("$u"); run systemctl start "$u"; changed=1
  elif [ "$c" = reload ]; then reloaded+=("$u"); run systemctl reload "$u"; changed=1
  elif [ "$c" = 1 ]; then
    restarted+=("$u")
    if [ "$u" = relay6-router-net ]; then run systemctl reload "$u"; else run systemctl restart "$u"; fi
    changed=1
  fi
  if ! systemctl -q is-enabled "$u"; then run systemctl enable -q "$u"; changed=1; fi
}
if [ "$net_changed$net_unit_changed" != 00 ]; then converge relay6-router-net 1 multi-user.target; else converge relay6-router-net 0 multi-user.target; fi
if [ "$wg_changed" = 1 ]; then converge wg-quick@wg0 1 multi-user.target; else converge wg-quick@wg0 0 multi-user.target; fi
if [ "$radvd_unit_changed" = 1 ]; then converge radvd 1 multi-user.target; elif [ "$radvd_conf_changed" = 1 ]; then converge radvd reload multi-user.target; else converge radvd 0 multi-user.target; fi
if [ "$drain_changed$drain_unit_changed" != 00 ]; then converge relay6-ra-drain 1 multi-user.target; else converge relay6-ra-drain 0 multi-user.target; fi
if [ "$gw_changed$gw_unit_changed" != 00 ]; then converge relay6-gw-check 1 wg-quick@wg0.service; else converge relay6-gw-check 0 wg-quick@wg0.service; fi

if [ "$changed" = 0 ]; then step "no changes: the router already matches the plan"; else step "done"; fi
echo "[#] check: wg show wg0; ip -6 route show default" >&2
