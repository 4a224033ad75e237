// The contract between relay6 and a target. A target is one folder under src/targets/<id>/
// whose index.ts exports a `Target`; the registry (src/targets/index.ts) is the only other
// file that names it. The pure half (check, render, next) runs in every command and must
// not import remote/, apply/ or verify/ (npm test checks that); the impure half (apply,
// verify, doctor) is a module of the same folder, loaded only when a command needs it.
import type { DoctorSupport } from "../doctor/router.js";
import type { Diagnostic } from "../errors.js";
import type { Plan } from "../plan/plan.js";
import type { RemoteAccess } from "../remote/connect.js";
import type { Artifact, RenderContext } from "../render/types.js";
import type { RouterPlatform } from "../site/platform.js";
import type { Finding } from "../verify/findings.js";

export interface Target {
  /** Folder name and the value users see: "vps", "routeros", "linux". */
  id: string;
  role: "vps" | "router";
  /** Routers: the `router.platform` value this target serves, and its defaults. */
  platform?: RouterPlatform;
  /** What this target cannot do for this plan (e.g. a RouterOS version without a feature). Pure. */
  check(plan: Plan): Diagnostic[];
  /** The plan in, files out. Pure. */
  render(plan: Plan, ctx: RenderContext): Artifact[];
  /** What to do with the rendered files: `relay6 render` prints it. `out`: the output
   *  directory; `site`: the site file, as the user named them. */
  next(plan: Plan, out: string, site: string): string;
  /** `relay6 apply vps|router`: the module that puts the rendered files on the live host. */
  apply(): Promise<ApplyModule>;
  /** `relay6 verify`: the module that checks the live host against the plan. */
  verify(): Promise<VerifyModule>;
  /** Routers: `relay6 doctor` can read a hand-made router of this platform (its input
   *  flag here; the module that reads it is loaded on use). */
  doctor?: DoctorSupport;
  /** Routers: the lab can run this target's files on its Linux router node (`relay6 lab`). */
  labRouter?: boolean;
}

export interface ApplyRequest {
  plan: Plan;
  ctx: RenderContext;
  /** Every artifact of the render (the module takes its own end's). */
  artifacts: readonly Artifact[];
  /** The site file, for messages ("put vps.publicKey: ... in SITE"). */
  site: string;
  /** How to reach the host, from the command's flags; the module says what is missing. */
  access: RemoteAccess;
  dryRun: boolean;
  /** --confirm SECONDS: schedule a rollback that fires unless relay6 cancels it. */
  confirmSeconds?: number;
  /** With --confirm: do not wait for the WireGuard handshake before confirming. */
  skipHandshake?: boolean;
  /** Progress, one line at a time (stderr). */
  log: (line: string) => void;
}

/** What an apply did, for people (`text`) and for --json (`json`). */
export interface ApplyReport {
  text: string;
  json: unknown;
  /** The host did not end up as the plan says (exit status 1). */
  failed: boolean;
}

export interface ApplyModule {
  apply(req: ApplyRequest): Promise<ApplyReport>;
}

export interface VerifyRequest {
  plan: Plan;
  ctx: RenderContext;
  access: RemoteAccess;
  /** Extra vtysh arguments, for routers that run FRR. */
  vtyshArgs?: string;
  log: (line: string) => void;
}

export interface VerifyModule {
  /** Named findings; a skip finding when the access it needs was not given. */
  verify(req: VerifyRequest): Promise<Finding[]>;
}
