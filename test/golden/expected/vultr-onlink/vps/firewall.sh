#!/usr/bin/env bash
# managed by relay6 for site vultr. Re-render instead of editing.
# ufw rules for the relay; idempotent. Run as root.
# Changing a default or enabling ufw reloads every rule, so each is done only when needed:
# a reload on a live relay can cost BFD a packet or two.
set -euo pipefail
run() { printf '[#] %s\n' "$*" >&2; "$@"; }
# rule ARGS...: adds a rule unless `ufw show added` lists it already: one ufw call for
# all the rules (each ufw run costs a tenth of a second); a rule ufw prints differently
# is just added again, and ufw skips it.
added=$(ufw show added)
rule() {
  local shown="ufw" prev="" a
  for a in "$@"; do if [ "$prev" = comment ]; then shown+=" '$a'"; else shown+=" $a"; fi; prev=$a; done
  grep -qxF -- "$shown" <<< "$added" || run ufw "$@"
}
status=$(ufw status verbose)
grep -q '^DEFAULT_INPUT_POLICY="DROP"' /etc/default/ufw || run ufw default deny incoming
grep -q '^DEFAULT_OUTPUT_POLICY="ACCEPT"' /etc/default/ufw || run ufw default allow outgoing
grep -q '^DEFAULT_FORWARD_POLICY="DROP"' /etc/default/ufw || run ufw default deny routed

# keep SSH open before the firewall goes active
rule allow 22/tcp comment 'relay6 vultr: ssh'
# the router dials in
rule allow 51820/udp comment 'relay6 vultr: WireGuard'
# the router's BGP session
rule allow in on wg0 from fe80::2 to fe80::1 port 179 proto tcp comment 'relay6 vultr: BGP from the router'
# the router's BFD control packets
rule allow in on wg0 from fe80::2 to fe80::1 port 3784 proto udp comment 'relay6 vultr: BFD from the router'
# LAN hosts reach the internet; replies come back through ufw's RELATED,ESTABLISHED rule
rule route allow in on wg0 out on enp1s0 comment 'relay6 vultr: LAN to internet'

# Active from here on: default deny incoming (SSH stays open: its rule came first).
case "$status" in *"Status: active"*) ;; *) run ufw --force enable ;; esac
