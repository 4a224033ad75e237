// Shared test helpers: fixed keys, rendering a site file in memory, running the CLI in-process.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import { main } from "../src/cli/main.js";
import { analyse, analyseInput, loadInput, loadSite, renderInput, renderPlan } from "../src/pipeline.js";
import type { Plan } from "../src/plan/plan.js";
import { relayPlanOf, type RelayPlan } from "../src/plan/relay.js";
import type { RelayRenderContext, RelaySecrets, Secrets } from "../src/render/types.js";

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

/** A fixed test key for the router of site `site` of a relay (each router needs its own:
 *  the VPS tells its peers apart by their keys). */
export function testRouterKey(site: string): string {
  return createHash("sha256").update(`relay6-test-router:${site}`).digest("base64");
}

/** The test keys of an input: a standalone site's TEST_SECRETS; a relay's VPS key and one
 *  router key per site. */
export function testSecretsOf(kind: "site" | "relay", sites: readonly string[]): RelaySecrets {
  if (kind === "site") return { vpsPrivateKey: TEST_SECRETS.vpsPrivateKey, routers: { [sites[0]!]: TEST_SECRETS.routerPrivateKey } };
  return { vpsPrivateKey: TEST_SECRETS.vpsPrivateKey, routers: Object.fromEntries(sites.map((s) => [s, testRouterKey(s)])) };
}

/** A standalone site's plan as the VPS target takes it: the relay of that one site. */
export function soloRelay(plan: Plan): RelayPlan {
  return relayPlanOf("site", plan.site, plan.prefix, [plan]);
}

/** A standalone site's keys as the VPS target takes them. */
export function soloCtx(plan: Plan, secrets: Secrets, version = "test"): RelayRenderContext {
  return { secrets: { ...(secrets.vpsPrivateKey ? { vpsPrivateKey: secrets.vpsPrivateKey } : {}), routers: { [plan.site]: secrets.routerPrivateKey } }, version };
}

/** A site file or a relay file, rendered as `relay6 render` does, with the test keys. */
export function renderInputFile(file: string) {
  const loaded = loadInput(file);
  const { relay, findings } = analyseInput(loaded);
  if (!relay) throw new Error(`lint errors in ${file}: ${JSON.stringify(findings)}`);
  const secrets = testSecretsOf(relay.kind, relay.sites.map((p) => p.site));
  return { relay, findings, artifacts: renderInput(relay, { secrets, version: "test" }) };
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
