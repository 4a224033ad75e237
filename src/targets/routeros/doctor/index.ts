// `relay6 doctor` for a RouterOS router: its `/export` (or the script pasted into it) read
// as RouterFacts, the checks only RouterOS has, and the export read live (SSH or REST).
import type { RouterDoctor } from "../../../doctor/router.js";
import { ROUTEROS_CHECKS, ROUTEROS_DOCTOR_CODES } from "./checks.js";
import { parseRouterOS, type RosScript } from "./export.js";
import { routerosFacts } from "./facts.js";
import { restRouterOsSource, sshRouterOsSource } from "./live.js";

export const routerosDoctor: RouterDoctor<RosScript> = {
  codes: ROUTEROS_DOCTOR_CODES,
  read({ origin, text }) {
    const script = parseRouterOS(text);
    if (script.commands.length === 0) return { notRecognised: "no RouterOS commands" };
    return { parsed: script, facts: routerosFacts(script, origin) };
  },
  checks: ROUTEROS_CHECKS,
  sshSource: sshRouterOsSource,
  restSource: restRouterOsSource,
};
