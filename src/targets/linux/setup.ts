// setup.sh (the installer, run on the router from the rendered router/ directory),
// undo.sh (relay6 off the router again) and relay6-router-net (segment addresses +
// firewall, run at boot by its unit and by setup.sh). setup.sh has the VPS's shape: each
// file installed only when it differs, with the mode and owner relay6 chose, by an atomic
// rename; a failing step puts back every file, the units' states and the sysctl values
// (src/render/install-lib.ts); the first time it replaces a file it records the original
// for undo.sh.
import { formatAddress6, parsePrefix6 } from "../../net/ipv6.js";
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { SETUP_FUNCTIONS, stateDir, UNDO_FUNCTIONS } from "../../render/install-lib.js";
import { commentText, shQuote } from "../../render/quote.js";
import { RADVD_RUNTIME } from "./drain.js";
import { RELAY6_CHAINS, type FirewallRules } from "./firewall.js";
import { LINUX_PATHS } from "./paths.js";

export const ROUTER_STATE = stateDir("router");

/** One file setup.sh installs: from the rendered router/ folder to the router. */
export interface RouterFile {
  /** Path under router/. */
  src: string;
  dst: string;
  /** Octal, as installed: the mode relay6 chose, never the copy's. */
  mode: string;
  owner: string;
  /** The variable setup.sh sets when the file changed: which unit to restart or reload. */
  flag: "net_changed" | "net_unit_changed" | "wg_changed" | "radvd_conf_changed" | "radvd_unit_changed" | "drain_changed" | "drain_unit_changed" | "frr_changed" | "gw_changed" | "gw_unit_changed" | "none";
}

export function renderNetScript(plan: Plan, firewall: FirewallRules): string {
  const addrs: string[] = [];
  for (const s of plan.segments) {
    addrs.push(`${s.router.cidr} dev ${s.interface}`);
    if (s.ula) addrs.push(`${s.ula.router.cidr} dev ${s.interface}`);
  }
  // The old /64s (previousPrefix) are only advertised deprecated: the router's own address
  // in each goes, or the router's own traffic could still leave from it.
  const previous = plan.segments.filter((s) => s.previous).map((s) => `${segmentRouterCidr(s.previous!)} dev ${s.interface}`);
  // The VPS's own address in a routed /64: LAN hosts take the /64 for on-link and solicit
  // it on the segment; the router answers for it (proxy) and routes it into the tunnel
  // (wg-quick PostUp).
  const own = plan.vps.ownAddress;
  const table = (name: "filter" | "mangle", rules: string[]) => [
    `*${name}`,
    ...RELAY6_CHAINS.filter(([t]) => t === name).map(([, c]) => `:${c} - [0:0]`),
    ...rules,
    ...RELAY6_CHAINS.filter(([t, , p]) => t === name && p).map(([t, c, p]) => `$(hook ${t} ${c} ${p})`),
    "COMMIT",
  ];
  const hooked = RELAY6_CHAINS.filter(([, , p]) => p);
  return [
    "#!/bin/bash",
    ...header(plan, "#", "Segment addresses and the IPv6 firewall of the router: relay6-router-net [start|reload|stop]."),
    "# start, reload: idempotent. Each table's chains are loaded in ONE ip6tables-restore",
    "# transaction: declared (created, or emptied), filled and hooked first into the built-in",
    "# chains together, or, when anything in it fails, not changed at all: the old rules stay,",
    "# never an empty or half-filled chain. Other rules stay as they are.",
    "# stop: relay6's chains and the segment addresses removed (the unit's ExecStop; undo.sh).",
    "set -euo pipefail",
    "",
    "# The segment addresses relay6 sets, and the record of those it set last (a segment",
    "# removed since, or a rollback to a smaller plan, takes its address away again).",
    `want=(${addrs.map((a) => `"${a}"`).join(" ")})`,
    "record=/run/relay6/router-net-addresses",
    "drop_addresses() { # $1 = all: every recorded address; else those the plan no longer has",
    "  local a w keep",
    '  [ -f "$record" ] || return 0',
    "  while IFS= read -r a; do",
    '    keep=0; if [ "$1" != all ]; then for w in "${want[@]}"; do [ "$w" = "$a" ] && keep=1; done; fi',
    '    [ "$keep" = 1 ] || ip -6 addr del $a 2>/dev/null || true',
    '  done < "$record"',
    "}",
    "",
    "stop() {",
    ...hooked.map(([t, c, p]) => `  while ip6tables -t ${t} -D ${p} -j ${c} 2>/dev/null; do :; done`),
    ...RELAY6_CHAINS.map(([t, c]) => `  ip6tables -t ${t} -F ${c} 2>/dev/null || true`),
    ...RELAY6_CHAINS.map(([t, c]) => `  ip6tables -t ${t} -X ${c} 2>/dev/null || true`),
    ...(own ? [`  ip -6 neigh del proxy ${own.address} dev ${own.interface} 2>/dev/null || true`] : []),
    "  drop_addresses all",
    '  for a in "${want[@]}"; do ip -6 addr del $a 2>/dev/null || true; done',
    '  rm -f "$record"',
    "}",
    "",
    'case "${1:-start}" in',
    "  start | reload) ;;",
    "  stop) stop; exit 0 ;;",
    '  *) echo "usage: $0 [start|reload|stop]" >&2; exit 2 ;;',
    "esac",
    "",
    "# The router's address in each segment's /64 (radvd advertises the prefixes).",
    "# First the record takes every address this run may add: a run stopped half way leaves",
    "# nothing the next run (or a rollback's) does not know to take away.",
    "install -d -m 700 /run/relay6",
    '{ if [ -f "$record" ]; then cat "$record"; fi; printf \'%s\\n\' "${want[@]}"; } | sort -u > "$record.new"',
    'mv -f "$record.new" "$record"',
    "drop_addresses stale",
    'for a in "${want[@]}"; do ip -6 addr replace $a; done',
    ...(previous.length > 0 ? ["# The router's own address in each old /64 (previousPrefix): advertised deprecated only.", ...previous.map((a) => `ip -6 addr del ${a} 2>/dev/null || true`)] : []),
    ...(own ? [`# The VPS's own address ${own.address} lies in ${own.prefix}: answered for on ${own.interface}.`, `ip -6 neigh replace proxy ${own.address} dev ${own.interface}`] : []),
    "",
    "# hook TABLE CHAIN PARENT: the restore line that hooks CHAIN first into PARENT, unless it is.",
    'hook() { ip6tables -t "$1" -C "$3" -j "$2" 2>/dev/null || echo "-I $3 -j $2"; }',
    "",
    "ip6tables-restore --noflush <<RULES",
    ...table("filter", firewall.filter),
    ...table("mangle", firewall.mangle),
    "RULES",
    'printf \'%s\\n\' "${want[@]}" > "$record"',
    "",
  ].join("\n");
}

/** ::1 of a /64, with its length: the router's address in a segment's /64. */
function segmentRouterCidr(prefix: string): string {
  const p = parsePrefix6(prefix);
  if (!p.ok) throw new Error(`internal: ${prefix} is not a prefix`);
  return `${formatAddress6(p.prefix.network | 1n)}/64`;
}

export function renderNetUnit(plan: Plan): string {
  return `${header(plan, "#", "systemd unit of relay6-router-net.").join("\n")}
[Unit]
Description=relay6: segment addresses and IPv6 firewall (site ${commentText(plan.site)})
After=network-pre.target
Before=radvd.service wg-quick@${plan.router.tunnelInterface}.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/relay6-router-net start
# setup.sh reloads: the rules are swapped in one transaction. A restart would run ExecStop
# first and leave the router without relay6's firewall for a moment.
ExecReload=/usr/local/sbin/relay6-router-net reload
ExecStop=/usr/local/sbin/relay6-router-net stop

[Install]
WantedBy=multi-user.target
`;
}

/** The flags of the unit files setup.sh installs: one set, and systemd reloads its units. */
const UNIT_FLAGS = ["net_unit_changed", "gw_unit_changed", "radvd_unit_changed", "drain_unit_changed"] as const;
const unitsChanged = `"${UNIT_FLAGS.map((f) => `$${f}`).join("")}" != ${"0".repeat(UNIT_FLAGS.length)}`;
/** The RA drain's running copy of radvd.conf, gone with radvd's drop-in. */
const RADVD_COPY = RADVD_RUNTIME;
const RADVD_DROPIN = LINUX_PATHS.radvdDropIn.slice("router/files".length);

/** The units setup.sh runs, in the order it starts them (the firewall first). `changed`:
 *  restart (the firewall: reload); `reload`: a reload is enough. */
export function routerUnits(plan: Plan): { unit: string; changed: string; reload?: string; wantedBy: string }[] {
  const wg = plan.router.tunnelInterface;
  return [
    { unit: "relay6-router-net", changed: '"$net_changed$net_unit_changed" != 00', wantedBy: "multi-user.target" },
    { unit: `wg-quick@${wg}`, changed: '"$wg_changed" = 1', wantedBy: "multi-user.target" },
    // radvd runs from the RA drain's copy of radvd.conf (its drop-in): a new drop-in is a
    // restart; a new radvd.conf only a reload (the drain renders its copy again and radvd
    // re-reads it: no restart, whose last RA would tell the LAN the router is going).
    { unit: "radvd", changed: '"$radvd_unit_changed" = 1', reload: '"$radvd_conf_changed" = 1', wantedBy: "multi-user.target" },
    { unit: "relay6-ra-drain", changed: '"$drain_changed$drain_unit_changed" != 00', wantedBy: "multi-user.target" },
    plan.failover.mode === "bgp-bfd"
      ? { unit: "frr", changed: '"$frr_changed" = 1', wantedBy: "multi-user.target" }
      : { unit: "relay6-gw-check", changed: '"$gw_changed$gw_unit_changed" != 00', wantedBy: `wg-quick@${wg}.service` },
  ];
}

export function renderSetup(plan: Plan, files: RouterFile[], step1: boolean): string {
  const wg = plan.router.tunnelInterface;
  const bgp = plan.failover.mode === "bgp-bfd";
  const pkgs = ["wireguard-tools", "radvd", "iptables", "iputils-ping", ...(bgp ? ["frr"] : [])];
  const key = `/etc/wireguard/${wg}.key`;
  const units = routerUnits(plan).map((u) => u.unit);
  const L: string[] = [
    "#!/bin/bash",
    ...header(plan, "#", "Router setup for the relay (Debian/Ubuntu, systemd). Run as root from this folder: sudo bash setup.sh"),
    `# Installs ${pkgs.join(", ")}, then the rendered files (each with the mode and owner`,
    "# relay6 chose), then starts what is not running and restarts (the firewall: reloads)",
    "# what changed. Idempotent: a second run changes nothing. If a step fails, every file",
    "# is put back, what this run started is stopped, what it restarted runs again with the",
    "# old files, and the run fails; a restore that fails is reported, the others still happen.",
    `# What relay6 replaces the first time is kept in ${ROUTER_STATE}/originals for undo.sh.`,
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    '[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }',
    "export DEBIAN_FRONTEND=noninteractive",
    `step() { printf '\\n[relay6] %s\\n' "$*" >&2; }`,
    `run() { printf '[#] %s\\n' "$*" >&2; "$@"; }`,
    `state=${ROUTER_STATE}`,
    SETUP_FUNCTIONS,
    "",
    "net_changed=0 net_unit_changed=0 wg_changed=0 radvd_conf_changed=0 radvd_unit_changed=0 drain_changed=0 drain_unit_changed=0 frr_changed=0 gw_changed=0 gw_unit_changed=0",
    `units=(${units.join(" ")})`,
    "declare -A was_active=() was_enabled=()",
    'for u in "${units[@]}"; do',
    '  was_active[$u]=0; systemctl -q is-active "$u" 2>/dev/null && was_active[$u]=1',
    '  was_enabled[$u]=0; systemctl -q is-enabled "$u" 2>/dev/null && was_enabled[$u]=1',
    "done",
    "started=() restarted=() reloaded=()",
    "",
    "rollback() {",
    "  local status=$? i u",
    "  trap - ERR EXIT",
    '  if [ "$status" -eq 0 ]; then rm -rf "$backup"; return; fi',
    "  set +e",
    `  printf '\\n[relay6] FAILED (exit %s): putting back the state before this run\\n' "$status" >&2`,
    "  # What this run started, stopped again, the firewall last (its stop removes its rules).",
    '  for ((i = ${#started[@]} - 1; i >= 0; i--)); do run systemctl stop "${started[i]}" || could_not "stop ${started[i]}"; done',
    "  # A start that failed half way runs no ExecStop: relay6-router-net's own stop, to be sure.",
    '  for u in "${started[@]}"; do if [ "$u" = relay6-router-net ] && [ -x /usr/local/sbin/relay6-router-net ]; then run /usr/local/sbin/relay6-router-net stop || could_not "remove relay6-router-net\'s chains and addresses"; fi; done',
    "  # Enabled by this run: disabled again while their unit files are still there.",
    '  for u in "${units[@]}"; do',
    '    if [ "${was_enabled[$u]}" = 0 ] && systemctl -q is-enabled "$u" 2>/dev/null; then run systemctl disable -q "$u" || could_not "disable $u"; fi',
    "  done",
    "  restore_files",
    `  if [ ${unitsChanged} ]; then run systemctl daemon-reload || could_not "reload systemd"; fi`,
    "  # The RA drain's running copy of radvd.conf goes with its drop-in.",
    `  if [ ! -f ${RADVD_DROPIN} ]; then rm -f ${RADVD_COPY}; fi`,
    "  # What this run restarted runs again with the old files.",
    '  for u in "${restarted[@]}"; do',
    '    if [ "$u" = relay6-router-net ]; then run systemctl reload "$u" || could_not "reload $u with its old files"',
    '    else run systemctl restart "$u" || could_not "restart $u with its old files"; fi',
    "  done",
    '  for u in "${reloaded[@]}"; do run systemctl reload "$u" || could_not "reload $u with its old files"; done',
    "  restore_sysctl",
    '  rollback_done "$status"',
    "}",
    "trap rollback EXIT",
    "trap 'exit 1' ERR",
    "",
    "step 'packages'",
    "# For undo.sh, once: which units ran before relay6's first run.",
    'if [ ! -f "$originals/services" ]; then',
    "  ensure_originals",
    '  for u in "${units[@]}"; do printf \'active:%s=%s\\nenabled:%s=%s\\n\' "$u" "${was_active[$u]}" "$u" "${was_enabled[$u]}"; done > "$originals/services"',
    "fi",
    `echo "[#] packages: ${pkgs.join(" ")}" >&2`,
    "missing=()",
    `for p in ${pkgs.join(" ")}; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done`,
    'if [ "${#missing[@]}" -gt 0 ]; then',
    '  installed_packages=("${missing[@]}")',
    "  run apt-get update -qq",
    '  run apt-get install -y -qq --no-install-recommends "${missing[@]}"',
    "  changed=1",
    "fi",
    "",
  ];
  if (step1) {
    L.push(
      "step 'WireGuard key'",
      `if [ ! -s ${key} ]; then`,
      `  save ${key}; keep_original ${key}; note_new_dirs /etc/wireguard`,
      "  run install -d -m 700 /etc/wireguard",
      `  printf '[#] %s\\n' 'wg genkey > ${key}' >&2`,
      `  (umask 077; wg genkey > ${key})`,
      "fi",
      `echo "router public key: $(wg pubkey <${key})"`,
      `echo "[#] step 1 done: put this key into router.publicKey (and the VPS's into vps.publicKey) in the site file, render again, run the new setup.sh"`,
      "exit 0",
    );
    return L.join("\n") + "\n";
  }
  L.push("step 'files'");
  for (const f of files) L.push(`install_file ${shQuote(f.src)} ${shQuote(f.dst)} ${f.mode} ${f.owner} ${f.flag}`);
  if (plan.wireguard.keys === "device")
    L.push(
      `if [ ! -s ${key} ]; then`,
      `  save ${key}; keep_original ${key}; note_new_dirs /etc/wireguard`,
      "  echo \"[#] making this router's WireGuard key\" >&2",
      "  run install -d -m 700 /etc/wireguard",
      `  (umask 077; wg genkey > ${key})`,
      "  wg_changed=1 changed=1",
      "fi",
    );
  L.push(`echo "router public key: $(wg pubkey <${key})"`);
  if (bgp)
    L.push(
      "# FRR's own /etc/frr/daemons: the daemons relay6 needs turned on, the file's mode kept.",
      "daemons=\"$backup/frr-daemons\"",
      'cp /etc/frr/daemons "$daemons"',
      `for d in $(grep -E '^[a-z]+=yes' /etc/relay6/frr-daemons | cut -d= -f1); do sed -i "s/^$d=.*/$d=yes/" "$daemons"; done`,
      'if ! cmp -s "$daemons" /etc/frr/daemons; then',
      "  save /etc/frr/daemons; save /etc/frr/daemons.relay6-new; keep_original /etc/frr/daemons",
      '  run install -m "$(stat -c %a /etc/frr/daemons)" -o "$(stat -c %U /etc/frr/daemons)" -g "$(stat -c %G /etc/frr/daemons)" "$daemons" /etc/frr/daemons.relay6-new',
      "  run mv -f /etc/frr/daemons.relay6-new /etc/frr/daemons",
      "  frr_changed=1 changed=1",
      "fi",
    );
  L.push(
    "",
    "step 'sysctl'",
    "save_sysctl /etc/sysctl.d/99-relay6.conf",
    "run sysctl -q -p /etc/sysctl.d/99-relay6.conf",
    "",
    "step 'services'",
    `if [ ${unitsChanged} ]; then run systemctl daemon-reload; fi`,
    "# converge UNIT CHANGED WANTS: started when it is not running, restarted (the firewall:",
    "# reloaded, its rules swapped in one go) when its files changed (CHANGED=reload: reloaded);",
    "# enabled (a .wants directory that enabling creates is noted: the rollback and undo.sh",
    "# remove it again).",
    "converge() {",
    '  local u="$1" c="$2"',
    '  note_new_dirs "/etc/systemd/system/$3.wants"',
    '  if ! systemctl -q is-active "$u"; then started+=("$u"); run systemctl start "$u"; changed=1',
    '  elif [ "$c" = reload ]; then reloaded+=("$u"); run systemctl reload "$u"; changed=1',
    '  elif [ "$c" = 1 ]; then',
    '    restarted+=("$u")',
    '    if [ "$u" = relay6-router-net ]; then run systemctl reload "$u"; else run systemctl restart "$u"; fi',
    "    changed=1",
    "  fi",
    '  if ! systemctl -q is-enabled "$u"; then run systemctl enable -q "$u"; changed=1; fi',
    "}",
  );
  for (const u of routerUnits(plan))
    L.push(`if [ ${u.changed} ]; then converge ${u.unit} 1 ${u.wantedBy}; ${u.reload ? `elif [ ${u.reload} ]; then converge ${u.unit} reload ${u.wantedBy}; ` : ""}else converge ${u.unit} 0 ${u.wantedBy}; fi`);
  L.push(
    "",
    'if [ "$changed" = 0 ]; then step "no changes: the router already matches the plan"; else step "done"; fi',
    `echo "[#] check: wg show ${wg}; ip -6 route show default" >&2`,
  );
  return L.join("\n") + "\n";
}

/** router/undo.sh: relay6 off the router. Stops and disables what relay6 started and
 *  enabled (relay6-router-net's stop removes its chains and addresses), removes its files,
 *  puts back what it replaced (FRR's daemons file, a radvd.conf of the user's...), the
 *  sysctl values, and starts again what ran before relay6. Packages stay installed. */
export function renderRouterUndo(plan: Plan): string {
  const units = routerUnits(plan).map((u) => u.unit);
  const L = [
    "#!/bin/bash",
    ...header(plan, "#", "Removes relay6 from this router and puts back what it replaced. Run as root: sudo bash undo.sh"),
    "# Only what relay6 made goes: its files, units, firewall chains, addresses and the sysctl",
    `# values it set. What setup.sh found before its first run (${ROUTER_STATE}/originals)`,
    "# comes back, and what ran before runs again. Packages stay installed. Idempotent.",
    "# Exit 1, with what failed, when something could not be put back.",
    "set -uo pipefail",
    '[ "$(id -u)" -eq 0 ] || { echo "undo.sh: run me as root" >&2; exit 1; }',
    `step() { printf '\\n[relay6] %s\\n' "$*" >&2; }`,
    `run() { printf '[#] %s\\n' "$*" >&2; "$@"; }`,
    `state=${ROUTER_STATE}`,
    UNDO_FUNCTIONS,
    'if [ ! -d "$originals" ]; then',
    `  printf '[relay6] nothing to undo: %s does not exist (relay6 has not set this router up, or undo.sh already ran)\\n' "$originals" >&2`,
    "  exit 0",
    "fi",
    `units=(${units.join(" ")})`,
    "",
    "step 'units'",
    "# Last started, first stopped: the firewall goes last.",
    "for ((i = ${#units[@]} - 1; i >= 0; i--)); do",
    '  u="${units[i]}"',
    '  if systemctl -q is-active "$u" 2>/dev/null && ! rec services "active:$u"; then try "stop $u" systemctl stop "$u"; fi',
    '  if systemctl -q is-enabled "$u" 2>/dev/null && ! rec services "enabled:$u"; then try "disable $u" systemctl disable -q "$u"; fi',
    "done",
    "# relay6's chains and addresses, also when its unit was not running.",
    "if [ -x /usr/local/sbin/relay6-router-net ]; then try 'remove relay6-router-net'\"'\"'s chains and addresses' /usr/local/sbin/relay6-router-net stop; fi",
    "",
    "step 'files'",
    "undo_files",
    'try "reload systemd" systemctl daemon-reload',
    "# The RA drain's running copy of radvd.conf goes with its drop-in.",
    `if [ ! -f ${RADVD_DROPIN} ]; then rm -f ${RADVD_COPY}; fi`,
    "",
    "step 'sysctl'",
    "undo_sysctl sysctl",
    "",
    "step 'what ran before relay6'",
    'for u in "${units[@]}"; do',
    '  if rec services "active:$u"; then',
    '    if systemctl -q is-active "$u" 2>/dev/null; then try "restart $u with its original files" systemctl restart "$u"; else try "start $u again" systemctl start "$u"; fi',
    "  fi",
    "done",
    "",
    "undo_done",
  ];
  return L.join("\n") + "\n";
}
