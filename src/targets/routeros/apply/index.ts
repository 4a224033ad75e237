// relay6 apply router (RouterOS, over its REST API). See docs/apply-router.md.
//   1. read the router's version and refuse one the site file does not name
//   2. read every menu relay6 writes to, diff against the plan's objects (diff.ts, objects.ts)
//   3. show the diff; with --dry-run stop here
//   4. with --confirm: schedule a rollback on the router (confirm.ts, rollback.ts) before
//      changing anything
//   5. change: creates and updates in dependency order, firewall accepts before drops,
//      removals last; a failed step runs the rollback at once
//   6. with --confirm: reach the router again (and see the tunnel's handshake), then remove
//      the scheduled rollback; if the router does not answer, leave it to fire
// The values compared are values.ts's; what is printed, output.ts's.
import { UserError } from "../../../errors.js";
import type { Plan } from "../../../plan/plan.js";
import { openRest } from "../../../remote/connect.js";
import { RestError, type RouterOsRest } from "../../../remote/routeros-rest.js";
import type { RenderContext } from "../../../render/types.js";
import type { ApplyReport, ApplyRequest } from "../../types.js";
import { capabilitiesOf, formatRelease, parseRelease, releaseMatches, type Release } from "../capabilities.js";
import { WG, desiredObjects, managedMenus, setupSteps } from "../objects.js";
import { confirm, scheduleRollback, type ConfirmOptions } from "./confirm.js";
import { diffRouter, readRouterState } from "./diff.js";
import { describeOp, formatRouterResult, type ApplyRouterResult, type RouterOutcome } from "./output.js";
import { rollbackName, rollbackScript } from "./rollback.js";
import { tagKey } from "./values.js";

export interface ApplyRouterOptions extends ConfirmOptions {
  dryRun: boolean;
  /** --confirm SECONDS: the rollback fires after this long unless relay6 cancels it. */
  confirmSeconds?: number;
}

export async function applyRouter(rest: RouterOsRest, plan: Plan, ctx: RenderContext, opts: ApplyRouterOptions): Promise<ApplyRouterResult> {
  const site = plan.site;
  const want = plan.router.version;
  const release: Release | undefined = want ? parseRelease(want) : undefined;
  if (!want || !release) throw new UserError("router.version is not set: the site file must name the router's RouterOS release");
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
  const diff = diffRouter(site, desired, state, caps);
  const base = { site, router: rest.target.url, version: have, changes: diff.ops.map((o) => o.change) };
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
  const scheduled = confirmSeconds === undefined ? undefined : await scheduleRollback(rest, site, diff.ops, diff.firewallBefore, confirmSeconds, opts.log);
  const rollback = scheduled ? { scheduler: scheduled.name, seconds: scheduled.seconds, cancelled: false } : undefined;

  const total = diff.ops.length;
  let done = 0;
  try {
    for (const op of diff.ops) {
      done++;
      opts.log(`[${done}/${total}] ${describeOp(op.change)}`);
      await op.run(rest);
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    opts.log(`step ${done} of ${total} failed: ${why}`);
    if (e instanceof RestError) {
      // The router answered: undo at once.
      try {
        const script = rollbackScript(site, diff.ops.slice(0, done - 1), diff.firewallBefore, scheduled?.name);
        opts.log("running the rollback now");
        const r = await rest.command<{ ret?: string }>("/execute", { script, "as-string": "" });
        if (r?.ret && !/rolled back/.test(r.ret)) throw new Error(r.ret);
        return { ...base, outcome: "rolled-back", ...(rollback ? { rollback: { ...rollback, cancelled: true } } : {}), error: why };
      } catch (e2) {
        const why2 = e2 instanceof Error ? e2.message : String(e2);
        return { ...base, outcome: scheduled ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: `${why}; the rollback failed too: ${why2}` };
      }
    }
    // No answer: the router may be cut off from us.
    return { ...base, outcome: scheduled ? "rollback-pending" : "failed", ...(rollback ? { rollback } : {}), error: why };
  }

  if (!scheduled) {
    const key = await publicKey();
    return { ...base, outcome: "applied", ...(key ? { routerPublicKey: key } : {}) };
  }
  const c = await confirm(rest, site, scheduled, opts);
  if (!c.confirmed) return { ...base, outcome: "rollback-pending", ...(rollback ? { rollback } : {}), error: c.error };
  const key = await publicKey();
  return { ...base, outcome: "confirmed", rollback: { ...rollback!, cancelled: true }, ...(key ? { routerPublicKey: key } : {}) };
}

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
