// undo.sh: relay6 off the VPS again. It removes only what relay6 made — its files, the ufw
// rules with this relay's tag (a standalone site's: the site's), wg0 and its routes, bird's relay6 configuration, the sysctl
// values — and puts back what setup.sh found before its first run (recorded once in
// /var/lib/relay6/vps/originals): the provider's files, ufw's rules, defaults and enabled
// state, which services ran. Idempotent; every command is shown; a step that fails is
// reported, the others still run, and the exit status is 1 (the record is kept for a
// second try). Packages stay installed.
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";
import { UNDO_FUNCTIONS } from "../../render/install-lib.js";
import { shQuote } from "../../render/quote.js";
import { SSH_TAG, UFW_POLICY_KEYS, ufwTag } from "./firewall.js";
import { VPS_SERVICE_FUNCTIONS, VPS_STATE } from "./setup.js";
import { HOOK_FILE } from "./wireguard.js";

/** Under a relay file it covers every site of the relay: one wg0, one bird, one tag. */
export function renderVpsUndo(plan: RelayPlan): string {
  const bgp = plan.bgp !== undefined;
  const owner = plan.kind === "relay" ? "relay" : "site";
  const L = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "Removes relay6 from this VPS and puts back what it replaced. Run as root: sudo bash undo.sh"),
    `# Only what relay6 made goes: its files, its ufw rules (tagged with this ${owner}), wg0 and`,
    "# its routes, bird's relay6 configuration, the sysctl values it set. What setup.sh found",
    `# before its first run (${VPS_STATE}/originals) comes back. Packages stay installed.`,
    "# Idempotent. Exit 1, with what failed, when something could not be put back.",
    "set -uo pipefail",
    '[ "$(id -u)" -eq 0 ] || { echo "undo.sh: run me as root" >&2; exit 1; }',
    `step() { printf '\\n[relay6] %s\\n' "$*" >&2; }`,
    `run() { printf '[#] %s\\n' "$*" >&2; "$@"; }`,
    `state=${VPS_STATE}`,
    UNDO_FUNCTIONS,
    VPS_SERVICE_FUNCTIONS,
    `tag=${shQuote(ufwTag(plan))}`,
    'if [ ! -d "$originals" ]; then',
    `  printf '[relay6] nothing to undo: %s does not exist (relay6 has not set this VPS up, or undo.sh already ran)\\n' "$originals" >&2`,
    "  exit 0",
    "fi",
    "",
    ...(plan.vps.onLink
      ? [
          "step 'ndppd'",
          "# relay6's ndppd first (its own unit; without systemd, this network namespace's ndppd):",
          "# its static rules answer for addresses only the tunnel carries.",
          "if has_systemd; then",
          '  if systemctl -q is-active ndppd 2>/dev/null; then try "stop ndppd" systemctl stop ndppd; fi',
          '  if systemctl -q is-enabled ndppd 2>/dev/null; then try "disable ndppd" systemctl disable -q ndppd; fi',
          "else",
          '  for p in $(pgrep -x ndppd || true); do if [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ]; then try "stop ndppd" kill "$p"; fi; done',
          "fi",
          "",
        ]
      : []),
    "step 'wg0'",
    "if ip link show wg0 >/dev/null 2>&1; then",
    '  if has_systemd; then try "stop wg-quick@wg0" systemctl stop wg-quick@wg0; else try "take wg0 down" wg-quick down wg0; fi',
    `elif [ -x ${HOOK_FILE} ]; then`,
    "  # wg0 is gone already: the hook's own rules (MSS clamp, source guard) may still be there.",
    `  run ${HOOK_FILE} down wg0`,
    "fi",
    'if has_systemd && systemctl -q is-enabled wg-quick@wg0 2>/dev/null && ! rec services wg_enabled; then try "disable wg-quick@wg0" systemctl disable -q wg-quick@wg0; fi',
  ];
  if (bgp)
    L.push(
      "",
      "step 'bird'",
      'if bird_running && ! rec services bird_running; then bird_stop || could_not "stop bird"; fi',
      'if has_systemd && systemctl -q is-enabled bird 2>/dev/null && ! rec services bird_enabled; then try "disable bird" systemctl disable -q bird; fi',
    );
  if (plan.vps.firewall === "ufw") {
    L.push(
      "",
      "step 'firewall'",
      'if [ -f "$originals/ufw" ]; then',
      "  active=0; ufw_active && active=1",
      "  if ! rec ufw active && [ \"$active\" = 1 ]; then",
      "    # relay6 turned ufw on: off again, with what ufw leaves behind and the sysctl values it set.",
      '    try "disable ufw" ufw --force disable',
      "    ufw_clear",
      "    undo_sysctl ufw-sysctl",
      "    active=0",
      "  fi",
      `  # relay6's rules: this ${owner}'s tag only. While ufw stays on, the SSH rules stay too:`,
      "  # deleting one could lock out the session running this.",
      "  while IFS= read -r line; do",
      `    case "$line" in *" comment '$tag"*) ;; *) continue ;; esac`,
      `    if [ "$active" = 1 ]; then case "$line" in *" comment '\${tag}${SSH_TAG}'") printf '[relay6] kept while ufw stays active (removing it could lock you out): %s\\n' "$line" >&2; continue ;; esac; fi`,
      `    spec="\${line%% comment \\'*}"`,
      '    read -ra words <<< "${spec#ufw }"',
      "    # stdin from /dev/null: ufw's children read it, and would eat this loop's other lines.",
      '    if [ "${words[0]}" = route ]; then try "delete the ufw rule $spec" ufw route delete "${words[@]:1}" </dev/null; else try "delete the ufw rule $spec" ufw delete "${words[@]}" </dev/null; fi',
      '  done <<< "$(ufw show added)"',
      "  # The default policies as relay6 found them.",
      '  if [ -f "$originals/files/etc/default/ufw" ]; then',
    );
    for (const [dir, key] of Object.entries(UFW_POLICY_KEYS))
      L.push(
        `    was="$(sed -n 's/^${key}="\\(.*\\)"/\\1/p' "$originals/files/etc/default/ufw")"; now="$(sed -n 's/^${key}="\\(.*\\)"/\\1/p' /etc/default/ufw)"`,
        `    if [ -n "$was" ] && [ "$was" != "$now" ]; then try "set ufw's default ${dir} policy back" ufw default "$(case "$was" in DROP) echo deny ;; ACCEPT) echo allow ;; *) echo reject ;; esac)" ${dir}; fi`,
      );
    L.push(
      "  fi",
      "  # ufw rewrites its files whole: when it holds just the rules it held before relay6, they",
      "  # go back byte for byte; when someone added rules since, they stay as they are.",
      '  if [ "$(ufw show added)" != "$(cat "$originals/ufw-added")" ]; then',
      "    printf '[relay6] ufw holds rules added since relay6'\\''s first run: its files stay as they are (without relay6'\\''s rules)\\n' >&2",
      '    rm -rf -- "$originals/files/etc/ufw" "$originals/files/etc/default/ufw"',
      "  fi",
      "fi",
    );
  }
  if (plan.vps.alerts)
    L.push(
      "",
      "step 'relay6-status timer'",
      "# Stopped before its files go: a run between the two would find its script gone.",
      'if has_systemd && systemctl -q is-enabled relay6-status.timer 2>/dev/null; then try "disable relay6-status.timer" systemctl disable --now -q relay6-status.timer; fi',
    );
  L.push(
    "",
    "step 'files'",
    "undo_files",
    "",
    "step 'sysctl'",
    "undo_sysctl sysctl",
    'if has_systemd; then try "reload systemd" systemctl daemon-reload; fi',
    "",
    "step 'what ran before relay6'",
    'if rec services wg_up && [ -f "$originals/files/etc/wireguard/wg0.conf" ] && ! ip link show wg0 >/dev/null 2>&1; then wg_start || could_not "bring the original wg0 back up"; fi',
  );
  if (bgp)
    L.push(
      'if rec services bird_running && [ -f /etc/bird/bird.conf ]; then',
      '  if bird_running; then try "reload bird with its original configuration" birdc configure; else bird_start || could_not "start bird again"; fi',
      "fi",
    );
  L.push("", "undo_done");
  return L.join("\n") + "\n";
}
