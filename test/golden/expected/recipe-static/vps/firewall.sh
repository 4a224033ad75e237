#!/usr/bin/env bash
# managed by relay6 for site home. Re-render instead of editing.
# ufw rules for the relay; idempotent (ufw skips rules it has). Run as root.
set -euo pipefail
run() { printf '[#] %s\n' "$*" >&2; "$@"; }

# default deny incoming
run ufw default deny incoming
# the VPS may reach out
run ufw default allow outgoing
# forward nothing unless a rule says so
run ufw default deny routed
# keep SSH open before the firewall goes active
run ufw allow 22/tcp comment 'relay6 home: ssh'
# the router dials in
run ufw allow 51820/udp comment 'relay6 home: WireGuard'
# LAN hosts reach the internet; replies come back through ufw's RELATED,ESTABLISHED rule
run ufw route allow in on wg0 out on enp3s0 comment 'relay6 home: LAN to internet'

# Active from here on: default deny incoming.
run ufw --force enable
