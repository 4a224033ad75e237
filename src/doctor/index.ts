// relay6 doctor: the recipe's traps, found in a setup made by hand (no site file).
// Public API of src/doctor; everything else in the folder is internal.
export { allDoctorCodes, DOCTOR_CODES, REUSED_LINT_CODES } from "./codes.js";
export { fileSource, inputOrder, type DoctorInputs, type DoctorSource, type InputKey } from "./inputs.js";
export { CHECKS, formatReport, redact, runDoctor, secretsIn, type DoctorReport } from "./report.js";
export type { DoctorSupport, LoadedRouterDoctor } from "./router.js";
