#!/usr/bin/env bash
# managed by relay6 for site hetzner. Re-render instead of editing.
# VPS setup for the relay. Run as root from this folder: sudo bash setup.sh
# Idempotent: a second run changes nothing. Every command is printed before it runs.
# If a step fails, everything the run changed is put back (files, ufw, sysctl, wg0, bird)
# and the run fails; a restore that fails is reported and the others still happen.
# What relay6 replaces the first time is kept in /var/lib/relay6/vps/originals for undo.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }
step() { printf '\n[relay6] %s\n' "$*" >&2; }
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
state=/var/lib/relay6/vps
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
has_systemd() { [ -d /run/systemd/system ]; }
bird_running() { birdc show status >/dev/null 2>&1; }
ufw_active() { [[ "$(ufw status 2>/dev/null)" == *"Status: active"* ]]; }

# What this run found, so that a failure can put it back.
wg_changed=0 bird_changed=0 unit_changed=0 ufw_touched=0 ufw_was_active=0
wg_was_up=0; ip link show wg0 >/dev/null 2>&1 && wg_was_up=1
bird_was_running=0; bird_running && bird_was_running=1
wg_was_enabled=0 bird_was_enabled=0
if has_systemd; then
  systemctl -q is-enabled wg-quick@wg0 2>/dev/null && wg_was_enabled=1
  systemctl -q is-enabled bird 2>/dev/null && bird_was_enabled=1
fi

rollback() {
  local status=$? t
  trap - ERR EXIT
  if [ "$status" -eq 0 ]; then rm -rf "$backup"; return; fi
  set +e
  printf '\n[relay6] FAILED (exit %s): putting back the state before this run\n' "$status" >&2
  # What this run started goes first: wg-quick down needs the wg0.conf it came up with.
  if [ "$wg_was_up" = 0 ] && ip link show wg0 >/dev/null 2>&1; then wg_stop || could_not "stop wg0"; fi
  if [ "$bird_was_running" = 0 ] && bird_running; then bird_stop || could_not "stop bird"; fi
  if [ "$ufw_touched" = 1 ] && [ "$ufw_was_active" = 0 ] && ufw_active; then run ufw --force disable >/dev/null || could_not "disable ufw"; fi
  restore_files
  if [ "$ufw_touched" = 1 ]; then
    if [ "$ufw_was_active" = 1 ]; then run ufw reload >/dev/null || could_not "reload ufw with its old rules"
    else
      ufw_clear
      for t in iptables ip6tables; do if [ -s "$backup/$t" ]; then run "$t-restore" "$backup/$t" || could_not "restore the $t rules"; fi; done
    fi
  fi
  if has_systemd; then
    if [ "$unit_changed" = 1 ]; then run systemctl daemon-reload || could_not "reload systemd"; fi
    if [ "$wg_was_enabled" = 0 ] && systemctl -q is-enabled wg-quick@wg0 2>/dev/null; then run systemctl disable -q wg-quick@wg0 || could_not "disable wg-quick@wg0"; fi
    if [ "$bird_was_enabled" = 0 ] && systemctl -q is-enabled bird 2>/dev/null; then run systemctl disable -q bird || could_not "disable bird"; fi
  fi
  restore_sysctl
  if [ "$wg_was_up" = 1 ] && [ "$wg_changed" = 1 ]; then wg_live_sync || could_not "re-apply the old peer and routes of wg0"; fi
  if [ "$bird_was_running" = 1 ] && [ "$bird_changed" = 1 ]; then run birdc configure >/dev/null || could_not "reload bird with its old configuration"; fi
  rollback_done "$status"
}
trap rollback EXIT
trap 'exit 1' ERR
# The hook writes the router's endpoint here whenever wg0 goes down.
save /etc/wireguard/wg0.endpoints
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

# wg syncconf would clear a private key the config does not hold, so the key is fed in
# from its file (never on a command line). wg-quick adds routes for AllowedIPs only on
# `up`: add the new ones, drop the old ones.
wg_live_sync() {
  printf '[#] %s\n' 'wg syncconf wg0 <(wg-quick strip wg0 + private key)' >&2
  wg syncconf wg0 <(awk 'NR == FNR { key = $0; next } { print } /^\[Interface\]/ { print "PrivateKey = " key }' /etc/wireguard/wg0.key <(wg-quick strip wg0))
  local want=() net w keep
  while read -r net; do want+=("$net"); done < <(wg show wg0 allowed-ips | cut -f 2 | tr ' ' '\n' | grep / || true)
  # As wg-quick does: no route where one on wg0 covers the entry already (the transit /64).
  for net in "${want[@]}"; do [ -n "$(ip -6 route show dev wg0 match "$net" 2>/dev/null)" ] || run ip -6 route replace "$net" dev wg0; done
  while read -r net _; do
    [[ "$net" == */* ]] || net="$net/128" # ip prints host routes without /128
    keep=0; for w in "${want[@]}"; do [ "$w" = "$net" ] && keep=1; done
    [ "$keep" = 1 ] || run ip -6 route del "$net" dev wg0
  done < <(ip -6 route show dev wg0 proto boot)
  # The hook filled its ICMPv6 source guard when wg0 came up: refilled with the plan's sources.
  run /etc/wireguard/relay6-hook.sh guard wg0
}

step 'packages'
# For undo.sh, once: what ran before relay6's first run.
if [ ! -f "$originals/services" ]; then
  ensure_originals
  printf 'wg_up=%s\nbird_running=%s\nwg_enabled=%s\nbird_enabled=%s\n' "$wg_was_up" "$bird_was_running" "$wg_was_enabled" "$bird_was_enabled" > "$originals/services"
fi
missing=()
for p in wireguard-tools iptables ufw bird2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  installed_packages=("${missing[@]}")
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  changed=1
fi

step 'WireGuard key'
install_file secrets/wg0.key /etc/wireguard/wg0.key 600 root:root wg_changed

step 'files'
install_file files/etc/wireguard/wg0.conf /etc/wireguard/wg0.conf 600 root:root wg_changed
install_file files/etc/wireguard/relay6-hook.sh /etc/wireguard/relay6-hook.sh 700 root:root none
install_file files/etc/sysctl.d/99-relay6.conf /etc/sysctl.d/99-relay6.conf 644 root:root sysctl_changed
install_file files/etc/wireguard/relay6-vps-net.sh /etc/wireguard/relay6-vps-net.sh 700 root:root none
install_file files/etc/bird/bird.conf /etc/bird/bird.conf 640 bird:bird bird_changed
install_file files/etc/systemd/system/bird.service.d/relay6-restart.conf /etc/systemd/system/bird.service.d/relay6-restart.conf 644 root:root unit_changed

step 'sysctl'
# Applied every run: cheap, and it repairs a value someone changed by hand.
save_sysctl /etc/sysctl.d/99-relay6.conf
run sysctl -q -p /etc/sysctl.d/99-relay6.conf

step 'firewall'
# Everything firewall.sh can change, as it is now: the rule files, defaults and enabled
# flag, the live rules, and the sysctl values ufw sets when it goes active.
ufw_touched=1
for f in /etc/ufw/*.rules /etc/ufw/ufw.conf /etc/default/ufw; do save "$f"; done
ufw_active && ufw_was_active=1
iptables-save > "$backup/iptables"; ip6tables-save > "$backup/ip6tables"
ufw_sysctl="$(. /etc/default/ufw >/dev/null 2>&1; echo "${IPT_SYSCTL:-}")"
if [ ! -f "$originals/ufw" ]; then
  for f in /etc/ufw/*.rules /etc/ufw/ufw.conf /etc/default/ufw; do keep_original "$f"; done
  printf 'active=%s\n' "$ufw_was_active" > "$originals/ufw"
  ufw show added > "$originals/ufw-added"
fi
if [ "$ufw_was_active" = 0 ] && [ -n "$ufw_sysctl" ] && [ -f "$ufw_sysctl" ]; then save_sysctl "$ufw_sysctl" ufw-sysctl; fi
run bash "$here/firewall.sh"

step 'own address in the routed /64'
# Before wg0: the /64 must go into the tunnel, not to the NIC (wg0's PostUp does it too,
# at each start). Every run: the provider's network configuration (or a hand edit) may
# have put the connected route back.
if ! /etc/wireguard/relay6-vps-net.sh status; then run /etc/wireguard/relay6-vps-net.sh up; changed=1; fi

step 'wg0'
keep_original /etc/wireguard/wg0.endpoints
# The live peer, AllowedIPs and their routes, as the plan has them: a hand edit since the
# last run (wg set, ip route del) is put back too, not only a changed file.
wg_drifted() {
  [ "$(wg show wg0 allowed-ips | while read -r k ips; do for i in $ips; do echo "$k $i"; done; done | sort)" != "$(for i in fe80::2/128 2001:db8:4f8:10::/64; do echo "IQZjl43mcgn25ITcpMZKCpnr8Uv+EKRDVjYuRGhBHBM= $i"; done | sort)" ] && return 0
  # Each AllowedIP must route into wg0 (wg-quick adds no /128 the transit /64 covers).
  # (One address in each: a /64's network address can be the NIC's subnet-router anycast.)
  for a in 2001:db8:4f8:10::1; do ip -6 route get "$a" 2>/dev/null | grep -q ' dev wg0 ' || return 0; done
  return 1
}
if ip link show wg0 >/dev/null 2>&1; then
  if [ "$wg_changed" = 1 ]; then wg_live_sync
  elif wg_drifted; then step 'wg0 drifted from the plan: syncing it'; wg_changed=1; wg_live_sync; changed=1
  fi
else
  wg_start
  changed=1
fi
if has_systemd && ! systemctl is-enabled --quiet wg-quick@wg0; then run systemctl enable wg-quick@wg0; changed=1; fi

step 'bird'
if [ "$unit_changed" = 1 ] && has_systemd; then run systemctl daemon-reload; fi
if bird_running; then
  if [ "$bird_changed" = 1 ]; then run birdc configure; fi
else
  bird_start
  changed=1
fi

if [ "$changed" = 0 ]; then step "no changes: the VPS already matches the plan"; else step "done"; fi
echo "VPS WireGuard public key: $(wg pubkey < /etc/wireguard/wg0.key)"
