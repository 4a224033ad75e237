// relay6 init: a new site file from flags (or prompts on a terminal), a random ULA, and
// WireGuard keys in a 0600 secrets file. Every answer is checked as it is given, by the
// same schema and lint every other command uses: on a terminal a wrong answer is asked
// again with the reason; a wrong flag is exit 2 naming the flag.
import { randomBytes } from "node:crypto";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import { EXIT, fileSystemError, UserError, type Diagnostic } from "../../errors.js";
import { defaultSecretsPath, stageSecrets, withMissingKeys } from "../../keys/wireguard.js";
import { formatPrefix6 } from "../../net/ipv6.js";
import { analyse, parseSite, routerPlatforms } from "../../pipeline.js";
import type { SiteInput } from "../../site/schema.js";
import { SCHEMA_FILE } from "../../version.js";

/** A random RFC 4193 /48: fd00::/8 plus 40 random bits of global ID. */
export function randomUla(): string {
  const id = randomBytes(5);
  let network = 0xfdn;
  for (const b of id) network = (network << 8n) | BigInt(b);
  return formatPrefix6({ network: network << 80n, length: 48 });
}

interface InitOptions {
  out: string;
  site?: string;
  prefix?: string;
  onLink?: string;
  endpoint?: string;
  nic?: string;
  platform?: string;
  routerVersion?: string;
  bridge?: string;
  segment: string[];
  failover?: string;
  force?: boolean;
  json?: boolean;
}

type Answers = Partial<Record<Exclude<keyof InitOptions, "out" | "force" | "json" | "segment">, string>> & { segments?: string[] };

interface Question {
  key: Exclude<keyof Answers, "segments">;
  flag: string;
  ask: (a: Answers) => string;
  fallback?: (a: Answers) => string | undefined;
  /** Asked only when this holds (router.version: only where the platform has versions). */
  when?: (a: Answers) => boolean;
  /** The site-file paths whose findings judge this answer. */
  paths: string[];
  /** What the flag takes, when a word says it better than VALUE. */
  values?: string;
}

const versionOf = (platform: string | undefined) => routerPlatforms().find((p) => p.id === platform)?.version;

/** A single /64: the site's one LAN, and the provider must say how it delivers it. */
const is64 = (prefix: string | undefined) => /\/64\s*$/.test(prefix ?? "");

/** vps.onLink as typed: true/yes or false/no; anything else goes to the schema as typed,
 *  which refuses it naming vps.onLink. */
function onLinkValue(text: string | undefined): boolean | string | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  return t === "true" || t === "yes" ? true : t === "false" || t === "no" ? false : text;
}

/** The first segment when none is given: index 0 is a /64 site's LAN, index 1 otherwise
 *  (index 0 of a /40-/63 is the transit). */
const defaultSegment = (a: Answers, bridge = a.bridge ?? "bridge") => `lan:${is64(a.prefix) ? 0 : 1}:${bridge}`;

/** What init asks for, in this order. */
function questions(): Question[] {
  const platforms = routerPlatforms();
  return [
    { key: "site", flag: "--site", ask: () => "site name", fallback: () => "home", paths: ["site"] },
    { key: "prefix", flag: "--prefix", ask: () => "prefix the provider gives the VPS (e.g. 2001:db8:1234::/48, or a single /64)", paths: ["prefix"] },
    // A /64 must say how the provider delivers it (lint: vps-onlink-required); no default.
    {
      key: "onLink",
      flag: "--on-link",
      ask: () => "is the /64 on the VPS's link? true: the provider sends neighbour solicitations for its addresses (Vultr's reserved /64); false: it routes the /64 to the VPS (Hetzner) (true|false)",
      when: (a) => is64(a.prefix),
      paths: ["vps.onLink"],
      values: "true|false",
    },
    { key: "endpoint", flag: "--endpoint", ask: () => "VPS public address the router dials (IPv4, IPv6 or DNS name)", paths: ["vps.endpoint"] },
    { key: "nic", flag: "--nic", ask: () => "VPS public interface", fallback: () => "eth0", paths: ["vps.nic"] },
    { key: "platform", flag: "--platform", ask: () => `router platform (${platforms.map((p) => p.id).join("|")})`, fallback: () => platforms[0]!.id, paths: ["router.platform"] },
    { key: "routerVersion", flag: "--router-version", ask: (a) => `${a.platform} version`, fallback: (a) => versionOf(a.platform)?.example, when: (a) => versionOf(a.platform) !== undefined, paths: ["router.version"] },
    { key: "bridge", flag: "--bridge", ask: () => "router LAN bridge", fallback: () => "bridge", paths: ["router.bridge"] },
    { key: "failover", flag: "--failover", ask: () => "failover (static|bgp-bfd)", fallback: () => "bgp-bfd", paths: ["failover.mode"] },
  ];
}

/** A segment as typed: name:index:interface; the index a number or "0x10". */
function parseSegment(text: string): { name: string; index: number | string; interface: string } | undefined {
  const [name, index, iface, ...rest] = text.split(":");
  if (!name || !index || !iface || rest.length > 0) return undefined;
  return { name, index: /^0x/i.test(index) ? index : /^[0-9]+$/.test(index) ? Number(index) : index, interface: iface };
}

/** The site file these answers make; answers not given yet take a valid stand-in, so that
 *  only what was answered can be wrong. */
function siteOf(a: Answers, ula: string, final = false): SiteInput {
  const take = (v: string | undefined, standIn: string) => v ?? (final ? undefined : standIn);
  const platform = take(a.platform, routerPlatforms()[0]!.id)!;
  const version = versionOf(platform);
  const bridge = take(a.bridge, "bridge")!;
  const segments = (a.segments ?? [defaultSegment(a, bridge)]).map((s) => parseSegment(s) ?? { name: s, index: -1, interface: s });
  return {
    site: take(a.site, "home")!,
    prefix: take(a.prefix, "2001:db8:1234::/48")!,
    ula,
    vps: { endpoint: take(a.endpoint, "203.0.113.10")!, nic: take(a.nic, "eth0")!, ...(a.onLink !== undefined ? { onLink: onLinkValue(a.onLink) as boolean } : {}) },
    router: { platform, ...(version ? { version: a.routerVersion ?? version.example } : {}), bridge },
    segments,
    failover: { mode: take(a.failover, "static") as "static" | "bgp-bfd" },
  };
}

/** What the schema, lint and the target say about these paths of the site these answers
 *  make: errors (the answer is refused) and warnings (it is taken, and they are shown). */
function judge(a: Answers, ula: string, paths: readonly string[]): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const mine = (d: Diagnostic) => paths.some((p) => d.path === p || d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`));
  let found: Diagnostic[];
  try {
    found = analyse(parseSite(stringify(siteOf(a, ula)), "answer")).findings;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    found = e.diagnostics;
  }
  found = found.filter(mine);
  return { errors: found.filter((d) => d.severity === "error"), warnings: found.filter((d) => d.severity === "warning") };
}

/** A finding on one line: its message, and its fix unless that only repeats it ("must be X": "use X"). */
const say = (d: Diagnostic) => (d.fix && d.fix !== `use ${d.message.replace(/^must be /, "")}` ? `${d.message}; ${d.fix}` : d.message);

/** Prompts on the terminal; a closed input (Ctrl-D) ends init with nothing written. */
async function ask(rl: Interface, prompt: string, closed: AbortSignal): Promise<string> {
  process.stderr.write(prompt);
  try {
    return (await rl.question("", { signal: closed })).trim();
  } catch {
    process.stderr.write("\n");
    throw new UserError("init stopped: the input ended before every question had an answer; nothing written", [], EXIT.badInput, "run relay6 init again and answer every question (or give them all as flags)");
  }
}

async function interview(opts: InitOptions, ula: string): Promise<Answers> {
  const a: Answers = {};
  const interactive = process.stdin.isTTY === true;
  // No output stream and terminal: false: readline writes no cursor sequences of its own
  // (the output filter, src/terminal.ts, would show them escaped); the prompts are written
  // by ask(), and the terminal's line discipline echoes and edits what is typed.
  const rl = interactive ? createInterface({ input: process.stdin, terminal: false }) : undefined;
  const ended = new AbortController();
  rl?.on("close", () => ended.abort());
  const err = (s: string) => process.stderr.write(s + "\n");
  try {
    for (const q of questions()) {
      // Asked only when it applies; a flag given is taken anyway (--on-link on a shorter
      // prefix a provider puts on-link).
      if (q.when && !q.when(a) && opts[q.key] === undefined) continue;
      const given = opts[q.key];
      if (given !== undefined || !rl) {
        const value = given ?? q.fallback?.(a);
        if (value === undefined) throw new UserError(`relay6 init needs ${q.flag} (or a terminal to ask on)`, [{ code: "init-missing", severity: "error", path: q.paths[0]!, message: `no value for ${q.paths[0]}`, fix: `pass ${q.flag} ${q.values ?? "VALUE"}, or run relay6 init on a terminal` }]);
        a[q.key] = value;
        const { errors, warnings } = judge(a, ula, q.paths);
        if (errors.length > 0) throw new UserError(`${given !== undefined ? q.flag : `the default ${q.flag}`} ${value}: ${errors[0]!.message}`, errors.map((d) => ({ ...d, file: undefined })));
        for (const w of warnings) err(`relay6: note: ${q.flag} ${value}: ${say(w)}`);
        continue;
      }
      for (;;) {
        const fallback = q.fallback?.(a);
        const answer = (await ask(rl, `${q.ask(a)}${fallback ? ` [${fallback}]` : ""}: `, ended.signal)) || fallback;
        if (!answer) {
          err("  an answer is needed here");
          continue;
        }
        a[q.key] = answer;
        const { errors, warnings } = judge(a, ula, q.paths);
        if (errors.length === 0) {
          for (const w of warnings) err(`  note: ${say(w)}`);
          break;
        }
        for (const e of errors) err(`  ${say(e)}`);
        delete a[q.key];
      }
    }
    a.segments = await segments(opts, a, ula, rl, ended.signal, err);
  } finally {
    rl?.close();
  }
  return a;
}

/** The LAN segments: --segment flags, else asked one by one (an empty answer ends the list). */
async function segments(opts: InitOptions, a: Answers, ula: string, rl: Interface | undefined, closed: AbortSignal, err: (s: string) => void): Promise<string[]> {
  const list: string[] = [];
  const check = (text: string): Diagnostic[] => {
    const i = list.length;
    if (!parseSegment(text)) return [{ code: "init-segment", severity: "error", path: `segments[${i}]`, message: `"${text}" is not name:index:interface`, fix: "write e.g. lan:1:bridge or guest:0x10:vlan10" }];
    return judge({ ...a, segments: [...list, text] }, ula, [`segments[${i}]`]).errors;
  };
  if (opts.segment.length > 0 || !rl) {
    for (const s of opts.segment.length > 0 ? opts.segment : [defaultSegment(a)]) {
      const errors = check(s);
      if (errors.length > 0) throw new UserError(`--segment ${s}: ${errors[0]!.message}`, errors.map((d) => ({ ...d, file: undefined })));
      list.push(s);
    }
    return list;
  }
  err(`LAN segments, one per line as name:index:interface (${is64(a.prefix) ? "a /64 has one: index 0, the /64 itself" : "index N = the Nth /64 of the prefix"}; an empty line ends the list)`);
  for (;;) {
    const fallback = list.length === 0 ? defaultSegment(a) : undefined;
    const answer = (await ask(rl, `segment ${list.length + 1}${fallback ? ` [${fallback}]` : " (empty: done)"}: `, closed)) || fallback;
    if (!answer) return list;
    const errors = check(answer);
    if (errors.length === 0) {
      for (const w of judge({ ...a, segments: [...list, answer] }, ula, [`segments[${list.length}]`]).warnings) err(`  note: ${say(w)}`);
      list.push(answer);
    } else for (const e of errors) err(`  ${say(e)}`);
  }
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("Write a new site file, a random ULA and WireGuard keys (0600 secrets file)")
    .option("-o, --out <file>", "site file to write", "site.yaml")
    .option("--site <name>", "site name")
    .option("--prefix <prefix>", "the prefix the provider gives the VPS (/40 to /64)")
    .option("--on-link <true|false>", "a /64 only: true when the provider puts it on the VPS's link (it solicits its addresses: Vultr's reserved /64), false when it routes it to the VPS (Hetzner)")
    .option("--endpoint <address>", "the VPS address the router dials")
    .option("--nic <ifname>", "the VPS's public interface")
    .option("--platform <platform>", `router platform: ${routerPlatforms().map((p) => p.id).join(" or ")}`)
    .option("--router-version <version>", "the router's version where its platform needs one (RouterOS: e.g. 7.22)")
    .option("--bridge <ifname>", "the router's LAN bridge")
    .option("--segment <name:index:interface>", "a LAN segment (repeat for more); default lan:1:<bridge> (a /64: lan:0:<bridge>)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--failover <mode>", "static or bgp-bfd")
    .option("--force", "overwrite an existing site file")
    .option("--json", "print what was written as JSON (public keys only)")
    .action(async (opts: InitOptions) => {
      // The site file and its secrets file go in the same folder: it must exist (before
      // the questions, and before the secrets file's own error would name --secrets).
      const folder = dirname(resolve(opts.out));
      if (!isFolder(folder))
        throw new UserError(`cannot write site file ${opts.out}: its folder ${folder} does not exist or is not a folder`, [
          { code: "init-folder", severity: "error", path: "", file: opts.out, message: "init writes the site file and its secrets file (<site>.secrets.yaml) into this folder", fix: `create the folder first (mkdir -p ${folder}), or give -o a path in a folder that exists` },
        ]);
      if (existsSync(opts.out) && !opts.force)
        throw new UserError(`${opts.out} exists`, [
          { code: "init-exists", severity: "error", path: "", file: opts.out, message: "refusing to overwrite a site file", fix: "pass --force, or --out another file" },
        ]);
      const ula = randomUla();
      const answers = await interview(opts, ula);
      const doc = siteOf(answers, ula, true);
      const text =
        "# relay6 site file. Reference: the README. The schema named below is this relay6's own;\n" +
        "# `relay6 schema -o site.schema.json` writes a copy to keep beside this file (name it ./site.schema.json then).\n" +
        `# yaml-language-server: $schema=${SCHEMA_FILE}\n` +
        stringify(doc);
      // The same checks as every other command, before writing.
      const findings = analyse(parseSite(text, opts.out)).findings;
      const errors = findings.filter((d) => d.severity === "error");
      if (errors.length > 0) throw new UserError(`the site file init would write has lint errors; nothing written`, errors.map((d) => ({ ...d, file: undefined })));
      // The keys are staged first and kept only once the site file is written: a failure
      // leaves neither.
      const secrets = defaultSecretsPath(opts.out);
      const { secrets: keys, created } = withMissingKeys(secrets);
      const staged = created.length > 0 ? stageSecrets(secrets, keys) : undefined;
      try {
        try {
          writeFileSync(opts.out, text, { mode: 0o644 });
        } catch (e) {
          throw fileSystemError(e, `site file ${opts.out}`, { badPath: "give --out a file path whose folders exist" }, "init-unwritable");
        }
        staged?.commit();
      } finally {
        staged?.abort();
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ site: opts.out, ula: doc.ula, schema: SCHEMA_FILE, secrets, createdKeys: created }) + "\n");
        return;
      }
      process.stdout.write(
        `wrote ${opts.out} (ULA ${doc.ula}; editors check it against ${SCHEMA_FILE})\n` +
          (created.length ? `made WireGuard keys for ${created.join(" and ")} in ${secrets} (mode 0600)\n` : `kept the keys in ${secrets}\n`) +
          `next: relay6 plan ${opts.out}\n`,
      );
    });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
