// --confirm: a rollback scheduled on the router before anything changes, cancelled only once
// the router answers again after the changes (and the tunnel has a handshake). If relay6
// loses the router, the rollback fires by itself.
import { EXIT, UserError } from "../../../errors.js";
import { RestError, type RosObject, type RouterOsRest } from "../../../remote/routeros-rest.js";
import { HANDSHAKE_MAX_AGE_S } from "../../../verify/wireguard.js";
import { rosDurationMs } from "../duration.js";
import { PEERS } from "../objects.js";
import type { Menu } from "../script.js";
import type { Op } from "./diff.js";
import { rollbackName, rollbackScript } from "./rollback.js";
import { tagKey } from "./values.js";

export interface Scheduled {
  name: string;
  schedulerId?: string;
  /** When the router's timer started (relay6's clock). */
  at: number;
  seconds: number;
}

/** Puts the rollback of `ops` on the router: a /system/script (the scheduler's on-event
 *  names it, as the RouterOS manual documents on-event) that removes the scheduler entry
 *  first and itself last, run by a scheduler entry `seconds` from now. */
export async function scheduleRollback(rest: RouterOsRest, site: string, ops: readonly Op[], firewallBefore: Map<Menu, RosObject[]>, seconds: number, log: (l: string) => void, after: readonly string[] = []): Promise<Scheduled> {
  const name = rollbackName(site);
  const script = rollbackScript(site, ops, firewallBefore, name, after);
  for (const old of (await rest.get("/system/script")).filter((x) => x.name === name)) await rest.remove("/system/script", old[".id"]!);
  log(`scheduling the rollback: /system/scheduler ${name} runs /system/script ${name} in ${seconds} s unless relay6 cancels it`);
  await rest.add("/system/script", { name, source: script, comment: `relay6: undoes apply router of site ${site}` });
  const entry = await rest.add("/system/scheduler", {
    name,
    interval: `${seconds}s`,
    "on-event": name,
    comment: `relay6: restores the router as it was before apply router of site ${site}, unless confirmed`,
  });
  return { name, ...(entry[".id"] ? { schedulerId: entry[".id"] } : {}), at: Date.now(), seconds };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** --confirm needs /system/scheduler, and device-mode can switch it off (mode home, the
 *  factory mode of many home routers). Read before anything is written: refuse unless
 *  `scheduler` is on; a missing key (or no answer) is unknown, not yes. */
export async function requireScheduler(rest: RouterOsRest, log: (l: string) => void): Promise<void> {
  log("reading /system/device-mode (--confirm needs the scheduler)");
  let dm: RosObject | undefined;
  let why = "";
  try {
    const r = await rest.request<RosObject | RosObject[]>("GET", "/system/device-mode");
    dm = Array.isArray(r) ? r[0] : r;
  } catch (e) {
    why = ` (${e instanceof Error ? e.message : String(e)})`;
  }
  const v = dm?.scheduler;
  if (v === "true" || v === "yes") return;
  const off = v === "false" || v === "no";
  const mode = dm?.mode ? `mode=${dm.mode}, ` : "";
  throw new UserError(
    off ? `--confirm needs /system/scheduler, and the router's device-mode has it off (${mode}scheduler=no)` : `--confirm needs /system/scheduler, and relay6 cannot tell whether device-mode allows it (GET /system/device-mode shows no scheduler${why})`,
    [
      {
        code: off ? "router-scheduler-off" : "router-scheduler-unknown",
        severity: "error",
        path: "",
        message: "the rollback of --confirm is a /system/scheduler entry; without the scheduler it would never fire, and a change that cuts you off would stay",
        fix: "on the router: /system/device-mode/update scheduler=yes, then confirm it as RouterOS asks (press the button or power-cycle it within the activation timeout); or run without --confirm (nothing was changed)",
      },
    ],
    EXIT.findings,
  );
}

export interface ConfirmOptions {
  /** How long the scheduled rollback's timer runs, in relay6's clock (default: the
   *  --confirm seconds; tests whose model clock runs faster pass less). */
  windowMs?: number;
  skipHandshake?: boolean;
  /** How long to wait for the router (and handshake); default: the confirm window minus a margin. */
  confirmWaitMs?: number;
  /** Between polls (default 2 s). */
  pollMs?: number;
  log: (line: string) => void;
}

/** After the changes: the router must answer again, and (where the tunnel comes up) see
 *  the VPS; then the scheduled rollback is removed. The rollback fires `seconds` after it
 *  was scheduled (router clock); relay6 stops waiting a margin before that, so that its
 *  cancel arrives in time. */
export async function confirm(rest: RouterOsRest, site: string, s: Scheduled, opts: ConfirmOptions): Promise<{ confirmed: true } | { confirmed: false; fired?: boolean; error: string }> {
  const windowMs = opts.windowMs ?? s.seconds * 1000;
  const waitMs = opts.confirmWaitMs ?? Math.max(1000, windowMs - Math.min(10_000, windowMs / 4));
  const poll = opts.pollMs ?? 2000;
  const deadline = (opts.confirmWaitMs !== undefined ? Date.now() : s.at) + waitMs;
  let reached = false;
  let handshake = !!opts.skipHandshake;
  let lastError = "";
  opts.log(`checking that the router still answers${opts.skipHandshake ? "" : " and the tunnel has a handshake"} (up to ${Math.round(waitMs / 1000)} s)`);
  while (Date.now() < deadline) {
    try {
      await rest.version();
      reached = true;
      if (!handshake) {
        const peer = (await rest.get(PEERS)).find((p) => tagKey(site, p.comment) === "peer");
        const ms = rosDurationMs(peer?.["last-handshake"]);
        if (ms !== undefined && ms < HANDSHAKE_MAX_AGE_S * 1000) handshake = true;
        else lastError = "no WireGuard handshake with the VPS yet";
      }
      if (handshake) break;
    } catch (e) {
      reached = false;
      lastError = e instanceof Error ? e.message : String(e);
    }
    await sleep(poll);
  }
  if (!reached || !handshake)
    return { confirmed: false, error: reached ? `${lastError}: is the VPS applied (relay6 apply vps)?` : `the router did not answer after the changes (${lastError})` };
  try {
    await rest.remove("/system/scheduler", s.schedulerId!);
  } catch (e) {
    const fired = e instanceof RestError && e.status === 404;
    return fired ? { confirmed: false, fired: true, error: "the rollback fired before relay6 could cancel it" } : { confirmed: false, error: `could not cancel the rollback: ${e instanceof Error ? e.message : String(e)}` };
  }
  for (const x of (await rest.get("/system/script")).filter((y) => y.name === s.name)) await rest.remove("/system/script", x[".id"]!);
  opts.log(`confirmed: removed /system/scheduler ${s.name} and its script`);
  return { confirmed: true };
}
