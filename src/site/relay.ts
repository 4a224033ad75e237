// The relay: one VPS serving one or more sites from its routed prefix. Every command reads
// its input as a relay: a relay file (top-level `relay:`) lists site files; a site file
// on its own (top-level `site:` with a `vps` block) is a relay of one, normalised by the
// pure `relayOfSite`. Every problem keeps its own file:line (the relay file's or the site
// file's).
import { dirname, isAbsolute, join, resolve } from "node:path";
import { EXIT, UserError, type Diagnostic } from "../errors.js";
import { checkYamlDoc, fileError, parseYamlDoc, readYamlText, type MisplacedKey, type YamlDoc, type YamlFileKind, type YamlPath } from "../yaml-file.js";
import { SITE_FILE, type LoadedSite } from "./load.js";
import type { RelayFile, RelaySchema, RelaySiteFile, RelaySiteSchema, SiteFile, SiteSchema } from "./schema.js";

/** The VPS as the relay has it. */
export type RelayVps = RelayFile["vps"];

/** One site of a relay: the site's own part of its file, and what its relay entry adds. */
export interface RelaySiteEntry {
  site: RelaySiteFile;
  /** The transit interface id the relay entry pins ("::100"); a standalone site: "::2". */
  transit?: string;
  /** A standalone site's vps.allowedIps (migrated by hand): replaces its computed AllowedIPs. */
  allowedIps?: string[];
}

export interface RelayInput {
  /** "site": a standalone site file (a relay of one); "relay": a relay file. */
  kind: "site" | "relay";
  /** The relay's name; a standalone site's is its site name. */
  relay: string;
  /** The prefix routed to the VPS. */
  prefix: string;
  vps: RelayVps;
  /** The VPS's wg0: one port and MTU for every site; keys: the VPS's key. */
  wireguard: RelayFile["wireguard"];
  /** The VPS's side of every BGP session. */
  bgp: RelayFile["bgp"];
  firewall: RelayFile["firewall"];
  /** A standalone /64 site's tunnel addresses (its `transit`): link-local, ula or a ULA /64.
   *  A relay's transit is always index 0 of its prefix. */
  transit?: string;
  sites: RelaySiteEntry[];
}

/** A standalone site file as a relay of one. Pure. Its router keeps the transit address
 *  it has always had (::2 of index 0 of its prefix). */
export function relayOfSite(site: SiteFile): RelayInput {
  const { allowedIps, ...vps } = site.vps;
  const { vpsAs, vpsRouterId, ...failover } = site.failover;
  return {
    kind: "site",
    relay: site.site,
    prefix: site.prefix,
    vps,
    wireguard: { port: site.wireguard.port, mtu: site.wireguard.mtu, keys: site.wireguard.keys },
    bgp: { as: vpsAs, routerId: vpsRouterId },
    firewall: { vps: site.firewall.vps },
    ...(site.transit !== undefined ? { transit: site.transit } : {}),
    sites: [
      {
        site: {
          ...(site.$schema !== undefined ? { $schema: site.$schema } : {}),
          site: site.site,
          prefix: site.prefix,
          ...(site.previousPrefix !== undefined ? { previousPrefix: site.previousPrefix } : {}),
          ...(site.ula !== undefined ? { ula: site.ula } : {}),
          router: site.router,
          segments: site.segments,
          wireguard: { keepalive: site.wireguard.keepalive, keys: site.wireguard.keys },
          failover,
          firewall: { clampMss: site.firewall.clampMss },
          dns: site.dns,
        },
        transit: "::2",
        ...(allowedIps !== undefined ? { allowedIps } : {}),
      },
    ],
  };
}

type Locate = (path: YamlPath) => { line: number; col: number };

/** One file of the input: its name, where a YAML path is in it, whether it writes one. */
export interface InputDoc {
  file: string;
  locate: Locate;
  given(path: YamlPath): boolean;
}

export interface LoadedInput {
  kind: "site" | "relay";
  /** The file the user named. */
  file: string;
  input: RelayInput;
  /** Where the relay's own values are: the relay file, or the standalone site file. */
  relayDoc: InputDoc;
  /** Where each site's values are, in the order of input.sites. */
  siteDocs: InputDoc[];
  /** The standalone site as it was loaded (kind "site"). */
  standalone?: LoadedSite;
}

/** The relay file's key for each key of a site file that belongs to the relay. */
const RELAY_KEYS: Record<string, string> = {
  vps: "vps",
  "wireguard.port": "wireguard.port",
  "wireguard.mtu": "wireguard.mtu",
  "failover.vpsAs": "bgp.as",
  "failover.vpsRouterId": "bgp.routerId",
  "firewall.vps": "firewall.vps",
};

function misplacedIn(relayFile: string): MisplacedKey {
  return (path) => {
    const key = RELAY_KEYS[path];
    if (!key) return undefined;
    return {
      code: "relay-key-in-site",
      message: `"${path}" belongs to the relay file (${relayFile}: ${key}), not to a site under it`,
      fix: path === "vps" ? `remove the vps block: the relay file's vps describes the one VPS of every site` : `remove it here; ${key} in ${relayFile} sets it for every site`,
    };
  };
}

const RELAY_FILE: YamlFileKind = {
  name: "relay file",
  keysReference: "the relay-file reference (README)",
  reference: "the relay-file reference in the README",
};

/** A site file listed by a relay file. */
const RELAY_SITE_FILE: YamlFileKind = {
  name: "site file",
  keysReference: "the relay's site-file reference (README)",
  reference: "the relay's site-file reference in the README",
};

/** A file's text (at most 1 MiB), or an errno code. */
function readText(file: string, kind: YamlFileKind): { text: string } | { code: string } {
  try {
    return { text: readYamlText(file, kind) };
  } catch (e) {
    if (e instanceof UserError) throw e;
    return { code: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

const why = (code: string) => (code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : code);

function readInput(file: string): string {
  const r = readText(file, SITE_FILE);
  if ("text" in r) return r.text;
  throw new UserError(`cannot read site file ${file}: ${why(r.code)}`, [
    { code: "site-unreadable", severity: "error", path: "", file, message: `cannot read it (${r.code})`, fix: r.code === "ENOENT" ? "check the path, or make a site file with `relay6 init`" : "give the path of a site or relay file you can read" },
  ], EXIT.badInput);
}

export interface InputSchemas {
  site: SiteSchema;
  relaySite: RelaySiteSchema;
  relay: RelaySchema;
}

/** Reads a site file or a relay file (and the site files it lists). Every schema problem
 *  of every file at once (exit 2). */
export function loadInputFile(file: string, schemas: InputSchemas): LoadedInput {
  const text = readInput(file);
  // Which kind it is shows only once parsed; a syntax error names it by its first key.
  const doc = parseYamlDoc(text, file, /^relay\s*:/m.test(text) ? RELAY_FILE : SITE_FILE);
  const raw = doc.raw as Record<string, unknown> | null;
  const isObject = raw !== null && typeof raw === "object" && !Array.isArray(raw);
  if (isObject && "relay" in raw) return loadRelay(doc, schemas);
  if (isObject && !("vps" in raw) && "site" in raw)
    throw new UserError(`${file} is a site file without a vps block: it belongs under a relay file (give the relay file instead)`, [
      {
        code: "site-needs-relay",
        severity: "error",
        path: "vps",
        file,
        ...doc.locate([]),
        message: "a site with no vps block is one site of a relay: its VPS is described by the relay file that lists it",
        fix: "run relay6 with the relay file that lists this site, or add a vps block to make it a standalone site",
      },
    ]);
  const r = checkYamlDoc(doc, schemas.site, SITE_FILE);
  if (!r.ok) throw fileError(file, SITE_FILE, r.diagnostics);
  const standalone: LoadedSite = { site: r.data, file, locate: doc.locate, given: doc.given };
  const at = { file, locate: doc.locate, given: doc.given };
  return { kind: "site", file, input: relayOfSite(r.data), relayDoc: at, siteDocs: [at], standalone };
}

function loadRelay(doc: YamlDoc, schemas: InputSchemas): LoadedInput {
  const file = doc.file;
  const r = checkYamlDoc(doc, schemas.relay, RELAY_FILE);
  const problems: Diagnostic[] = r.ok ? [] : [...r.diagnostics];
  // The site files are read even when the relay file has problems: every problem at once.
  const listed = r.ok ? r.data.sites : schemas.relay.shape.sites.safeParse((doc.raw as { sites?: unknown }).sites).data;
  if (!listed) throw fileError(file, RELAY_FILE, problems);
  const sites: RelaySiteEntry[] = [];
  const siteDocs: InputDoc[] = [];
  const seen = new Map<string, number>();
  listed.forEach((entry, i) => {
    const name = typeof entry === "string" ? entry : entry.file;
    const at: YamlPath = typeof entry === "string" ? ["sites", i] : ["sites", i, "file"];
    const path = resolve(dirname(file), name);
    const dup = seen.get(path);
    if (dup !== undefined) {
      problems.push({ code: "site-duplicate", severity: "error", path: `sites[${i}]`, file, ...doc.locate(at), message: `${name} is listed twice (also sites[${dup}])`, fix: "list each site file once" });
      return;
    }
    seen.set(path, i);
    // The site file's own name as the user would type it: relative to where the relay is.
    const shown = isAbsolute(name) ? name : join(dirname(file), name);
    let read: ReturnType<typeof readText>;
    try {
      read = readText(path, RELAY_SITE_FILE);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(...e.diagnostics);
      return;
    }
    if (!("text" in read)) {
      problems.push({ code: "site-unreadable", severity: "error", path: `sites[${i}]`, file, ...doc.locate(at), message: `cannot read site file ${shown}: ${read.code}`, fix: "give the path of the site file, relative to this relay file" });
      return;
    }
    const text = read.text;
    let siteDoc: YamlDoc;
    try {
      siteDoc = parseYamlDoc(text, shown, RELAY_SITE_FILE);
    } catch (e) {
      if (e instanceof UserError) {
        problems.push(...e.diagnostics);
        return;
      }
      throw e;
    }
    const s = checkYamlDoc(siteDoc, schemas.relaySite, RELAY_SITE_FILE, misplacedIn(file));
    if (!s.ok) {
      problems.push(...s.diagnostics);
      return;
    }
    sites.push({ site: s.data, ...(typeof entry !== "string" && entry.transit !== undefined ? { transit: entry.transit } : {}) });
    siteDocs.push({ file: shown, locate: siteDoc.locate, given: siteDoc.given });
  });
  const own = r.ok ? 0 : r.diagnostics.length;
  if (problems.length > 0) throw fileError(file, { name: problems.length > own ? "relay's files" : "relay file" }, problems);
  if (!r.ok) throw new Error("internal: a relay file that failed its schema without a finding");
  const { sites: _entries, $schema: _s, relay: name, ...rest } = r.data;
  return {
    kind: "relay",
    file,
    input: { kind: "relay", relay: name, ...rest, sites },
    relayDoc: { file, locate: doc.locate, given: doc.given },
    siteDocs,
  };
}
