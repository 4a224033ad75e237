// relay6 doctor: the recipe's traps, found in a setup made by hand (no site file).
// Public API of src/doctor; everything else in the folder is internal.
export { DOCTOR_CODES, REUSED_LINT_CODES, allDoctorCodes } from "./codes.js";
export { fileSource, INPUT_KEYS, INPUT_KINDS, type DoctorInputs, type DoctorSource, type InputKey, type InputText } from "./inputs.js";
export { formatReport, redact, runDoctor, secretsIn, type DoctorOptions, type DoctorReport, type SkippedCheck } from "./report.js";
export type { SiteProposal } from "./site.js";
