// Plan → RouterOS v7 scripts: the router end of the recipe (its sections 2, 3 and 4b).
// Three files: the setup (safe to import again), an undo that removes what relay6 added,
// and a verify script with the expected values spelled out. What the setup holds comes
// from objects.ts (setupSteps), the same list `relay6 apply router` diffs against.
import type { Plan } from "../../plan/plan.js";
import { privateKeyFor, publicKeyFor } from "../../render/keys.js";
import { MANAGED_MARK, type Artifact, type RenderContext } from "../../render/types.js";
import { capabilitiesOf, formatRelease, parseRelease, type Capabilities } from "./capabilities.js";
import {
  ADDR,
  BFD_CONFIG,
  BGP_CONNECTION,
  BGP_INSTANCE,
  BGP_TEMPLATE,
  FILTER,
  MANGLE,
  ND,
  ND_PREFIX,
  ND_PROXY,
  PEERS,
  ROUTE,
  WG,
  objectNames,
  routerScriptPaths,
  setupSteps,
  type DesiredObject,
  type Step,
} from "./objects.js";
import { listenPortGuard, releaseGuard } from "./guards.js";
import { quote, tag, tagsRegex } from "./quote.js";
import { drainUndo } from "./drain.js";
import { addBeforeText, addText, byTag, comment, find, put, remove, upsert, type Args, type Cond, type Menu } from "./script.js";


function header(plan: Plan, ctx: RenderContext, caps: Capabilities, what: string[]): string {
  return comment(
    [
      `relay6 ${ctx.version} - ${MANAGED_MARK}; edits here are overwritten by the next render.`,
      `site ${plan.site}, RouterOS ${formatRelease(caps.release)}: ${what[0]}`,
      ...what.slice(1),
    ].join("\n"),
  );
}

/** One step of the setup as .rsc text. */
function stepText(site: string, s: Step, caps: Capabilities): string {
  if (s.kind === "text" || s.kind === "rsc") return s.text;
  if (s.kind === "remove") {
    const where: Cond[] =
      "tag" in s.select
        ? [byTag(tag(site, s.select.tag))]
        : [byTag(`relay6:${site}:${s.select.prefix}`), ...(s.select.keep ? [{ prop: "comment", notRe: tagsRegex(site, s.select.keep) }] : [])];
    return remove(s.menu, where);
  }
  const o = s.obj;
  if (o.place) return addBeforeText(o.menu, o.place.anchors, o.args);
  if (o.identity.by === "prop") {
    // Values to clear: unset from 7.23; before, set to "" (there is no unset).
    const clear = o.identity.clear ?? [];
    const setArgs: Args = caps.ndUnset ? o.identity.setArgs : [...o.identity.setArgs, ...clear.map((k) => [k, ""] as const)];
    return upsert(o.menu, [{ prop: o.identity.prop, eq: o.identity.value }], o.args, setArgs, caps.ndUnset ? clear : []);
  }
  return upsert(o.menu, [byTag(tag(site, o.key))], o.args);
}

/** Firewall rules that go, one after the other, in front of the same anchor: the last is
 *  placed by the anchor (the nested `:if`s of addBefore), each earlier one in front of the
 *  rule after it, so the anchors are written once per run of rules, not once per rule. */
function placedRunText(site: string, run: DesiredObject[]): string[] {
  const last = run[run.length - 1]!;
  const out = [addBeforeText(last.menu, last.place!.anchors, last.args)];
  for (let i = run.length - 2; i >= 0; i--) {
    const o = run[i]!;
    const next = find(o.menu, [byTag(tag(site, run[i + 1]!.key))]);
    out.push(addText(o.menu, o.args, `[:pick ${next} 0]`));
  }
  return out;
}

function bodyText(site: string, steps: readonly Step[], caps: Capabilities): string[] {
  const out: string[] = [];
  const sameSpot = (a: DesiredObject, b: DesiredObject) => a.menu === b.menu && JSON.stringify(a.place) === JSON.stringify(b.place);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.kind !== "object" || !s.obj.place || s.obj.place.anchors.length === 0) {
      out.push(stepText(site, s, caps));
      continue;
    }
    const run = [s.obj];
    for (let n = steps[i + 1]; n?.kind === "object" && sameSpot(n.obj, s.obj); n = steps[i + 1]) {
      run.push(n.obj);
      i++;
    }
    out.push(...placedRunText(site, run));
  }
  return out;
}

export function renderSetup(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const site = plan.site;
  const { step1, steps } = setupSteps(plan, ctx, caps);
  const body = bodyText(site, steps, caps);
  if (step1)
    return [
      header(plan, ctx, caps, [
        "step 1 of 2 (wireguard.keys: device, no vps.publicKey yet).",
        "Creates the tunnel interface and prints the router's public key. Put the VPS's",
        "public key into vps.publicKey and the router's into router.publicKey, render",
        "again, and import the full script.",
      ]),
      "",
      releaseGuard(plan),
      listenPortGuard(plan),
      "",
      ...body,
      publicKeyLines(plan),
      put("relay6: step 1 done. Set vps.publicKey in the site file, run relay6 render again and import the new script."),
      "",
    ].join("\n");
  return [
    header(plan, ctx, caps, [
      "the router end of the relay (tunnel, addresses, RA, default route, firewall).",
      "Safe to import again: every object carries the tag relay6:" + site + ": in its comment,",
      "a re-run updates those objects and never touches others. Undo: relay6-" + site + "-undo.rsc.",
    ]),
    "",
    releaseGuard(plan),
    listenPortGuard(plan),
    "",
    ...body,
    "",
    publicKeyLines(plan),
    "",
  ].join("\n");
}

/** The router's own public key, printed: the VPS needs it and only the router knows it. */
function publicKeyLines(plan: Plan): string {
  return [
    put("relay6: the router's WireGuard public key (router.publicKey in the site file):"),
    `:put [${WG}/get ${find(WG, [byTag(tag(plan.site, "wg"))])} public-key]`,
  ].join("\n");
}

/** Removes every object tagged relay6:<site>: and nothing else. ND entries that existed
 *  before relay6 (it set them, the user made them) carry no tag and stay. */
export function renderUndo(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const all = [byTag(`relay6:${plan.site}:`)];
  const menus: Menu[] = [MANGLE, FILTER, BFD_CONFIG, BGP_CONNECTION, BGP_TEMPLATE, ...(caps.bgpInstance ? [BGP_INSTANCE] : []), ROUTE, ...(caps.ndProxy ? [ND_PROXY] : []), ND_PREFIX, ND, ADDR, PEERS, WG];
  return [
    header(plan, ctx, caps, [
      "undo. Removes every object whose comment starts with relay6:" + plan.site + ": - what relay6",
      "added - and nothing else. /ipv6/nd entries that existed before relay6 set them stay (RouterOS",
      "keeps one per interface); their ra-lifetime, which the RA drain set, goes back to the value",
      "relay6 recorded before it touched them.",
      "Removing the WireGuard interface discards the router's private key.",
    ]),
    "",
    releaseGuard(plan),
    "",
    ...drainUndo(plan.site, caps),
    "",
    ...menus.map((m) => remove(m, all)),
    put(`relay6: removed the objects of site ${plan.site}.`),
    "",
  ].join("\n");
}

/** The recipe's router-side checks, each with the values a working relay shows. */
export function renderVerify(plan: Plan, ctx: RenderContext, caps: Capabilities): string {
  const wg = plan.router.tunnelInterface;
  const out: string[] = [
    header(plan, ctx, caps, ["verification. Prints each check with what a working relay shows; lines starting FAIL need attention."]),
    "",
    put(`expect: peer ${objectNames(plan).peer} with a last-handshake under 3 minutes`),
    `${PEERS}/print detail where interface=${quote(wg)}`,
  ];
  if (plan.failover.mode === "bgp-bfd") {
    const f = plan.failover;
    out.push(
      put(`expect: state=up actual-tx-interval=${f.bfd.intervalMs}ms hold-time=${f.bfd.detectMs}ms`),
      "/routing/bfd/session/print",
      put(`expect: flag E (established) for ${objectNames(plan).connection}, prefix-count=1`),
      "/routing/bgp/session/print",
      put(`expect: exactly one ::/0, flags DAb, gateway ${plan.transit.vpsLinkLocal?.address ?? plan.transit.vps.address}%${wg}, distance=20`),
    );
  } else {
    out.push(put(`expect: exactly one ::/0, active, gateway ${plan.transit.vps.address}%${wg}, check-gateway=ping`));
  }
  out.push(
    `/ipv6/route/print where dst-address="::/0"`,
    `:if ([:len [${ROUTE}/find where dst-address="::/0"]] != 1) do={ :put "FAIL: expected exactly one ::/0 route" }`,
    put("expect: 3 replies from 2606:4700:4700::1111 (Cloudflare via the VPS)"),
    "/tool/ping address=2606:4700:4700::1111 count=3",
    "",
  );
  return out.join("\n");
}

export function renderAll(plan: Plan, ctx: RenderContext): Artifact[] {
  const release = plan.router.version ? parseRelease(plan.router.version) : undefined;
  if (!release) throw new Error("internal: routeros render called without a checked router.version");
  const caps = capabilitiesOf(release);
  const paths = routerScriptPaths(plan.site);
  const files: Artifact[] = [
    { path: paths.setup, content: renderSetup(plan, ctx, caps), mode: privateKeyFor("router", plan, ctx.secrets) ? 0o600 : 0o644 },
    { path: paths.undo, content: renderUndo(plan, ctx, caps), mode: 0o644 },
  ];
  if (publicKeyFor("vps", plan, ctx.secrets)) files.push({ path: paths.verify, content: renderVerify(plan, ctx, caps), mode: 0o644 });
  return files;
}
