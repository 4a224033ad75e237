// What `relay6 verify` reports: one named finding per check, with a hint when it fails.

export type Status = "pass" | "fail" | "warn" | "skip";

export interface Finding {
  /** Stable name: `<end>.<check>`, e.g. `vps.handshake`. */
  check: string;
  status: Status;
  detail: string;
  /** What to look at when it did not pass. */
  hint?: string;
  /** A named fault this failure points to (tunnel-blocked, bird-down, ...). */
  fault?: string;
}

/** Output of one remote script split into `=== name` sections. */
export type Sections = Map<string, string>;

export const SECTION_MARK = "=== relay6:";

/** A shell script that runs each command and prints its output under a marker. */
export function sectionScript(commands: readonly [name: string, command: string][]): string {
  return commands.map(([name, cmd]) => `echo '${SECTION_MARK}${name}'; { ${cmd} ; } 2>&1; echo "rc=$?"`).join("\n");
}

export function parseSections(output: string): Sections {
  const out: Sections = new Map();
  let name: string | undefined;
  let buf: string[] = [];
  const flush = () => {
    if (name !== undefined) out.set(name, buf.join("\n"));
  };
  for (const line of output.split("\n")) {
    if (line.startsWith(SECTION_MARK)) {
      flush();
      name = line.slice(SECTION_MARK.length);
      buf = [];
    } else buf.push(line);
  }
  flush();
  return out;
}

/** The exit status a section's command ended with (the `rc=` line). */
export function sectionRc(text: string | undefined): number {
  const m = /(?:^|\n)rc=(\d+)\s*$/.exec(text ?? "");
  return m ? Number(m[1]) : 255;
}

export function sectionBody(text: string | undefined): string {
  return (text ?? "").replace(/(?:^|\n)rc=\d+\s*$/, "");
}

export function summarise(findings: readonly Finding[]): { pass: number; fail: number; warn: number; skip: number } {
  const s = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const f of findings) s[f.status]++;
  return s;
}

export function formatFindings(findings: readonly Finding[]): string {
  const L = findings.map((f) => {
    const head = `${f.status.toUpperCase().padEnd(4)}  ${f.check}: ${f.detail}`;
    return f.status === "pass" || !f.hint ? head : `${head}\n      ${f.fault ? `[${f.fault}] ` : ""}hint: ${f.hint}`;
  });
  const s = summarise(findings);
  L.push("", `summary: ${s.pass} checks passed, ${s.fail} failed${s.warn ? `, ${s.warn} warnings` : ""}${s.skip ? `, ${s.skip} skipped` : ""}`);
  return L.join("\n");
}
