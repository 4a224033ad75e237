// The README tells the truth about lint codes and site-file keys: each has its own row in
// its table (a row deleted, or a key only mentioned in passing elsewhere, fails).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LINT_CODES } from "../src/lint/lint.js";
import { siteJsonSchema } from "../src/pipeline.js";
import { REPO } from "./helpers.js";

const readme = readFileSync(join(REPO, "README.md"), "utf8");

/** The rows of the first table under a heading: its cells, header and rule left out. */
export function tableUnder(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const lines = markdown.slice(start + heading.length + 2).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const l of lines.slice(first)) {
    if (!l.startsWith("|")) break;
    // split on | that is not escaped (`tcp\|udp` stays one cell)
    rows.push(l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows.slice(2);
}

/** The keys a row's first cell names: "`vps.ssh.host` / `.port` / `.user`" → vps.ssh.host,
 *  vps.ssh.port, vps.ssh.user (a `.x` is a sibling of the cell's first key). */
export function keysOfCell(cell: string): string[] {
  const ticks = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const first = ticks[0];
  if (!first) return [];
  const parent = first.slice(0, first.lastIndexOf(".") + 1);
  return ticks.map((t) => (t.startsWith(".") ? parent + t.slice(1) : t));
}

/** Every key path of the site file's JSON Schema: `vps.ssh.port`, `segments[].inbound[].proto`. */
function schemaKeys(): string[] {
  const keys: string[] = [];
  const walk = (schema: Record<string, unknown>, prefix: string) => {
    const items = schema.items as Record<string, unknown> | undefined;
    const props = (schema.properties ?? items?.properties) as Record<string, Record<string, unknown>> | undefined;
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {
      if (k === "$schema") continue;
      const path = items ? `${prefix}[].${k}` : prefix ? `${prefix}.${k}` : k;
      keys.push(path);
      walk(v, path);
    }
  };
  walk(siteJsonSchema(), "");
  return keys;
}

describe("README", () => {
  it("the lint codes table has a row for every lint code, with its severity", () => {
    const rows = tableUnder(readme, "## Lint codes");
    const severityOf = new Map<string, string>();
    for (const [codes, severity] of rows) for (const c of keysOfCell(codes!)) severityOf.set(c, severity!);
    for (const c of LINT_CODES) expect(severityOf.get(c.code), `README row for lint code ${c.code}`).toBe(c.severity);
    for (const c of ["yaml-syntax", "unknown-key", "missing-key", "invalid-value", "yaml-too-large"]) expect(severityOf.get(c), c).toBe("error");
  });

  it("the site-file table has a row for every key of the schema", () => {
    const rows = tableUnder(readme, "## The site file");
    const documented = new Set(rows.flatMap(([key]) => keysOfCell(key!)));
    // A key of the objects in a list documented as one row (`segments[].inbound[]`) may be
    // named in that row's meaning, `{name, proto: tcp|udp, port, host?}`.
    const inline = new Map<string, string>();
    for (const [key, , meaning] of rows) for (const k of keysOfCell(key!)) if (k.endsWith("[]")) inline.set(k, meaning!);
    const missing = schemaKeys().filter((k) => {
      if (documented.has(k) || documented.has(`${k}[]`)) return false;
      const parent = k.slice(0, k.lastIndexOf("[]") + 2);
      const name = k.slice(k.lastIndexOf(".") + 1);
      const m = /`\{([^}`]*)\}`/.exec(inline.get(parent) ?? "");
      const listed = m ? m[1]!.split(",").map((f) => f.trim().split(/[:?\s]/)[0]) : [];
      // An object with keys of its own is documented by its keys' rows.
      return !listed.includes(name) && !schemaKeys().some((c) => c.startsWith(`${k}.`) || c.startsWith(`${k}[].`));
    });
    expect(missing, "site-file keys without a README row").toEqual([]);
    const known = new Set(schemaKeys());
    const stale = [...documented].filter((k) => !known.has(k) && !known.has(k.replace(/\[\]$/, "")));
    expect(stale, "README rows for keys the schema does not have").toEqual([]);
  });

  it("the table readers find what a deleted row takes away", () => {
    const lint = readme.replace(/^\| `mss-clamp-off` \|.*\n/m, "");
    expect(tableUnder(lint, "## Lint codes").flatMap(([c]) => keysOfCell(c!))).not.toContain("mss-clamp-off");
    const site = readme.replace(/^\| `wireguard\.port` .*\n/m, "");
    expect(site).not.toBe(readme);
    const keys = tableUnder(site, "## The site file").flatMap(([k]) => keysOfCell(k!));
    expect(keys).not.toContain("wireguard.mtu");
    expect(keysOfCell("`vps.ssh.host` / `.port` / `.user`")).toEqual(["vps.ssh.host", "vps.ssh.port", "vps.ssh.user"]);
  });
});
