// A doctor check: the codes it emits and the inputs it needs. Doctor runs the checks whose
// inputs are there and reports the others as skipped, with the flags that would let them run.
import type { Diagnostic } from "../../errors.js";
import type { InputKey } from "../inputs.js";
import type { Parsed } from "../setup.js";

/** Stands for the router's input, whichever platform's it is. */
export const ROUTER = "router";

export interface Check {
  /** The codes this check can emit. */
  codes: string[];
  /** Each entry must be present; an array entry is satisfied by any one of its inputs. */
  needs: (InputKey | InputKey[])[];
  /** Whether the check concerns this kind of setup at all (an on-link /64's checks do not
   *  concern a routed /48): when false it is neither run nor listed as skipped. */
  relevant?(p: Parsed): boolean;
  run(p: Parsed): Diagnostic[];
}

const present = (p: Parsed, key: InputKey): boolean =>
  (({ wgConf: p.wg, birdConf: p.bird, ipRoute: p.routes, ipAddr: p.addrs, ndppdConf: p.ndppd, sysctl: p.sysctl, ufwStatus: p.ufw, [ROUTER]: p.router }) as Record<string, unknown>)[key] !== undefined;

export function missingInputs(p: Parsed, check: Check): (InputKey | InputKey[])[] {
  return check.needs.filter((n) => (Array.isArray(n) ? !n.some((k) => present(p, k)) : !present(p, n)));
}
