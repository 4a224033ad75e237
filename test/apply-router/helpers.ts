// Shared set-up for the apply-router tests: a RouterOS REST model with the recipe's LAN
// interfaces, a client, and the state comparisons.
import { startRouterOsModel, type RunningModel, type StartOptions } from "../fixtures/routeros-model/index.js";
import type { Plan } from "../../src/plan/plan.js";
import type { RenderContext } from "../../src/render/types.js";
import { RouterOsRest } from "../../src/remote/routeros-rest.js";
import { applyRouter, type ApplyRouterOptions } from "../../src/targets/routeros/apply/index.js";
import type { ApplyRouterResult } from "../../src/targets/routeros/apply/output.js";
import { managedMenus } from "../../src/targets/routeros/objects.js";
import { capabilitiesOf, parseRelease } from "../../src/targets/routeros/capabilities.js";

export const VERSIONS = ["7.15", "7.18.2", "7.19", "7.20.8", "7.21.4", "7.22.3", "7.24"];
export const PASSWORD = "model-pw-3f9a";

/** The user's own objects, beside defconf: relay6 must leave them as they are. */
export const USER_SCRIPT = `
/ipv6/address/add address=2001:db8:aaaa::1/64 interface=ether1 comment="my uplink"
/ipv6/firewall/filter/add chain=input action=accept protocol=tcp dst-port=22 in-interface=ether1 comment="my ssh"
/ipv6/route/add dst-address=2001:db8:bbbb::/48 gateway=2001:db8:aaaa::fe comment="my lab route"
/interface/wireguard/add name=wg-mine listen-port=13231 comment="my own tunnel"
`;

export async function startRouter(version: string, seed: "defconf" | "empty", opts: { timeScale?: number; tls?: boolean; user?: boolean; deviceMode?: StartOptions["deviceMode"] } = {}): Promise<RunningModel> {
  const { user: _user, ...model } = opts;
  const m = await startRouterOsModel({ version, state: seed, auth: { user: "admin", password: PASSWORD }, ...model });
  const lan = seed === "empty" ? "/interface/bridge/add name=bridge\n" : "";
  const r = m.runScript(`${lan}/interface/vlan/add name=vlan10 interface=bridge vlan-id=10\n/interface/vlan/add name=vlan11 interface=bridge vlan-id=11\n/interface/vlan/add name=vlan20 interface=bridge vlan-id=20\n${opts.user === false ? "" : USER_SCRIPT}`);
  if (r.error) throw new Error(`seeding the model: ${r.error}`);
  return m;
}

export function restFor(m: RunningModel, extra: Partial<ConstructorParameters<typeof RouterOsRest>[0]> = {}, log?: (l: string) => void): RouterOsRest {
  return new RouterOsRest({ url: m.url, user: "admin", password: PASSWORD, timeoutMs: 1500, ...(log ? { log } : {}), ...extra });
}

export async function apply(m: RunningModel, plan: Plan, ctx: RenderContext, opts: Partial<ApplyRouterOptions> = {}): Promise<{ result: ApplyRouterResult; log: string[] }> {
  const log: string[] = [];
  const rest = restFor(m, {}, (l) => log.push(l));
  try {
    const result = await applyRouter(rest, plan, ctx, { dryRun: false, log: (l) => log.push(l), ...opts });
    return { result, log };
  } finally {
    rest.close();
  }
}

const VOLATILE = new Set([".id", "next-run", "run-count", "actual-interface"]);

/** The menus relay6 touches, as the model holds them: ids dropped; firewall tables in order,
 *  other menus sorted (a rollback re-adds a removed object at the end). */
export function snapshot(m: RunningModel, version: string): Record<string, Record<string, string>[]> {
  const caps = capabilitiesOf(parseRelease(version)!);
  const out: Record<string, Record<string, string>[]> = {};
  for (const menu of [...managedMenus(caps), "/interface" as const]) {
    const items = m.state.list(menu.slice(1)).map((i) => Object.fromEntries(Object.entries(i).filter(([k]) => !VOLATILE.has(k))));
    out[menu] = menu.includes("firewall") ? items : items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return out;
}

/** Objects not tagged relay6:<site>: — the user's and RouterOS's. */
export function foreign(snap: Record<string, Record<string, string>[]>, site = "home") {
  return Object.fromEntries(Object.entries(snap).map(([k, items]) => [k, items.filter((i) => !(i.comment ?? "").startsWith(`relay6:${site}:`))]));
}

export const changing = (m: RunningModel) => m.requests.filter((r) => r.method !== "GET");

// ---------------------------------------------------------------------------- site variants

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { repoRoot } from "../routeros/tree.js";
import { writeSecrets } from "../../src/keys/wireguard.js";
import { TEST_SECRETS } from "../helpers.js";
import { planFor } from "../routeros/fixtures.js";

export const RECIPE = path.join(repoRoot, "examples/recipe-home.yaml");

/** The recipe's site file changed by `edit`, written to a temp dir (with a secrets file of
 *  fixed test keys beside it, mode 0600); returns its path. */
export function siteVariant(edit: (site: any) => void = () => {}): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dir = mkdtempSync(path.join(tmpdir(), "relay6-apply-router-"));
  const site = parse(readFileSync(RECIPE, "utf8"));
  edit(site);
  const file = path.join(dir, "home.yaml");
  writeFileSync(file, stringify(site));
  // Fixed test keys (a fresh clone has no examples/*.secrets.yaml: it is made on first render).
  writeSecrets(path.join(dir, "home.secrets.yaml"), { vps: { privateKey: TEST_SECRETS.vpsPrivateKey }, router: { privateKey: TEST_SECRETS.routerPrivateKey } });
  return file;
}

export function planOf(version: string, edit?: (site: any) => void): Plan { // eslint-disable-line @typescript-eslint/no-explicit-any
  return planFor(siteVariant(edit), version);
}

/** A fourth segment with an inbound service: its firewall rule goes between relay6's own. */
export const addCams = (s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  s.segments.push({ name: "cams", index: 0x20, interface: "vlan20", inbound: [{ name: "web", proto: "tcp", port: 443, host: "2401:4520:110b:20::80" }] });
};
export const toStatic = (s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  s.failover = { mode: "static" };
};
export const dropIot = (s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  s.segments = s.segments.filter((x: { name: string }) => x.name !== "iot");
};
