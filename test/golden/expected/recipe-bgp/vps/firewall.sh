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
# the router's BGP session
run ufw allow in on wg0 from 2401:4520:110b::2 to 2401:4520:110b::1 port 179 proto tcp comment 'relay6 home: BGP from the router'
# the router's BFD control packets
run ufw allow in on wg0 from 2401:4520:110b::2 to 2401:4520:110b::1 port 3784 proto udp comment 'relay6 home: BFD from the router'
# LAN hosts reach the internet; replies come back through ufw's RELATED,ESTABLISHED rule
run ufw route allow in on wg0 out on enp3s0 comment 'relay6 home: LAN to internet'

# Active from here on: default deny incoming.
run ufw --force enable
