// setup.sh: the VPS end in one idempotent script. It installs the rendered files that
// differ, and applies each change live: `wg syncconf` plus routes for AllowedIPs (never
// wg-quick down/up, which would drop the tunnel), `birdc configure` for bird.
import type { Plan } from "../../plan/plan.js";
import { header } from "../../render/header.js";
import { shQuote } from "../../render/quote.js";
import { KEY_FILE } from "./wireguard.js";

export interface InstalledFile {
  /** Path under vps/ in the render output. */
  src: string;
  /** Absolute path on the VPS. */
  dst: string;
  mode: string;
  owner: string;
}

export function sysctlKey(ifname: string): string {
  // In dotted sysctl keys a '.' inside an interface name (eth0.100) is written '/'.
  return ifname.replace(/\./g, "/");
}

export function renderSysctl(plan: Plan): string {
  return [
    ...header(plan, "#", "IPv6 forwarding for the relay."),
    "net.ipv6.conf.all.forwarding = 1",
    "net.ipv6.conf.default.forwarding = 1",
    "# With forwarding on, the kernel ignores router advertisements unless accept_ra = 2:",
    "# the provider's RA keeps the VPS's own default route alive.",
    `net.ipv6.conf.${sysctlKey(plan.vps.nic)}.accept_ra = 2`,
    "",
  ].join("\n");
}

export function renderSetup(plan: Plan, files: InstalledFile[], step1: boolean): string {
  const bgp = plan.failover.mode === "bgp-bfd";
  const packages = ["wireguard-tools", "iptables", ...(plan.vps.firewall === "ufw" ? ["ufw"] : []), ...(bgp ? ["bird2"] : [])];
  const L: string[] = [
    "#!/usr/bin/env bash",
    ...header(plan, "#", "VPS setup for the relay. Run as root from this folder: sudo bash setup.sh"),
    "# Idempotent: a second run changes nothing. Every command is printed before it runs.",
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    "step() { printf '\\n[relay6] %s\\n' \"$*\" >&2; }",
    "run() { printf '[#] %s\\n' \"$*\" >&2; \"$@\"; }",
    "changed=0 wg_changed=0 bird_changed=0 unit_changed=0",
    "# install_file SRC DST MODE OWNER: copies when content, mode or owner differ; returns 0 if it copied",
    "install_file() {",
    '  local src="$here/$1" dst="$2" mode="$3" owner="$4"',
    '  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c \'%a %U:%G\' "$dst")" = "$mode $owner" ]; then return 1; fi',
    '  run install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dst"',
    "  changed=1",
    "}",
    "",
    '[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run me as root" >&2; exit 1; }',
    "",
    "step 'packages'",
    "missing=()",
    `for p in ${packages.join(" ")}; do`,
    "  dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'ok installed' || missing+=(\"$p\")",
    "done",
    'if [ "${#missing[@]}" -gt 0 ]; then',
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
      `  run install -d -m 700 /etc/wireguard`,
      `  printf '[#] %s\\n' 'wg genkey > ${KEY_FILE}' >&2`,
      `  (umask 077; wg genkey > ${KEY_FILE})`,
      "  changed=1",
      "fi",
      `echo "VPS WireGuard public key: $(wg pubkey < ${KEY_FILE})"`,
    );
  } else {
    L.push(`install_file secrets/wg0.key ${KEY_FILE} 600 root:root && wg_changed=1 || true`);
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
  for (const f of files) {
    const flag = f.dst.startsWith("/etc/bird/") ? "bird_changed" : f.dst.startsWith("/etc/wireguard/") ? "wg_changed" : f.dst.startsWith("/etc/systemd/") ? "unit_changed" : undefined;
    L.push(`install_file ${shQuote(f.src)} ${shQuote(f.dst)} ${f.mode} ${f.owner}${flag ? ` && ${flag}=1` : ""} || true`);
  }
  L.push(
    "",
    "step 'sysctl'",
    "# Applied every run: cheap, and it repairs a value someone changed by hand.",
    "run sysctl -q -p /etc/sysctl.d/99-relay6.conf",
    "",
    "step 'firewall'",
    ...(plan.vps.firewall === "ufw"
      ? ['run bash "$here/firewall.sh"']
      : ["echo 'firewall.vps is none: leaving the firewall alone' >&2"]),
    "",
    "step 'wg0'",
    "if ip link show wg0 >/dev/null 2>&1; then",
    '  if [ "$wg_changed" = 1 ]; then',
    "    # Live: peers and AllowedIPs change without dropping the tunnel. syncconf would clear",
    "    # a private key the config does not hold, so the key is fed in from its file (never",
    "    # on a command line).",
    "    printf '[#] %s\\n' 'wg syncconf wg0 <(wg-quick strip wg0 + private key)' >&2",
    `    wg syncconf wg0 <(awk 'NR == FNR { key = $0; next } { print } /^\\[Interface\\]/ { print "PrivateKey = " key }' ${KEY_FILE} <(wg-quick strip wg0))`,
    "    # wg-quick adds routes for AllowedIPs only on `up`: add new ones, drop old ones.",
    `    want=(${plan.vps.allowedIps.map(shQuote).join(" ")})`,
    '    for net in "${want[@]}"; do run ip -6 route replace "$net" dev wg0; done',
    "    while read -r net _; do",
    '      [[ "$net" == */* ]] || net="$net/128" # ip prints host routes without /128',
    '      keep=0; for w in "${want[@]}"; do [ "$w" = "$net" ] && keep=1; done',
    '      [ "$keep" = 1 ] || run ip -6 route del "$net" dev wg0',
    "    done < <(ip -6 route show dev wg0 proto boot)",
    "  fi",
    "else",
    "  run systemctl enable --now wg-quick@wg0",
    "  changed=1",
    "fi",
    "systemctl is-enabled --quiet wg-quick@wg0 || { run systemctl enable wg-quick@wg0; changed=1; }",
  );
  if (bgp) {
    L.push(
      "",
      "step 'bird'",
      'if [ "$unit_changed" = 1 ]; then run systemctl daemon-reload; fi',
      "if systemctl is-active --quiet bird; then",
      '  if [ "$bird_changed" = 1 ]; then run birdc configure; fi',
      "else",
      "  run systemctl enable --now bird",
      "  changed=1",
      "fi",
    );
  }
  L.push(
    "",
    'if [ "$changed" = 0 ]; then step "no changes: the VPS already matches the plan"; else step "done"; fi',
    `echo "VPS WireGuard public key: $(wg pubkey < ${KEY_FILE})"`,
  );
  return L.join("\n") + "\n";
}
