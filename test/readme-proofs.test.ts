// The README's "What is proven, and how" table tells the truth: every behaviour of the list
// below has its row (a deleted row fails), with the proof named here; every test it names
// exists and holds the title it quotes; and a row's proof matches what those tests run
// (lab: namespaces and real daemons; trees + model: the RouterOS trees or models).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers.js";

type Proof = "lab" | "trees + model" | "unit" | "unproven";

/** The behaviours the README vouches for, and how each is proven. Change a proof here and in
 *  the README together; a new behaviour gets a row in both. */
const PROOFS: Record<string, Proof> = {
  relay: "lab",
  "failover-bfd": "lab",
  "failover-static": "lab",
  restore: "lab",
  "ra-drain-linux": "lab",
  "inbound-guard": "lab",
  "mss-clamp": "lab",
  "vps-setup": "lab",
  "apply-vps": "lab",
  "vps-rollback": "lab",
  "vps-undo": "lab",
  "no-lockout": "lab",
  "detached-apply": "lab",
  "vps-sources": "lab",
  "linux-rollback": "lab",
  "linux-sources": "lab",
  verify: "lab",
  "linux-router": "lab",
  "relay-sites": "lab",
  "relay-isolation": "lab",
  "relay-changes": "lab",
  "relay-failover": "lab",
  "relay-drain": "lab",
  "onlink-64": "lab",
  "routed-64": "lab",
  "single64-source": "lab",
  "single64-verify": "lab",
  "ros-64": "trees + model",
  "ros-64-bgp": "unproven",
  "relay-transit": "unit",
  "relay-routeros": "trees + model",
  status: "lab",
  alerts: "lab",
  "router-management": "lab",
  "ros-management": "trees + model",
  "transfer-quota": "unit",
  lint: "unit",
  "ros-trees": "trees + model",
  "ros-import": "trees + model",
  "ros-guards": "trees + model",
  "ros-forward": "trees + model",
  "ros-sources": "trees + model",
  "ros-ra": "trees + model",
  "ros-apply": "trees + model",
  "ros-confirm": "trees + model",
  "ros-drain": "trees + model",
  "ros-dns": "trees + model",
  "ros-quoting": "unit",
  "ros-device": "unproven",
};

interface Row {
  id: string;
  proof: string;
  /** Each named file with the test titles quoted after it. */
  shownBy: { file: string; titles: string[] }[];
}

function proofRows(readme: string): Row[] {
  const begin = readme.indexOf("<!-- proofs:begin");
  const end = readme.indexOf("<!-- proofs:end -->");
  if (begin < 0 || end < begin) throw new Error("README: no proofs table between the markers");
  return readme
    .slice(begin, end)
    .split("\n")
    .filter((l) => /^\| `[^`]+` \|/.test(l))
    .map((l) => {
      const cells = l.split(" | ").map((c) => c.replace(/^\| |\s*\|$/g, "").trim());
      const [id, , proof, shown] = [cells[0]!, cells[1], cells[2]!, cells[cells.length - 1]!];
      return {
        id: id.replace(/`/g, ""),
        proof,
        shownBy: shown.split(/;\s*(?=`)/).map((part) => {
          const file = /`([^`]+)`/.exec(part)?.[1] ?? "";
          const titles = [...part.replace(/`[^`]+`/, "").matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
          return { file, titles };
        }),
      };
    });
}

/** What a proof needs of the files that show it: every one for lab and unproven, at least
 *  one for trees + model (a pure test may stand beside the model's). */
const NEEDS: Record<Proof, { what: string; ok: (file: string, text: string) => boolean }> = {
  lab: { what: "runs in network namespaces (test/lab, NetnsHost, labUp)", ok: (f, t) => f.startsWith("test/lab/") || /NetnsHost|labUp|netns/.test(t) },
  "trees + model": { what: "checks against the RouterOS trees or a RouterOS model", ok: (f, t) => f.endsWith(".test.ts") && /routeros-model|checkScript|capturedVersions|freshRouter|RouterModel|startRouter\(/.test(t) },
  unit: { what: "is a test file", ok: (f) => f.startsWith("test/") && f.endsWith(".test.ts") },
  unproven: { what: "is a doc that says what is unproven", ok: (f, t) => f.startsWith("docs/") && /unproven/i.test(t) },
};

/** What is wrong with a row: [] when its files exist, hold the titles it quotes, and run
 *  what its proof says. */
function checkRow(r: Row): string[] {
  const out: string[] = [];
  const need = NEEDS[r.proof as Proof];
  if (!need) return [`${r.id}: unknown proof ${r.proof}`];
  if (r.shownBy.length === 0) out.push(`${r.id}: names no test`);
  let some = false;
  for (const s of r.shownBy) {
    const path = join(REPO, s.file);
    if (s.file === "" || !existsSync(path)) {
      out.push(`${r.id}: ${s.file || "(no file)"} does not exist`);
      continue;
    }
    const text = readFileSync(path, "utf8");
    const ok = need.ok(s.file, text);
    some ||= ok;
    if (r.proof === "trees + model" ? !s.file.endsWith(".test.ts") : !ok) out.push(`${r.id}: ${s.file} does not fit "${r.proof}": it must be a file that ${need.what}`);
    if (r.proof !== "unproven" && s.titles.length === 0) out.push(`${r.id}: ${s.file}: no test title quoted`);
    for (const t of s.titles) if (!text.includes(t)) out.push(`${r.id}: ${s.file} has no test "${t}"`);
  }
  if (r.proof === "trees + model" && !some) out.push(`${r.id}: none of its tests ${need.what}`);
  return out;
}

const readme = readFileSync(join(REPO, "README.md"), "utf8");
const rows = proofRows(readme);

describe("README: what is proven, and how", () => {
  it("has exactly the behaviours of the list, each with its proof", () => {
    expect(Object.fromEntries(rows.map((r) => [r.id, r.proof]))).toEqual(PROOFS);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  for (const r of rows)
    it(`${r.id}: shown by what the row names (${r.proof})`, () => {
      expect(checkRow(r)).toEqual([]);
    });

  it("the check has teeth: a row deleted, a title changed, a lab row shown by a pure test all fail", () => {
    const without = readme
      .split("\n")
      .filter((l) => !l.startsWith("| `ros-sources` |"))
      .join("\n");
    expect(Object.fromEntries(proofRows(without).map((r) => [r.id, r.proof]))).not.toEqual(PROOFS);
    const relay = rows.find((r) => r.id === "relay")!;
    expect(checkRow({ ...relay, shownBy: [{ file: relay.shownBy[0]!.file, titles: ["every lab test item passes, renamed"] }] })).toHaveLength(1);
    expect(checkRow({ ...relay, shownBy: [{ file: "test/routeros/import.test.ts", titles: ["importing twice leaves what importing once left"] }] })[0]).toMatch(/does not fit "lab"/);
    expect(checkRow({ ...relay, proof: "trees + model", shownBy: [{ file: "test/plan.test.ts", titles: ["address plan"] }] })[0]).toMatch(/none of its tests/);
    expect(checkRow({ ...relay, shownBy: [{ file: "test/lab/nope.test.ts", titles: ["x"] }] })[0]).toMatch(/does not exist/);
  });
});
