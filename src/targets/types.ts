// The contract between relay6 and a target. A target is one folder under src/targets/<id>/
// whose index.ts exports a `Target`; the registry (src/targets/index.ts) is the only other
// file that names it. The pure half (check, render, next) runs in every command and must
// not import remote/, apply/ or verify/ (npm test checks that); the impure half (apply,
// verify, doctor) is a module of the same folder, loaded only when a command needs it.
import type { DoctorSupport } from "../doctor/router.js";
import type { Diagnostic } from "../errors.js";
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import type { RemoteAccess } from "../remote/connect.js";
import type { Artifact, RelayRenderContext, RenderContext } from "../render/types.js";
import type { RouterPlatform } from "../site/platform.js";
import type { VpsView } from "../status/status.js";
import type { Finding } from "../verify/findings.js";

/** A router platform's target: it renders one site's router from that site's Plan. */
export interface RouterTarget {
  /** Folder name and the value users see: "routeros", "linux". */
  id: string;
  role: "router";
  /** The `router.platform` value this target serves, and its defaults. */
  platform: RouterPlatform;
  /** What this target cannot do for this plan (e.g. a RouterOS version without a feature). Pure. */
  check(plan: Plan): Diagnostic[];
  /** The plan in, files out (under router/). Pure. */
  render(plan: Plan, ctx: RenderContext): Artifact[];
  /** What to do with the rendered files: `relay6 render` prints it. `out`: the directory
   *  that holds router/; `site`: the input file as the user named it (with `--site NAME`
   *  for a site of a relay). */
  next(plan: Plan, out: string, site: string): string;
  /** `relay6 apply router`: the module that puts the rendered files on the live router. */
  apply(): Promise<ApplyModule>;
  /** `relay6 verify`: the module that checks the live router against the plan. */
  verify(): Promise<VerifyModule>;
  /** `relay6 doctor` can read a hand-made router of this platform (its input flag here;
   *  the module that reads it is loaded on use). */
  doctor?: DoctorSupport;
  /** The lab can run this target's files on its Linux router node (`relay6 lab`). */
  labRouter?: boolean;
}

/** The VPS's target: it renders the whole relay (every site's peer, session and rules on
 *  one wg0) from the RelayPlan; a standalone site is a relay of one. */
export interface VpsTarget {
  id: string;
  role: "vps";
  /** What this target cannot do for this relay. Pure. */
  check(relay: RelayPlan): Diagnostic[];
  /** The relay in, files out (under vps/). Pure. */
  render(relay: RelayPlan, ctx: RelayRenderContext): Artifact[];
  /** What to do with vps/: `relay6 render` prints it. `input`: the file the user named. */
  next(relay: RelayPlan, out: string, input: string): string;
  apply(): Promise<VpsApplyModule>;
  verify(): Promise<VpsVerifyModule>;
}

export type Target = RouterTarget | VpsTarget;

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
  /** Extra vtysh arguments, for routers that run FRR: words, each quoted when run. */
  vtyshArgs?: readonly string[];
  log: (line: string) => void;
}

export interface VerifyModule {
  /** Named findings; a skip finding when the access it needs was not given. */
  verify(req: VerifyRequest): Promise<Finding[]>;
}

export interface VpsApplyRequest {
  relay: RelayPlan;
  ctx: RelayRenderContext;
  /** Every artifact of the render (the module takes vps/). */
  artifacts: readonly Artifact[];
  /** The input file (relay or site), for messages. */
  input: string;
  access: RemoteAccess;
  dryRun: boolean;
  log: (line: string) => void;
}

export interface VpsApplyModule {
  apply(req: VpsApplyRequest): Promise<ApplyReport>;
}

export interface VpsVerifyRequest {
  relay: RelayPlan;
  ctx: RelayRenderContext;
  access: RemoteAccess;
  /** The sites to check (verify --site); every site when absent. */
  sites?: string[];
  log: (line: string) => void;
}

export interface VpsStatusRequest {
  relay: RelayPlan;
  access: RemoteAccess;
  log: (line: string) => void;
}

export interface VpsVerifyModule {
  verify(req: VpsVerifyRequest): Promise<Finding[]>;
  /** `relay6 status`: one SSH connection; each read() is one round trip. */
  statusReader(req: VpsStatusRequest): Promise<{ read(): Promise<VpsView>; close(): void }>;
}
