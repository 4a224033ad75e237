// docs/doctor.md lists every code doctor can emit, with its severity.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allDoctorCodes } from "../../src/doctor/index.js";
import { CHECKS } from "../../src/doctor/checks.js";
import { REPO } from "../helpers.js";

describe("docs/doctor.md", () => {
  const doc = readFileSync(join(REPO, "docs/doctor.md"), "utf8");
  it("lists every doctor code with its severity", () => {
    for (const c of allDoctorCodes()) expect(doc).toContain(`| \`${c.code}\` | ${c.severity} |`);
  });
  it("every code a check can emit is a known doctor code", () => {
    const known = new Set(allDoctorCodes().map((c) => c.code));
    for (const check of CHECKS) for (const code of check.codes) expect(known.has(code), code).toBe(true);
  });
});
