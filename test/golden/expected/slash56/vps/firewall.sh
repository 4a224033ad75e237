#!/usr/bin/env bash
# managed by relay6 for site flat56. Re-render instead of editing.
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
run ufw allow 22/tcp comment 'relay6 flat56: ssh'
# the router dials in
run ufw allow 51820/udp comment 'relay6 flat56: WireGuard'
# the router's BGP session
run ufw allow in on wg0 from 2001:db8:abcd:1200::2 to 2001:db8:abcd:1200::1 port 179 proto tcp comment 'relay6 flat56: BGP from the router'
# the router's BFD control packets
run ufw allow in on wg0 from 2001:db8:abcd:1200::2 to 2001:db8:abcd:1200::1 port 3784 proto udp comment 'relay6 flat56: BFD from the router'
# LAN hosts reach the internet; replies come back through ufw's RELATED,ESTABLISHED rule
run ufw route allow in on wg0 out on ens3 comment 'relay6 flat56: LAN to internet'
# inbound service web on segment lan
run ufw route allow in on ens3 out on wg0 to 2001:db8:abcd:1210::80 port 443 proto tcp comment 'relay6 flat56: inbound web (lan)'

# Active from here on: default deny incoming.
run ufw --force enable
