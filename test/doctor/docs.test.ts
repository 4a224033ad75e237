// docs/doctor.md lists every code doctor can emit, with its severity.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allDoctorCodes, CHECKS } from "../../src/doctor/index.js";
import { REPO } from "../helpers.js";
import { ROUTERS } from "./fixtures.js";

describe("docs/doctor.md", () => {
  const doc = readFileSync(join(REPO, "docs/doctor.md"), "utf8");
  it("lists every doctor code with its severity", () => {
    for (const c of allDoctorCodes(ROUTERS.map((r) => r.doctor))) expect(doc).toContain(`| \`${c.code}\` | ${c.severity} |`);
  });
  it("every code a check can emit is a known doctor code", () => {
    const known = new Set(allDoctorCodes(ROUTERS.map((r) => r.doctor)).map((c) => c.code));
    for (const check of [...CHECKS, ...ROUTERS.flatMap((r) => r.doctor.checks)]) for (const code of check.codes) expect(known.has(code), code).toBe(true);
  });
});
