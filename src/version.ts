import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
/** relay6's version, from package.json (src/ and dist/ both sit one level below it). */
export const VERSION: string = (require("../package.json") as { version: string }).version;

/** The JSON Schema of the site file that this relay6 ships (schema/site.schema.json beside
 *  package.json), by absolute path: what `relay6 init` names in the site file it writes. */
export const SCHEMA_FILE: string = fileURLToPath(new URL("../schema/site.schema.json", import.meta.url));
