// npm run schema: writes schema/site.schema.json (or the file given) from the zod schema and
// the production registry: targets the test suite registers never reach it.
// test/targets/throwaway.test.ts checks the committed file is exactly what this writes.
import { writeFileSync } from "node:fs";
import { siteJsonSchema } from "../src/pipeline.js";

const out = process.argv[2] ?? new URL("../schema/site.schema.json", import.meta.url);
writeFileSync(out, JSON.stringify(siteJsonSchema(), null, 2) + "\n");
