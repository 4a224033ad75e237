// Shared test helpers: fixed keys, rendering a site file in memory, running the CLI in-process.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import { main } from "../src/cli/main.js";
import { analyse, loadSite, renderPlan } from "../src/pipeline.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SHARED = resolve(REPO, "../shared");

/** Test-only keys (made once with `wg genkey`); never used outside the test suite. */
export const TEST_SECRETS = {
  vpsPrivateKey: "QBtp4TiApKq/R4M8ZXt3ptQygtuY3iFdwlfBlUodfm8=",
  routerPrivateKey: "4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=",
};

export function renderFile(site: string) {
  const loaded = loadSite(site);
  const { plan, findings } = analyse(loaded);
  if (!plan) throw new Error(`lint errors in ${site}: ${JSON.stringify(findings)}`);
  return { plan, findings, artifacts: renderPlan(plan, { secrets: TEST_SECRETS, version: "test" }) };
}

export function tmp(prefix = "relay6-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the CLI in-process; returns exit status and what it printed. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(["node", "relay6", ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
