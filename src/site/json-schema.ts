// The JSON Schema editors use to complete and check site files, made from the zod schema.
import { z } from "zod";
import type { SiteSchema } from "./schema.js";

export function siteJsonSchema(schema: SiteSchema): Record<string, unknown> {
  return {
    ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }),
    $id: "https://relay6.dev/schema/site.schema.json",
    title: "relay6 site file",
  };
}
