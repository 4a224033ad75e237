// setup.sh: the VPS end in one idempotent script. It installs the rendered files that
// differ (each by an atomic rename), and applies each change live: `wg syncconf` plus
// routes for AllowedIPs (never wg-quick down/up, which would drop the tunnel), `birdc
// configure` for bird. A failing step puts back everything the run changed — every file
// (a restore that fails is reported and the rest still restored), the ufw rules, defaults
// and enabled state, the sysctl values, wg0, bird — as wg-quick undoes a half-done `up`.
// The first time it replaces a file it also records what was there, for undo.sh.
// `relay6 apply vps` runs this same script.
import { containsAddress, formatAddress6, LINK_LOCAL, parsePrefix6 } from "../../net/ipv6.js";
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";
import { bash, SETUP_FUNCTIONS, stateDir } from "../../render/install-lib.js";
import { shQuote } from "../../render/quote.js";
import { NDPPD_CONF, NDPPD_UNIT } from "./ndppd.js";
import { movedAddress, VPS_NET_SCRIPT } from "./ownaddr.js";
import { ENDPOINTS_FILE, HOOK_FILE, KEY_FILE } from "./wireguard.js";

export interface InstalledFile {
  /** Path under vps/ in the render output. */
  src: string;
  /** Absolute path on the VPS. */
  dst: string;
  mode: string;
  owner: string;
  /** Which live reload a change of this file needs. */
  reload: "wg" | "bird" | "unit" | "sysctl" | "ndppd" | "none";
}

/** The address wg_drifted asks `ip -6 route get` for, per AllowedIPs entry: ::1 of a /64,
 *  the address of a /128; none for a link-local (the kernel's fe80::/64 on wg0 holds it). */
function probeOf(entry: string): string[] {
  const p = parsePrefix6(entry);
  if (!p.ok || containsAddress(LINK_LOCAL, p.prefix.network)) return [];
  return [formatAddress6(p.prefix.length === 128 ? p.prefix.network : p.prefix.network | 1n)];
}

export function sysctlKey(ifname: string): string {
  // In dotted sysctl keys a '.' inside an interface name (eth0.100) is written '/'.
  return ifname.replace(/\./g, "/");
}

export function renderSysctl(plan: RelayPlan): string {
  const nic = sysctlKey(plan.vps.nic);
  const moved = plan.vps.ownAddress?.dropPrefixRoute;
  return [
    ...header(plan, "#", "IPv6 forwarding for the relay."),
    "net.ipv6.conf.all.forwarding = 1",
    "net.ipv6.conf.default.forwarding = 1",
    "# With forwarding on, the kernel ignores router advertisements unless accept_ra = 2:",
    "# the provider's RA keeps the VPS's own default route alive.",
    `net.ipv6.conf.${nic}.accept_ra = 2`,
    ...(moved
      ? [
          `# An RA carrying ${plan.vps.ownAddress!.prefix} (the provider's /64, relayed into wg0) would put its prefix`,
          "# route back on the NIC, beating wg0's. pinfo = 0 takes no prefix (and no SLAAC address) from RAs; the",
          "# default route still comes from them (accept_ra_defrtr). A route information option",
          "# for the /64 would tie with wg0's route: RIOs stay off (0; never 64 or more).",
          `net.ipv6.conf.${nic}.accept_ra_pinfo = 0`,
          `net.ipv6.conf.${nic}.accept_ra_rt_info_max_plen = 0`,
        ]
      : []),
    "",
  ].join("\n");
}

export const VPS_STATE = stateDir("vps");

/** The ufw files firewall.sh changes (rules, defaults, enabled flag): saved before it runs. */
export const UFW_FILES = "/etc/ufw/*.rules /etc/ufw/ufw.conf /etc/default/ufw";

/** What setup.sh and undo.sh ask of the host before they change anything. */
const VPS_PROBES = bash`has_systemd() { [ -d /run/systemd/system ]; }
bird_running() { birdc show status >/dev/null 2>&1; }
ufw_active() { [[ "$(ufw status 2>/dev/null)" == *"Status: active"* ]]; }`;

/** Shell functions that start and stop wg0 and bird, and clear what ufw leaves behind. */
const VPS_ACTIONS = bash`wg_start() { if has_systemd; then run systemctl enable --now wg-quick@wg0; else run wg-quick up wg0; fi; }
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
}`;

/** Shell functions for wg0, bird and ufw, shared by setup.sh and undo.sh. */
export const VPS_SERVICE_FUNCTIONS = `${VPS_PROBES}\n${VPS_ACTIONS}`;

/** `routerKeys`: each site's router public key; a site whose key is not known yet has no
 *  peer, and with none known setup.sh is step 1 of the key exchange. */
export function renderSetup(plan: RelayPlan, files: InstalledFile[], routerKeys: ReadonlyMap<string, string | undefined>): string {
  const peers = plan.sites.flatMap((p) => {
    const key = routerKeys.get(p.site);
    return key ? [{ key, allowed: p.vps.allowedIps.map(shQuote).join(" "), probes: p.vps.allowedIps.flatMap(probeOf) }] : [];
  });
  const step1 = peers.length === 0;
  const bgp = plan.bgp !== undefined;
  const ufw = plan.vps.firewall === "ufw";
  // vps.transfer: vnstat counts the NIC across reboots; jq reads its JSON for relay6-status.
  const onLink = plan.vps.onLink === true;
  const moved = movedAddress(plan) !== undefined;
  // A /64 site: probe an address inside each /64, not its network address (the VPS's own
  // address in a routed /64 makes that the NIC's subnet-router anycast), and leave the
  // link-local router to the kernel's fe80::/64 on wg0.
  const single = plan.sites.some((p) => p.transit.kind !== undefined);
  const packages = ["wireguard-tools", "iptables", ...(ufw ? ["ufw"] : []), ...(bgp ? ["bird2"] : []), ...(onLink ? ["ndppd"] : []), ...(plan.quota ? ["vnstat", "jq"] : [])];
  const allowed = peers.map((p) => p.allowed).join(" ");
  const loops = peers.map((p) => `for i in ${p.allowed}; do echo "${p.key} $i"; done`);
  const expected = loops.length === 1 ? `${loops[0]} | sort` : `{ ${loops.join("; ")}; } | sort`;
  const L: string[] = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "VPS setup for the relay. Run as root from this folder: sudo bash setup.sh"),
    "# Idempotent: a second run changes nothing. Every command is printed before it runs.",
    "# If a step fails, everything the run changed is put back (files, ufw, sysctl, wg0, bird)",
    "# and the run fails; a restore that fails is reported and the others still happen.",
    `# What relay6 replaces the first time is kept in ${VPS_STATE}/originals for undo.sh.`,
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    '[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }',
    `step() { printf '\\n[relay6] %s\\n' "$*" >&2; }`,
    `run() { printf '[#] %s\\n' "$*" >&2; "$@"; }`,
    `state=${VPS_STATE}`,
    SETUP_FUNCTIONS,
    VPS_PROBES,
    ...(onLink
      ? [
          "# ndppd in this network namespace (a container or the relay6 lab shares the host's pids).",
          `ndppd_pids() { local p; for p in $(pgrep -x ndppd || true); do [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] && echo "$p"; done; true; }`,
        ]
      : []),
    "",
    "# What this run found, so that a failure can put it back.",
    `wg_changed=0 bird_changed=0 unit_changed=0 ufw_touched=0 ufw_was_active=0${onLink ? " ndppd_changed=0" : ""}`,
    "wg_was_up=0; ip link show wg0 >/dev/null 2>&1 && wg_was_up=1",
    "bird_was_running=0; bird_running && bird_was_running=1",
    "wg_was_enabled=0 bird_was_enabled=0",
    "if has_systemd; then",
    "  systemctl -q is-enabled wg-quick@wg0 2>/dev/null && wg_was_enabled=1",
    "  systemctl -q is-enabled bird 2>/dev/null && bird_was_enabled=1",
    "fi",
    "",
    "rollback() {",
    "  local status=$? t",
    "  trap - ERR EXIT",
    '  if [ "$status" -eq 0 ]; then rm -rf "$backup"; return; fi',
    "  set +e",
    `  printf '\\n[relay6] FAILED (exit %s): putting back the state before this run\\n' "$status" >&2`,
    "  # What this run started goes first: wg-quick down needs the wg0.conf it came up with.",
    '  if [ "$wg_was_up" = 0 ] && ip link show wg0 >/dev/null 2>&1; then wg_stop || could_not "stop wg0"; fi',
    '  if [ "$bird_was_running" = 0 ] && bird_running; then bird_stop || could_not "stop bird"; fi',
    '  if [ "$ufw_touched" = 1 ] && [ "$ufw_was_active" = 0 ] && ufw_active; then run ufw --force disable >/dev/null || could_not "disable ufw"; fi',
    "  restore_files",
    '  if [ "$ufw_touched" = 1 ]; then',
    '    if [ "$ufw_was_active" = 1 ]; then run ufw reload >/dev/null || could_not "reload ufw with its old rules"',
    "    else",
    "      ufw_clear",
    '      for t in iptables ip6tables; do if [ -s "$backup/$t" ]; then run "$t-restore" "$backup/$t" || could_not "restore the $t rules"; fi; done',
    "    fi",
    "  fi",
    "  if has_systemd; then",
    '    if [ "$unit_changed" = 1 ]; then run systemctl daemon-reload || could_not "reload systemd"; fi',
    '    if [ "$wg_was_enabled" = 0 ] && systemctl -q is-enabled wg-quick@wg0 2>/dev/null; then run systemctl disable -q wg-quick@wg0 || could_not "disable wg-quick@wg0"; fi',
    '    if [ "$bird_was_enabled" = 0 ] && systemctl -q is-enabled bird 2>/dev/null; then run systemctl disable -q bird || could_not "disable bird"; fi',
    "  fi",
    "  restore_sysctl",
    '  if [ "$wg_was_up" = 1 ] && [ "$wg_changed" = 1 ]; then wg_live_sync || could_not "re-apply the old peer and routes of wg0"; fi',
    '  if [ "$bird_was_running" = 1 ] && [ "$bird_changed" = 1 ]; then run birdc configure >/dev/null || could_not "reload bird with its old configuration"; fi',
    ...(onLink ? [`  if [ "$ndppd_changed" = 1 ]; then if [ -f ${NDPPD_CONF} ]; then ndppd_start || could_not "restart ndppd with its old configuration"; else ndppd_stop || could_not "stop ndppd"; fi; fi`] : []),
    '  rollback_done "$status"',
    "}",
    "trap rollback EXIT",
    "trap 'exit 1' ERR",
    "# The hook writes the router's endpoint here whenever wg0 goes down.",
    `save ${ENDPOINTS_FILE}`,
    VPS_ACTIONS,
    ...(onLink
      ? [
          `ndppd_unit=${NDPPD_UNIT.replace(/\.service$/, "")}`,
          "# ndppd cannot reload its configuration: a change restarts it. Without systemd it runs as",
          "# its own daemon (one per network namespace).",
          "ndppd_start() {",
          '  if has_systemd; then run systemctl daemon-reload; run systemctl restart "$ndppd_unit"',
          `  else local p; for p in $(ndppd_pids); do run kill "$p"; done; run ndppd -d -c ${NDPPD_CONF}; fi`,
          "}",
          'ndppd_stop() { if has_systemd; then run systemctl stop "$ndppd_unit"; else local p; for p in $(ndppd_pids); do run kill "$p"; done; fi; }',
        ]
      : []),
    "",
    "# wg syncconf would clear a private key the config does not hold, so the key is fed in",
    "# from its file (never on a command line). wg-quick adds routes for AllowedIPs only on",
    "# `up`: add the new ones, drop the old ones.",
    "wg_live_sync() {",
    "  printf '[#] %s\\n' 'wg syncconf wg0 <(wg-quick strip wg0 + private key)' >&2",
    `  wg syncconf wg0 <(awk 'NR == FNR { key = $0; next } { print } /^\\[Interface\\]/ { print "PrivateKey = " key }' ${KEY_FILE} <(wg-quick strip wg0))`,
    "  local want=() net w keep",
    "  while read -r net; do want+=(\"$net\"); done < <(wg show wg0 allowed-ips | cut -f 2 | tr ' ' '\\n' | grep / || true)",
    "  # As wg-quick does: no route where one on wg0 covers the entry already (the transit /64).",
    '  for net in "${want[@]}"; do [ -n "$(ip -6 route show dev wg0 match "$net" 2>/dev/null)" ] || run ip -6 route replace "$net" dev wg0; done',
    "  while read -r net _; do",
    '    [[ "$net" == */* ]] || net="$net/128" # ip prints host routes without /128',
    '    keep=0; for w in "${want[@]}"; do [ "$w" = "$net" ] && keep=1; done',
    '    [ "$keep" = 1 ] || run ip -6 route del "$net" dev wg0',
    "  done < <(ip -6 route show dev wg0 proto boot)",
    ...(ufw
      ? ["  # The hook filled its ICMPv6 source guard when wg0 came up: refilled with the plan's sources.", `  run ${HOOK_FILE} guard wg0`]
      : []),
    "}",
    "",
    "step 'packages'",
    "# For undo.sh, once: what ran before relay6's first run.",
    'if [ ! -f "$originals/services" ]; then',
    "  ensure_originals",
    `  printf 'wg_up=%s\\nbird_running=%s\\nwg_enabled=%s\\nbird_enabled=%s\\n' "$wg_was_up" "$bird_was_running" "$wg_was_enabled" "$bird_was_enabled" > "$originals/services"`,
    "fi",
    "missing=()",
    `for p in ${packages.join(" ")}; do`,
    "  dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'ok installed' || missing+=(\"$p\")",
    "done",
    'if [ "${#missing[@]}" -gt 0 ]; then',
    '  installed_packages=("${missing[@]}")',
    "  run apt-get update -qq",
    '  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"',
    "  changed=1",
    "fi",
    "",
    "step 'WireGuard key'",
  ];
  if (plan.wireguard.keys === "device") {
    L.push(
      `if [ ! -s ${KEY_FILE} ]; then`,
      `  save ${KEY_FILE}; keep_original ${KEY_FILE}; note_new_dirs /etc/wireguard`,
      `  run install -d -m 700 /etc/wireguard`,
      `  printf '[#] %s\\n' 'wg genkey > ${KEY_FILE}' >&2`,
      `  (umask 077; wg genkey > ${KEY_FILE})`,
      "  changed=1",
      "fi",
      `echo "VPS WireGuard public key: $(wg pubkey < ${KEY_FILE})"`,
    );
  } else {
    L.push(`install_file secrets/wg0.key ${KEY_FILE} 600 root:root wg_changed`);
  }
  if (step1) {
    L.push(
      "",
      "# Step 1 of 2 (wireguard.keys: device): the router's public key is not known yet.",
      "echo 'Step 1 done. Put the key above into vps.publicKey in the site file, add the router'\"'\"'s key as router.publicKey, render again and run the new setup.sh.'",
      "exit 0",
    );
    return L.join("\n") + "\n";
  }
  L.push("", "step 'files'");
  for (const f of files) L.push(`install_file ${shQuote(f.src)} ${shQuote(f.dst)} ${f.mode} ${f.owner} ${f.reload === "none" ? "none" : `${f.reload}_changed`}`);
  L.push(
    "",
    "step 'sysctl'",
    "# Applied every run: cheap, and it repairs a value someone changed by hand.",
    "save_sysctl /etc/sysctl.d/99-relay6.conf",
    "run sysctl -q -p /etc/sysctl.d/99-relay6.conf",
    "",
    "step 'firewall'",
  );
  if (ufw)
    L.push(
      "# Everything firewall.sh can change, as it is now: the rule files, defaults and enabled",
      "# flag, the live rules, and the sysctl values ufw sets when it goes active.",
      "ufw_touched=1",
      `for f in ${UFW_FILES}; do save "$f"; done`,
      "ufw_active && ufw_was_active=1",
      'iptables-save > "$backup/iptables"; ip6tables-save > "$backup/ip6tables"',
      'ufw_sysctl="$(. /etc/default/ufw >/dev/null 2>&1; echo "${IPT_SYSCTL:-}")"',
      'if [ ! -f "$originals/ufw" ]; then',
      `  for f in ${UFW_FILES}; do keep_original "$f"; done`,
      `  printf 'active=%s\\n' "$ufw_was_active" > "$originals/ufw"`,
      '  ufw show added > "$originals/ufw-added"',
      "fi",
      'if [ "$ufw_was_active" = 0 ] && [ -n "$ufw_sysctl" ] && [ -f "$ufw_sysctl" ]; then save_sysctl "$ufw_sysctl" ufw-sysctl; fi',
      'run bash "$here/firewall.sh"',
    );
  else L.push("echo 'firewall.vps is none: leaving the firewall alone' >&2");
  if (moved)
    L.push(
      "",
      "step 'own address in the routed /64'",
      "# Before wg0: the /64 must go into the tunnel, not to the NIC (wg0's PostUp does it too,",
      "# at each start). Every run: the provider's network configuration (or a hand edit) may",
      "# have put the connected route back.",
      `if ! ${VPS_NET_SCRIPT} status; then run ${VPS_NET_SCRIPT} up; changed=1; fi`,
    );
  L.push(
    "",
    "step 'wg0'",
    `keep_original ${ENDPOINTS_FILE}`,
    "# The live peer, AllowedIPs and their routes, as the plan has them: a hand edit since the",
    "# last run (wg set, ip route del) is put back too, not only a changed file.",
    "wg_drifted() {",
    `  [ "$(wg show wg0 allowed-ips | while read -r k ips; do for i in $ips; do echo "$k $i"; done; done | sort)" != "$(${expected})" ] && return 0`,
    "  # Each AllowedIP must route into wg0 (wg-quick adds no /128 the transit /64 covers).",
    ...(single
      ? [
          "  # (One address in each: a /64's network address can be the NIC's subnet-router anycast.)",
          `  for a in ${peers.flatMap((p) => p.probes).join(" ")}; do ip -6 route get "$a" 2>/dev/null | grep -q ' dev wg0 ' || return 0; done`,
        ]
      : [`  for i in ${allowed}; do ip -6 route get "\${i%/*}" 2>/dev/null | grep -q ' dev wg0 ' || return 0; done`]),
    "  return 1",
    "}",
    "if ip link show wg0 >/dev/null 2>&1; then",
    '  if [ "$wg_changed" = 1 ]; then wg_live_sync',
    "  elif wg_drifted; then step 'wg0 drifted from the plan: syncing it'; wg_changed=1; wg_live_sync; changed=1",
    "  fi",
    "else",
    "  wg_start",
    "  changed=1",
    "fi",
    "if has_systemd && ! systemctl is-enabled --quiet wg-quick@wg0; then run systemctl enable wg-quick@wg0; changed=1; fi",
  );
  if (bgp) {
    L.push(
      "",
      "step 'bird'",
      'if [ "$unit_changed" = 1 ] && has_systemd; then run systemctl daemon-reload; fi',
      "if bird_running; then",
      '  if [ "$bird_changed" = 1 ]; then run birdc configure; fi',
      "else",
      "  bird_start",
      "  changed=1",
      "fi",
    );
  }
  if (plan.quota)
    L.push(
      "",
      "step 'vnstat'",
      "# The provider counts the NIC's traffic: vnstat must count that interface.",
      `if ! vnstat --json d -i ${shQuote(plan.vps.nic)} >/dev/null 2>&1; then run vnstat --add -i ${shQuote(plan.vps.nic)}; changed=1; fi`,
      "if has_systemd && ! systemctl is-active --quiet vnstat; then run systemctl enable --now vnstat; changed=1; fi",
    );
  if (plan.vps.alerts)
    L.push(
      "",
      "step 'relay6-status timer'",
      "if has_systemd; then",
      // The bird step has reloaded systemd already when a unit changed.
      ...(bgp ? [] : ['  if [ "$unit_changed" = 1 ]; then run systemctl daemon-reload; fi']),
      "  if ! systemctl is-enabled --quiet relay6-status.timer || ! systemctl is-active --quiet relay6-status.timer; then run systemctl enable --now relay6-status.timer; changed=1; fi",
      "else",
      "  echo 'no systemd: relay6-status.timer is not started (run /usr/local/sbin/relay6-status --check from cron)' >&2",
      "fi",
    );
  if (onLink)
    L.push(
      "",
      "step 'ndppd'",
      "# After wg0: an answered solicitation brings packets the tunnel must already route.",
      "if has_systemd; then",
      '  if [ "$ndppd_changed" = 1 ] || ! systemctl is-active --quiet "$ndppd_unit"; then ndppd_start; changed=1; fi',
      '  if ! systemctl is-enabled --quiet "$ndppd_unit"; then run systemctl enable "$ndppd_unit"; changed=1; fi',
      'elif [ "$ndppd_changed" = 1 ] || [ -z "$(ndppd_pids)" ]; then ndppd_start; changed=1',
      "fi",
    );
  L.push(
    "",
    'if [ "$changed" = 0 ]; then step "no changes: the VPS already matches the plan"; else step "done"; fi',
    `echo "VPS WireGuard public key: $(wg pubkey < ${KEY_FILE})"`,
  );
  return L.join("\n") + "\n";
}
