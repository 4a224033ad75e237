// What "the host as it was" means in the rollback and undo tests: one text that holds
// every file (mode, owner, content hash) under the paths the scripts write, ufw's status
// and rules, the live iptables rules, addresses, routes, links, WireGuard, bird, FRR,
// the sysctl values relay6 or ufw set, and which daemons run. Two states compare with
// toEqual (vitest prints the difference).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetnsHost } from "./netns-host.js";

/** Every path a VPS's setup.sh (and firewall.sh, ufw, the wg-quick hook) writes. */
export const VPS_PATHS = ["/etc/wireguard", "/etc/bird", "/etc/sysctl.d", "/etc/systemd/system", "/etc/ufw", "/etc/default", "/var/lib/relay6"];

/** Every path a Linux router's setup.sh writes. */
export const ROUTER_PATHS = ["/etc/wireguard", "/etc/frr", "/etc/radvd.conf", "/etc/relay6", "/etc/sysctl.d", "/etc/systemd/system", "/usr/local/sbin", "/var/lib/relay6"];

const DAEMONS = ["bird", "wireguard-go", "radvd", "zebra", "bgpd", "bfdd", "relay6-gw-check", "relay6-ra-drain"];

/** The host's state as one text (see the top of this file). */
export async function hostState(host: NetnsHost, paths: readonly string[]): Promise<string> {
  const script = String.raw`
export LC_ALL=C
section() { printf '\n== %s\n' "$1"; }
section files
for p in ${paths.join(" ")}; do
  [ -e "$p" ] || { echo "$p absent"; continue; }
  find "$p" -printf '%p %y %m %u:%g\n' | sort
  find "$p" -type f -exec sha256sum {} + | sort -k 2
done
section ufw
ufw status verbose 2>&1
ufw show added 2>&1
# An nf_tables table that holds only built-in chains at policy ACCEPT, with no rule, filters
# nothing: the same as no table (which is how a fresh namespace starts).
for t in iptables ip6tables; do
  section "$t"
  $t-save 2>/dev/null | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' | awk '
    /^\*/ { name = $0; body = ""; keep = 0; next }
    /^COMMIT/ { if (keep) print name "\n" body "COMMIT"; next }
    { body = body $0 "\n"; if ($0 !~ /^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT$/) keep = 1 }'
done
section links
ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//; s/qlen [0-9]*//'
section addresses
ip -o addr show | awk '{ print $2, $3, $4 }' | sort
section routes
ip -4 route show table all | sort
ip -6 route show table all | sort
ip -6 rule show
section wireguard
wg show all dump 2>&1 | awk -F'\t' '{ if (NF >= 9) print $1, $2, $4, $5; else print $1, $3, $4 }'
section bird
if birdc show status >/dev/null 2>&1; then birdc show status | grep -i '^BIRD'; birdc show protocols | awk 'NR > 1 { print $1, $2, $3, $4 }'; else echo 'bird: not running'; fi
section sysctl
sysctl -a 2>/dev/null | grep -E '^net\.ipv6\.conf\.[^.]+\.(forwarding|accept_ra|accept_redirects) |^net\.ipv4\.(conf\.[^.]+\.(accept_redirects|log_martians)|icmp_echo_ignore_all|icmp_echo_ignore_broadcasts|icmp_ignore_bogus_error_responses|ip_forward) ' | sort
`;
  const r = await host.run(script);
  const pids = spawnSync("ip", ["netns", "pids", host.ns], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  const running = pids
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, "utf8").trim();
      } catch {
        return "";
      }
    })
    .filter((n) => DAEMONS.includes(n))
    .sort();
  return `${r.stdout}${r.stderr}\n== daemons\n${running.join("\n")}\n`;
}

/** Shims in front of PATH for failure injection: each runs the real command, except the
 *  first call whose command line (`name args...`) matches one of the bash extglob
 *  patterns in $RELAY6_FAIL (separated by " ;; "): that call fails with exit 1, once per
 *  pattern (the rollback's own calls then run for real), and is noted in
 *  $RELAY6_FAIL_LOG (required with RELAY6_FAIL). Without $RELAY6_FAIL, the patterns are
 *  read from the file $RELAY6_FAIL_FILE if it is set and not empty (the log is then
 *  $RELAY6_FAIL_FILE.log): for the sessions an sshd starts. */
export function failureShims(dir: string, commands: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const c of commands) {
    const p = join(dir, c);
    writeFileSync(
      p,
      [
        "#!/bin/bash",
        "shopt -s extglob",
        'self="${0##*/}"',
        "# The patterns come from the environment, or from a file (for sessions sshd starts).",
        'if [ -z "${RELAY6_FAIL:-}" ] && [ -n "${RELAY6_FAIL_FILE:-}" ] && [ -s "$RELAY6_FAIL_FILE" ]; then RELAY6_FAIL="$(cat "$RELAY6_FAIL_FILE")"; RELAY6_FAIL_LOG="$RELAY6_FAIL_FILE.log"; fi',
        'if [ -n "${RELAY6_FAIL:-}" ]; then',
        "  i=0 rest=\"$RELAY6_FAIL\"",
        "  while [ -n \"$rest\" ]; do",
        "    pat=\"${rest%% ;; *}\"; [ \"$pat\" = \"$rest\" ] && rest=\"\" || rest=\"${rest#* ;; }\"",
        "    i=$((i + 1))",
        '    if [[ "$self $*" == $pat ]] && ! grep -q "^$i " "$RELAY6_FAIL_LOG" 2>/dev/null; then',
        '      echo "$i $self $*" >> "$RELAY6_FAIL_LOG"',
        '      echo "injected failure: $self $*" >&2',
        "      exit 1",
        "    fi",
        "  done",
        "fi",
        "# The real command: the next one on PATH after this directory (PATH stays as it is, so",
        "# what the command runs is shimmed too).",
        `shims=${dir}`,
        'IFS=: read -ra dirs <<< "$PATH"',
        'for d in "${dirs[@]}"; do [ "$d" = "$shims" ] && continue; [ -x "$d/$self" ] && exec "$d/$self" "$@"; done',
        'echo "failure shim: no $self on PATH" >&2',
        "exit 127",
        "",
      ].join("\n"),
    );
    chmodSync(p, 0o755);
  }
  return dir;
}
