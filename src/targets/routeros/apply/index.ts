// relay6 apply router (RouterOS, over its REST API). See docs/apply-router.md.
//   1. read the router's version and refuse one the site file does not name
//   2. read every menu relay6 writes to, diff against the plan's objects (diff.ts, objects.ts)
//   3. show the diff; with --dry-run stop here
//   4. with --confirm: make sure device-mode lets the scheduler run (before anything else),
//      then schedule a rollback on the router (confirm.ts, rollback.ts) before changing
//      anything
//   5. change: creates and updates in dependency order, firewall accepts before drops,
//      removals last; a failed step runs the rollback at once; with --confirm, no step is
//      started once the window is about to end (the rollback runs at once instead)
//   6. with --confirm: reach the router again (and see the tunnel's handshake), then remove
//      the scheduled rollback; if the router does not answer, leave it to fire
// Every rollback that ran is checked by reading the router again (check.ts): what differs
// from the state before the run is reported, never a restore that did not happen.
// The values compared are values.ts's; what is printed, output.ts's.
import { EXIT, UserError } from "../../../errors.js";
import type { Plan } from "../../../plan/plan.js";
import { openRest } from "../../../remote/connect.js";
import { RestError, type RouterOsRest } from "../../../remote/routeros-rest.js";
import type { RenderContext } from "../../../render/types.js";
import type { ApplyReport, ApplyRequest } from "../../types.js";
import { capabilitiesOf, formatRelease, parseRelease, releaseMatches, type Release } from "../capabilities.js";
import { WG, desiredObjects, managedMenus, setupSteps } from "../objects.js";
import { leftovers } from "./check.js";
import { confirm, requireScheduler, scheduleRollback, type ConfirmOptions } from "./confirm.js";
import { diffRouter, readRouterState } from "./diff.js";
import { dnsWarnings } from "./dns.js";
import { describeOp, formatRouterResult, type ApplyRouterResult, type RouterOutcome } from "./output.js";
import { rollbackName, rollbackScript } from "./rollback.js";
import { tagKey } from "./values.js";
import { ndRestoreLines, recordObjects } from "./drain.js";

export interface ApplyRouterOptions extends ConfirmOptions {
  dryRun: boolean;
  /** --confirm SECONDS: the rollback fires after this long unless relay6 cancels it. */
  confirmSeconds?: number;
}

/** The last moment (ms after the rollback was scheduled, relay6's clock) a step may start:
 *  the window less the margin confirm() keeps too (a quarter of it, at most 10 s). */
export const lastStartMs = (windowMs: number) => windowMs - Math.min(10_000, windowMs / 4);

export async function applyRouter(rest: RouterOsRest, plan: Plan, ctx: RenderContext, opts: ApplyRouterOptions): Promise<ApplyRouterResult> {
  const site = plan.site;
  const want = plan.router.version;
  const release: Release | undefined = want ? parseRelease(want) : undefined;
  if (!want || !release) throw new UserError("router.version is not set: the site file must name the router's RouterOS release", [], EXIT.badInput, 'set router.version to the release the router runs (e.g. "7.22"; /system/resource prints it)');
  opts.log(`reading the router's version`);
  const have = await rest.version();
  if (!releaseMatches(want, have))
    throw new UserError(`the router runs RouterOS ${have}, the site file says ${want} (router.version)`, [
      {
        code: "router-version-mismatch",
        severity: "error",
        path: "router.version",
        message: `relay6 renders per release; the plan for ${want} may not fit ${have}`,
        fix: `set router.version: "${formatRelease(parseRelease(have) ?? release)}" in the site file (or upgrade the router), then run again`,
      },
    ]);
  // --confirm relies on /system/scheduler: device-mode (home, the factory mode of home
  // routers) can switch it off. Asked before anything is written.
  if (opts.confirmSeconds !== undefined) await requireScheduler(rest, opts.log);
  const caps = capabilitiesOf(release);
  const setup = setupSteps(plan, ctx, caps);
  if (setup.step1)
    throw new UserError("wireguard.keys: device needs the VPS's public key before the router can be set up", [
      {
        code: "router-vps-key-needed",
        severity: "error",
        path: "vps.publicKey",
        message: "the router's peer is the VPS; without its public key there is nothing to connect to",
        fix: "run `relay6 apply vps` first (it prints the VPS's public key), put it into vps.publicKey, then apply the router",
      },
    ]);
  const desired = desiredObjects(setup);

  opts.log(`reading ${managedMenus(caps).length} menus on RouterOS ${have}`);
  const state = await readRouterState(rest, caps);
  const schedName = rollbackName(site);
  const pending = (await rest.get("/system/scheduler")).filter((s) => s.name === schedName);
  const diff = diffRouter(site, [...desired, ...recordObjects(plan, state)], state, caps);
  const ndRestore = ndRestoreLines(plan, state);
  const warnings = await dnsWarnings(rest, plan, state, opts.log);
  const base = { site, router: rest.target.url, version: have, changes: diff.ops.map((o) => o.change), ...(warnings.length ? { warnings } : {}) };
  const publicKey = async () => (await rest.get(WG)).find((i) => tagKey(site, i.comment) === "wg")?.["public-key"];

  if (pending.length > 0)
    throw new UserError(`a rollback of an earlier run is still scheduled on the router (/system/scheduler ${schedName})`, [
      {
        code: "router-rollback-pending",
        severity: "error",
        path: "",
        message: "an earlier `apply router --confirm` did not finish; its rollback will restore the state before that run",
        fix: `wait for it to fire, or remove /system/scheduler ${schedName} on the router if you want to keep that run's changes, then run again`,
      },
    ]);
  if (diff.problems.length > 0)
    throw new UserError(`the router cannot take the plan as it is; nothing changed:\n${diff.problems.map((p) => `  - ${p}`).join("\n")}`, [
      {
        code: "router-conflict",
        severity: "error",
        path: "",
        message: "objects in the way or interfaces missing (relay6 only touches objects tagged relay6:" + site + ":)",
        fix: "create the missing interfaces, remove or rename the hand-made objects (docs/targets/routeros.md, moving from a hand-made setup), then run again",
      },
    ]);
  if (opts.dryRun) return { ...base, outcome: "dry-run" };
  if (diff.ops.length === 0) {
    const key = await publicKey();
    return { ...base, outcome: "no-changes", ...(key ? { routerPublicKey: key } : {}) };
  }

  const confirmSeconds = opts.confirmSeconds;
  const scheduled = confirmSeconds === undefined ? undefined : await scheduleRollback(rest, site, diff.ops, diff.firewallBefore, confirmSeconds, opts.log, ndRestore);
  const rollback = scheduled ? { scheduler: scheduled.name, seconds: scheduled.seconds, cancelled: false } : undefined;

  const total = diff.ops.length;
  const windowMs = opts.windowMs ?? (confirmSeconds ?? 0) * 1000;
  const ndInterfaces = [...new Set(plan.segments.map((x) => x.interface))];
  /** The router read again and compared with the state before the run. */
  const leftNow = async (): Promise<string[]> => {
    const left = leftovers(site, ndInterfaces, state, await readRouterState(rest, caps));
    if (scheduled) {
      if ((await rest.get("/system/scheduler")).some((x) => x.name === scheduled.name)) left.push(`+ /system/scheduler ${scheduled.name}: the rollback is still scheduled`);
      if ((await rest.get("/system/script")).some((x) => x.name === scheduled.name)) left.push(`+ /system/script ${scheduled.name}: the rollback's script`);
    }
    return left;
  };
  /** The outcome of a rollback that ran (at once, or the scheduled one): checked. */
  const checked = async (why: string, ran: string): Promise<ApplyRouterResult> => {
    let left: string[];
    try {
      left = await leftNow();
    } catch (e) {
      return { ...base, outcome: "failed", ...(rollback ? { rollback } : {}), error: `${why}; ${ran}, but the router did not answer when relay6 checked it (${errText(e)}): look at it, or import the undo script` };
    }
    if (left.length === 0) return { ...base, outcome: "rolled-back", ...(rollback ? { rollback: { ...rollback, cancelled: true } } : {}), error: `${why}; ${ran}` };
    return { ...base, outcome: "failed", ...(rollback ? { rollback } : {}), error: `${why}; ${ran}, and the router is not as it was before this run`, left };
  };
  /** Undo the first `made` steps now (/execute; its first line removes the scheduled rollback). */
  const rollBackNow = async (made: number, why: string): Promise<ApplyRouterResult> => {
    const script = rollbackScript(site, diff.ops.slice(0, made), diff.firewallBefore, scheduled?.name, ndRestore);
    opts.log("running the rollback now");
    let ret: string;
    try {
      ret = (await rest.command<{ ret?: string }>("/execute", { script, "as-string": "" }))?.ret ?? "";
    } catch (e) {
      // No answer (or a refusal of /execute itself): nothing of the rollback is known to have run.
      return { ...base, outcome: scheduled ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: `${why}; the rollback could not be run: ${errText(e)}` };
    }
    if (/rolled back/.test(ret)) return checked(why, "the rollback ran");
    // It stopped part way. Its first line removed the scheduled rollback (with --confirm), so
    // nothing is pending any more unless that line is where it stopped.
    let pending = false;
    try {
      pending = !!scheduled && (await rest.get("/system/scheduler")).some((x) => x.name === scheduled.name);
    } catch {
      pending = false;
    }
    if (pending) return { ...base, outcome: "rollback-pending", ...(rollback ? { rollback } : {}), error: `${why}; the rollback stopped before it began (${ret}); the scheduled one is still there` };
    const r = await checked(why, `the rollback stopped part way (${ret})`);
    return r.outcome === "rolled-back" ? r : { ...r, outcome: "failed" };
  };

  let done = 0;
  let outOfTime = false;
  try {
    for (const op of diff.ops) {
      if (scheduled && Date.now() >= scheduled.at + lastStartMs(windowMs)) {
        outOfTime = true;
        break;
      }
      done++;
      opts.log(`[${done}/${total}] ${describeOp(op.change)}`);
      await op.run(rest);
    }
  } catch (e) {
    const why = errText(e);
    opts.log(`step ${done} of ${total} failed: ${why}`);
    // The router answered: undo at once.
    if (e instanceof RestError) return rollBackNow(done - 1, why);
    // No answer: the router may be cut off from us.
    return { ...base, outcome: scheduled ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: why };
  }

  if (outOfTime && scheduled) {
    // The window is about to end (or has): no further step. If the rollback is still
    // scheduled, undo what was made now (its first line cancels the scheduled one); if it
    // is gone, it fired during the run. Either way the router is read again.
    const why = `the --confirm window (${scheduled.seconds} s) ran out during the apply, after ${done} of ${total} changes: relay6 stopped (a longer --confirm gives a slow router the time)`;
    opts.log(why);
    let stillScheduled: boolean;
    try {
      stillScheduled = (await rest.get("/system/scheduler")).some((x) => x.name === scheduled.name);
    } catch (e) {
      return { ...base, outcome: "rollback-pending", ...(rollback ? { rollback } : {}), error: `${why}; the router did not answer (${errText(e)})` };
    }
    return stillScheduled ? rollBackNow(done, why) : checked(why, "the scheduled rollback fired during the run");
  }

  if (!scheduled) {
    const key = await publicKey();
    return { ...base, outcome: "applied", ...(key ? { routerPublicKey: key } : {}) };
  }
  const c = await confirm(rest, site, scheduled, opts);
  if (!c.confirmed) {
    if (c.fired) return checked(c.error, "the scheduled rollback fired before relay6 could cancel it");
    return { ...base, outcome: "rollback-pending", ...(rollback ? { rollback } : {}), error: c.error };
  }
  const key = await publicKey();
  return { ...base, outcome: "confirmed", rollback: { ...rollback!, cancelled: true }, ...(key ? { routerPublicKey: key } : {}) };
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

const SUCCESS: readonly RouterOutcome[] = ["dry-run", "no-changes", "applied", "confirmed"];

export async function apply(req: ApplyRequest): Promise<ApplyReport> {
  if (!req.access.rest.url)
    throw new UserError("no router URL", [
      { code: "router-url", severity: "error", path: "", message: "relay6 needs the address of the router's REST API", fix: "pass --router-url https://<router's LAN address>, set RELAY6_ROUTER_URL, or put router.api.url in the site file" },
    ]);
  const rest = await openRest(req.access.rest, req.log);
  try {
    const result = await applyRouter(rest, req.plan, req.ctx, {
      dryRun: req.dryRun,
      ...(req.confirmSeconds !== undefined ? { confirmSeconds: req.confirmSeconds } : {}),
      skipHandshake: !!req.skipHandshake,
      log: req.log,
    });
    const askKeyFor = req.plan.wireguard.keys === "device" && !req.plan.router.publicKey ? req.site : undefined;
    return { text: formatRouterResult(result, askKeyFor), json: result, failed: !SUCCESS.includes(result.outcome) };
  } finally {
    rest.close();
  }
}
