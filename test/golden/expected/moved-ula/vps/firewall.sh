#!/usr/bin/env bash
# managed by relay6 for site moved. Re-render instead of editing.
# ufw rules for the relay; idempotent. Run as root.
# Changing a default or enabling ufw reloads every rule, so each is done only when needed:
# a reload on a live relay can cost BFD a packet or two.
set -euo pipefail
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
tag='relay6 moved: '
added=$(ufw show added)
wanted=()
# rule TAG ARGS...: adds `ufw ARGS comment '<site tag>TAG'` unless ufw holds that rule
# already (one `ufw show added` for all of them: each ufw run costs a tenth of a second).
# Held with this site's tag: it is relay6's. Held without it: it is the user's (or another
# site's); adding it again would re-tag it, so it is left as it is.
rule() {
  local what="$1" line; shift
  local spec="ufw $*"
  wanted+=("$spec")
  while IFS= read -r line; do
    [ "${line%% comment \'*}" = "$spec" ] || continue
    case "$line" in *" comment '$tag"*) return 0 ;; esac
    printf '[relay6] kept as it is (not relay6'\''s): %s\n' "$line" >&2
    return 0
  done <<< "$added"
  run ufw "$@" comment "$tag$what"
}

# --- SSH first: nothing below may lock out the session running this, or the next one.
# The ports sshd listens on (every `port` and `listenaddress` line of `sshd -T`), and the
# server port of this session: behind a NAT port map vps.ssh.port is the outside port.
ssh_ports=()
add_port() {
  local p="$1" q
  [[ "$p" =~ ^[0-9]+$ ]] || return 0
  for q in "${ssh_ports[@]}"; do [ "$q" = "$p" ] && return 0; done
  ssh_ports+=("$p")
}
sshd=$(command -v sshd || echo /usr/sbin/sshd)
if config=$("$sshd" -T 2>/dev/null); then
  while read -r key value _; do
    case "$key" in port) add_port "$value" ;; listenaddress) add_port "${value##*:}" ;; esac
  done <<< "$config"
fi
sshd_ports=("${ssh_ports[@]}")
if [ -n "${SSH_CONNECTION:-}" ]; then
  read -r _ _ _ session_port _ <<< "$SSH_CONNECTION"
  add_port "$session_port"
fi
if [ "${#sshd_ports[@]}" -eq 0 ]; then
  add_port 22
  printf '[relay6] WARNING: could not ask sshd which ports it listens on (`sshd -T` failed or sshd is absent): allowing only the ports known: %s (vps.ssh.port 22%s)\n' "${ssh_ports[*]}" "${SSH_CONNECTION:+, and the port of this session}" >&2
fi
for p in "${ssh_ports[@]}"; do rule ssh allow "$p/tcp"; done

# The policies as ufw keeps them (its status hides them while ufw is inactive).
grep -q '^DEFAULT_INPUT_POLICY="DROP"' /etc/default/ufw || run ufw default deny incoming
grep -q '^DEFAULT_OUTPUT_POLICY="ACCEPT"' /etc/default/ufw || run ufw default allow outgoing
grep -q '^DEFAULT_FORWARD_POLICY="DROP"' /etc/default/ufw || run ufw default deny routed

# the router dials in
rule WireGuard allow 51820/udp
# the router's own transit address reaches the internet; replies come back through ufw's RELATED,ESTABLISHED rule
rule 'to internet from the router' route allow in on wg0 out on eth0 from fd42:77:2:ffff::2
# segment lan reaches the internet; replies come back through ufw's RELATED,ESTABLISHED rule
rule 'to internet from lan' route allow in on wg0 out on eth0 from 2001:db8:77:2::/64

# Rules relay6 added for this site that the plan no longer has (a segment or service
# removed, or an older relay6's forwarding from any source): only this site's tag, and
# never an SSH rule (a port sshd stopped using costs nothing; a wrong guess locks out).
while IFS= read -r line; do
  case "$line" in *" comment '${tag}ssh'") continue ;; *" comment '$tag"*) ;; *) continue ;; esac
  spec="${line%% comment \'*}" keep=0
  for w in "${wanted[@]}"; do [ "$w" = "$spec" ] && keep=1; done
  [ "$keep" = 1 ] && continue
  read -ra words <<< "${spec#ufw }"
  # A route rule is deleted with `ufw route delete ...`, any other with `ufw delete ...`;
  # stdin from /dev/null: ufw's children read it, and would eat this loop's other lines.
  if [ "${words[0]}" = route ]; then run ufw route delete "${words[@]:1}" </dev/null; else run ufw delete "${words[@]}" </dev/null; fi
done <<< "$(ufw show added)"

# Active from here on: default deny incoming (SSH stays open: its rules came first).
case "$(ufw status)" in *"Status: active"*) ;; *) run ufw --force enable ;; esac
