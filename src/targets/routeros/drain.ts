// The RA drain and the static probe on RouterOS, as data for objects.ts (the .rsc and
// apply router both take them from here).
//
// RouterOS has no hook on route changes: routing filters cannot run scripts, and BGP, BFD
// and routes have no script fields. What it has on every release and in every device-mode:
// netwatch, whose test-script runs after every test (1 s is its shortest interval). So:
//   - /system/script relay6-<site>-drain looks whether relay6's own ::/0 (an active ::/0
//     whose gateway is on the tunnel: the BGP route, or the static route — never any ::/0,
//     a native or backup default must not hide the outage) is there, and sets each
//     segment's /ipv6/nd ra-lifetime to 0s while it is not (RouterOS sends an RA at once
//     on the change: ~0.6 s, the recipe's author measured), back to the value relay6
//     rendered (30m, on entries relay6 made) or the value the entry had before relay6 (on
//     entries it did not make: recorded once, in a tagged /system/script that sets it back).
//     It checks before it sets, so nothing changes (and no RA is triggered) while the state
//     holds. Expected drain: up to the 1 s tick plus ~0.6 s after the route goes (an
//     estimate: not proven on a device).
//   - a netwatch on 127.0.0.1 (answered at once, whatever the tunnel does) runs it every
//     second: netwatch cannot be switched off by device-mode, a scheduler can (home mode),
//     and the render cannot know the device-mode, so no scheduler is used at all.
//   - from 7.22, a logging action with target=script runs it on every BFD and BGP log line,
//     which comes with the session going down (bgp-bfd only; what RouterOS hands the script
//     is not documented: it only runs it).
//   - static mode: a second netwatch pings the VPS's transit address every second, and its
//     script counts the tests that failed in a row (netwatch marks a host down after one):
//     3 disable relay6's static ::/0, the first answer enables it again; check-gateway=ping
//     (~30 s) stays as the backstop. It runs the drain after each test.
// Undo and apply's --confirm rollback put every ra-lifetime back (rollback.ts, renderUndo);
// apply and verify leave ra-lifetime to the drain (it is in no set args, and never diffed).
import { PROBE } from "../../plan/bfd.js";
import type { Plan } from "../../plan/plan.js";
import type { Capabilities } from "./capabilities.js";
import { commentFor, prefixRegex, quote, tag, tagsRegex } from "./quote.js";
import { byTag, comment, find, remove, type Args, type Menu } from "./script.js";

export const SCRIPT: Menu = "/system/script";
export const NETWATCH: Menu = "/tool/netwatch";
export const LOG_ACTION: Menu = "/system/logging/action";
export const LOG_RULE: Menu = "/system/logging";

/** The router lifetime relay6 renders on the /ipv6/nd entries it makes (RouterOS's default). */
export const RA_LIFETIME = "30m";

/** The menus the drain writes to, in dependency order (a script before what runs it). */
export function drainMenus(caps: Capabilities): Menu[] {
  return [SCRIPT, NETWATCH, ...(caps.loggingScriptAction ? [LOG_ACTION, LOG_RULE] : [])];
}

export function drainNames(site: string) {
  // Global variables and logging action names: letters and digits only.
  const word = site.replace(/[^A-Za-z0-9]/g, "");
  return {
    drain: `relay6-${site}-drain`,
    probe: `relay6-${site}-probe`,
    record: (iface: string) => `relay6-${site}-ra-${iface}`,
    logAction: `relay6${word}`,
    misses: `relay6${word}misses`,
  };
}

/** The tag key of the record of an interface's ra-lifetime before relay6. */
export const recordKey = (iface: string) => `ra:${iface}`;

const reEscape = (s: string) => s.replace(/[.[\]\\^$*+?(){}|]/g, (c) => (c === "." ? "[.]" : `\\${c}`));

/** An active ::/0 through the tunnel: relay6's own default route, BGP-learned or static. */
export function ownDefaultFind(plan: Plan): string {
  return `[/ipv6/route/find where dst-address="::/0" and active and immediate-gw~${quote(`%${reEscape(plan.router.tunnelInterface)}$`)}]`;
}

/** The command a record holds: sets the interface's ra-lifetime back to `value`. */
export function recordSource(iface: string, value: string): string {
  return `/ipv6/nd/set [/ipv6/nd/find where interface=${quote(iface)}] ra-lifetime=${value}`;
}

/** The drain script's body: for each segment interface, ra-lifetime 0s while relay6's ::/0
 *  is gone, the rendered or recorded value while it is there; set only on a change. */
export function drainSource(plan: Plan, interfaces: readonly string[]): string {
  const site = plan.site;
  const L = [
    `# relay6 ${site}: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through ${plan.router.tunnelInterface} is gone.`,
    `:local up ([:len ${ownDefaultFind(plan)}] > 0)`,
  ];
  for (const i of interfaces) {
    const nd = `[/ipv6/nd/find where interface=${quote(i)}]`;
    const rec = find(SCRIPT, [byTag(tag(site, recordKey(i)))]);
    L.push(
      `:foreach n in=${nd} do={ :if ($up) do={ :if ([/ipv6/nd/get $n ra-lifetime] = 0s) do={ :local r ${rec}; ` +
        `:if ([:len $r] > 0) do={ /system/script/run $r } else={ /ipv6/nd/set $n ra-lifetime=${RA_LIFETIME} } } } ` +
        `else={ :if ([/ipv6/nd/get $n ra-lifetime] != 0s) do={ /ipv6/nd/set $n ra-lifetime=0s } } }`,
    );
  }
  return L.join("\n") + "\n";
}

/** The static probe's script: count the failed tests in a row, disable or enable relay6's
 *  static ::/0, then run the drain. */
export function probeSource(plan: Plan): string {
  const site = plan.site;
  const n = drainNames(site);
  const m = `$${n.misses}`;
  const watch = find(NETWATCH, [byTag(tag(site, "probe-tick"))]);
  const route = (disabled: "yes" | "no") => `[/ipv6/route/find where comment~${quote(prefixRegex(tag(site, "route:default")))} and disabled=${disabled}]`;
  return [
    `# relay6 ${site}: static failover. ${PROBE.misses} failed probes of the VPS in a row disable relay6's ::/0, the first answer enables it.`,
    `:global ${n.misses}`,
    `:if ([:typeof ${m}] != "num") do={ :set ${n.misses} 0 }`,
    `:if ([/tool/netwatch/get ${watch} status] = "up") do={ :set ${n.misses} 0 } else={ :set ${n.misses} (${m} + 1) }`,
    `:if (${m} = 0) do={ :foreach r in=${route("yes")} do={ /ipv6/route/set $r disabled=no } }`,
    `:if (${m} >= ${PROBE.misses}) do={ :foreach r in=${route("no")} do={ /ipv6/route/set $r disabled=yes } }`,
    `/system/script/run ${n.drain}`,
    "",
  ].join("\n");
}

export interface DrainObject {
  menu: Menu;
  key: string;
  args: Args;
}

/** What the drain wants on the router for this plan and release, in order. */
export function drainObjects(plan: Plan, caps: Capabilities, interfaces: readonly string[]): DrainObject[] {
  const site = plan.site;
  const n = drainNames(site);
  const c = (k: string, what: string) => commentFor(site, k, what);
  const policy = "read,write,test"; // what netwatch's scripts may have
  const out: DrainObject[] = [
    {
      menu: SCRIPT,
      key: "drain",
      args: [["name", n.drain], ["policy", policy], ["source", drainSource(plan, interfaces)], ["comment", c("drain", "RA drain: router lifetime 0 while relay6's ::/0 is gone")]],
    },
  ];
  if (plan.failover.mode === "static")
    out.push({
      menu: SCRIPT,
      key: "probe",
      args: [["name", n.probe], ["policy", policy], ["source", probeSource(plan)], ["comment", c("probe", `static failover: ${PROBE.misses} failed probes in a row disable relay6's ::/0`)]],
    });
  out.push({
    menu: NETWATCH,
    key: "drain-tick",
    args: [
      ["name", n.drain],
      ["host", "127.0.0.1"],
      ["type", "simple"],
      ["interval", "1s"],
      ["test-script", `/system/script/run ${n.drain}`],
      ["comment", c("drain-tick", "runs the RA drain every second (the router itself answers)")],
    ],
  });
  if (plan.failover.mode === "static")
    out.push({
      menu: NETWATCH,
      key: "probe-tick",
      args: [
        ["name", n.probe],
        ["host", plan.transit.vps.address],
        ["type", "simple"],
        ["interval", `${PROBE.intervalMs / 1000}s`],
        ["timeout", "900ms"],
        ["test-script", `/system/script/run ${n.probe}`],
        ["comment", c("probe-tick", "pings the VPS's transit address every second (static failover)")],
      ],
    });
  if (caps.loggingScriptAction && plan.failover.mode === "bgp-bfd") {
    out.push({
      menu: LOG_ACTION,
      key: "drain-log",
      args: [["name", n.logAction], ["target", "script"], ["script", n.drain], ["comment", c("drain-log", "runs the RA drain on BFD and BGP log lines")]],
    });
    for (const topic of ["bfd", "bgp"])
      out.push({ menu: LOG_RULE, key: `drain-log:${topic}`, args: [["topics", topic], ["action", n.logAction], ["comment", c(`drain-log:${topic}`, `${topic.toUpperCase()} log lines run the RA drain`)]] });
  }
  return out;
}


/** A record's name and comment (the .rsc and apply router make the same). */
export function recordArgs(site: string, iface: string): { name: string; comment: string } {
  return { name: drainNames(site).record(iface), comment: commentFor(site, recordKey(iface), `the ra-lifetime ${iface} had before relay6; the RA drain and the undo set it back with this`) };
}

/** .rsc only: records, for each segment interface whose /ipv6/nd entry is not relay6's, the
 *  ra-lifetime it has now (once: a record that exists is kept), as the command that sets it
 *  back. apply router records the same from the router's state. */
export function recordStatements(plan: Plan, interfaces: readonly string[]): string[] {
  const site = plan.site;
  return interfaces.map((i) => {
    const foreign = `[/ipv6/nd/find where interface=${quote(i)} and !(comment~${quote(prefixRegex(`relay6:${site}:`))})]`;
    const rec = find(SCRIPT, [byTag(tag(site, recordKey(i)))]);
    const value = `[/ipv6/nd/get [:pick [/ipv6/nd/find where interface=${quote(i)}] 0] ra-lifetime]`;
    const source = `(${quote(recordSource(i, ""))} . ${value})`;
    const a = recordArgs(site, i);
    return `:if ([:len ${foreign}] > 0) do={ :if ([:len ${rec}] = 0) do={ ${SCRIPT}/add name=${a.name} source=${source} comment=${quote(a.comment)} } }`;
  });
}

/** .rsc only: records of interfaces no longer in the plan set their ra-lifetime back and go. */
export function staleRecordStatement(plan: Plan, interfaces: readonly string[]): string {
  const site = plan.site;
  const keep = interfaces.length ? ` and !(comment~${quote(tagsRegex(site, interfaces.map(recordKey)))})` : "";
  return `:foreach r in=[${SCRIPT}/find where comment~${quote(prefixRegex(`relay6:${site}:ra:`))}${keep}] do={ /system/script/run $r; /system/script/remove $r }`;
}

/** The first lines of the undo: stop the drain, put every recorded ra-lifetime back, then
 *  remove the drain's objects (the rest of the undo removes relay6's /ipv6/nd entries). */
export function drainUndo(site: string, caps: Capabilities): string[] {
  const all = [byTag(`relay6:${site}:`)];
  return [
    comment("The RA drain first: its ticks stop, every ra-lifetime relay6 recorded is set back."),
    ...(caps.loggingScriptAction ? [remove(LOG_RULE, all), remove(LOG_ACTION, all)] : []),
    remove(NETWATCH, all),
    `:foreach r in=${find(SCRIPT, [byTag(`relay6:${site}:ra:`)])} do={ /system/script/run $r }`,
    remove(SCRIPT, all),
  ];
}

/** Whether the drain agrees with the route (verify): ra-lifetime 0 on every segment while
 *  relay6's ::/0 is gone, never 0 while it is there. Pure: REST's answers in, a verdict out. */
export function judgeDrain(
  plan: Plan,
  interfaces: readonly string[],
  seen: { routes: Record<string, string>[]; nd: Record<string, string>[]; netwatch: Record<string, string>[]; scripts: Record<string, string>[] },
): { ok: boolean; detail: string } {
  const site = plan.site;
  const tagged = (o: Record<string, string>, key: string) => (o.comment ?? "").startsWith(tag(site, key));
  const tick = seen.netwatch.find((x) => tagged(x, "drain-tick"));
  if (!seen.scripts.some((x) => tagged(x, "drain")) || !tick) return { ok: false, detail: "the RA drain's script or netwatch tick is missing" };
  if (tick.disabled === "true" || tick.disabled === "yes") return { ok: false, detail: "the RA drain's netwatch tick is disabled" };
  const wg = `%${plan.router.tunnelInterface}`;
  const truthy = (v?: string) => v === "true" || v === "yes";
  const up = seen.routes.some((r) => r["dst-address"] === "::/0" && truthy(r.active) && (r["immediate-gw"] ?? r.gateway ?? "").endsWith(wg));
  const zero = (v?: string) => v !== undefined && /^(0s?|none|00:00:00)$/.test(v);
  const wrong = interfaces.filter((i) => {
    const e = seen.nd.find((x) => x.interface === i);
    return e !== undefined && zero(e["ra-lifetime"]) === up;
  });
  if (wrong.length)
    return { ok: false, detail: `relay6's ::/0 is ${up ? "there" : "gone"} but ra-lifetime is ${up ? "0" : "not 0"} on ${wrong.join(", ")}: the drain has not run (is netwatch running?)` };
  return { ok: true, detail: up ? `relay6's ::/0 is there; the segments advertise the router (ra-lifetime not 0)` : `relay6's ::/0 is gone; every segment advertises router lifetime 0 (drained)` };
}
