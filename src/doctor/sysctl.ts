// sysctl settings as `sysctl -a` prints them or sysctl.d files hold them: `key = value`
// (or `key=value`), `#`/`;` comments. The last value of a key wins, as `sysctl -p` applies
// them. Keys are normalised to dots (net/ipv6/conf/all/proxy_ndp is the same key).

export interface SysctlValue {
  value: string;
  line: number;
}

export function parseSysctl(text: string): Map<string, SysctlValue> {
  const out = new Map<string, SysctlValue>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const body = raw.replace(/^\s*[#;].*/, "").trim();
    const m = /^-?\s*([A-Za-z0-9_./@-]+)\s*=\s*(.*)$/.exec(body);
    if (!m) return;
    out.set(m[1]!.replace(/\//g, "."), { value: m[2]!.trim(), line: i + 1 });
  });
  return out;
}
