// Site file → validated SiteFile, with every problem located at file:line:col. The schema
// is an argument (src/pipeline.ts makes it for the registry's router platforms); the YAML
// machinery is src/yaml-file.ts's, which the secrets and router credentials files share.
import { EXIT, UserError } from "../errors.js";
import { parseYamlFile, readYamlText, type YamlFileKind, type YamlPath } from "../yaml-file.js";
import type { SiteFile, SiteSchema } from "./schema.js";

export type { YamlPath };

export interface LoadedSite {
  site: SiteFile;
  file: string;
  /** Where a YAML path sits in the file (the nearest existing ancestor). */
  locate(path: YamlPath): { line: number; col: number };
  /** Whether the file itself writes this path (not a default the schema filled in). */
  given(path: YamlPath): boolean;
}

export const SITE_FILE: YamlFileKind = {
  name: "site file",
  keysReference: "the site-file reference (README, schema/site.schema.json)",
  reference: "the site-file reference in the README",
};

export function loadSiteFile(file: string, schema: SiteSchema): LoadedSite {
  let text: string;
  try {
    text = readYamlText(file, SITE_FILE);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (code ?? String(e));
    throw new UserError(`cannot read site file ${file}: ${why}`, [
      { code: "site-unreadable", severity: "error", path: "", file, message: `cannot read it (${code ?? "error"})`, fix: code === "ENOENT" ? "check the path, or make a site file with `relay6 init`" : "give the path of a site file you can read" },
    ], EXIT.badInput);
  }
  return parseSite(text, file, schema);
}

export function parseSite(text: string, file: string, schema: SiteSchema): LoadedSite {
  const { data, locate, given } = parseYamlFile(text, file, schema, SITE_FILE);
  return { site: data, file, locate, given };
}
