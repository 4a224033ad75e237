// relay6 init: a new site file from flags (or prompts on a terminal), a random ULA, and
// WireGuard keys in a 0600 secrets file.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import { UserError } from "../../errors.js";
import { defaultSecretsPath, ensureKeys } from "../../keys/wireguard.js";
import { formatPrefix6 } from "../../net/ipv6.js";
import { parseSite, routerPlatforms } from "../../pipeline.js";
import type { SiteInput } from "../../site/schema.js";

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

/** What init asks for (on a terminal) or takes as the default, in this order. */
function questions(): { key: keyof InitOptions; ask: string; fallback?: string }[] {
  const platforms = routerPlatforms();
  return [
    { key: "site", ask: "site name", fallback: "home" },
    { key: "prefix", ask: "prefix routed to the VPS (e.g. 2001:db8:1234::/48)" },
    { key: "endpoint", ask: "VPS public address the router dials" },
    { key: "nic", ask: "VPS public interface", fallback: "eth0" },
    { key: "platform", ask: `router platform (${platforms.map((p) => p.id).join("|")})`, fallback: platforms[0]!.id },
    { key: "routerVersion", ask: "the router's version (asked only where its platform needs one)" },
    { key: "bridge", ask: "router LAN bridge", fallback: "bridge" },
    { key: "failover", ask: "failover (static|bgp-bfd)", fallback: "bgp-bfd" },
  ];
}

/** router.version as the chosen platform takes it: undefined when it takes none. */
const versionOf = (platform: string | undefined) => routerPlatforms().find((p) => p.id === platform)?.version;

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("Write a new site file, a random ULA and WireGuard keys (0600 secrets file)")
    .option("-o, --out <file>", "site file to write", "site.yaml")
    .option("--site <name>", "site name")
    .option("--prefix <prefix>", "the prefix the provider routes to the VPS")
    .option("--endpoint <address>", "the VPS address the router dials")
    .option("--nic <ifname>", "the VPS's public interface")
    .option("--platform <platform>", `router platform: ${routerPlatforms().map((p) => p.id).join(" or ")}`)
    .option("--router-version <version>", "the router's version where its platform needs one (RouterOS: e.g. 7.22)")
    .option("--bridge <ifname>", "the router's LAN bridge")
    .option("--segment <name:index:interface>", "a LAN segment (repeat for more); default lan:1:<bridge>", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--failover <mode>", "static or bgp-bfd")
    .option("--force", "overwrite an existing site file")
    .option("--json", "print what was written as JSON (public keys only)")
    .action(async (opts: InitOptions) => {
      if (existsSync(opts.out) && !opts.force)
        throw new UserError(`${opts.out} exists`, [
          { code: "init-exists", severity: "error", path: "", file: opts.out, message: "refusing to overwrite a site file", fix: "pass --force, or --out another file" },
        ]);
      const missing = questions().filter((q) => opts[q.key] === undefined);
      if (missing.length > 0 && process.stdin.isTTY) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        try {
          for (const q of missing) {
            const fallback = q.key === "routerVersion" ? versionOf(opts.platform)?.example : q.fallback;
            if (q.key === "routerVersion" && fallback === undefined) continue;
            const ask = q.key === "routerVersion" ? `${opts.platform} version` : q.ask;
            const answer = (await rl.question(`${ask}${fallback ? ` [${fallback}]` : ""}: `)).trim();
            (opts as unknown as Record<string, string | undefined>)[q.key] = answer || fallback;
          }
        } finally {
          rl.close();
        }
      } else {
        for (const q of missing) {
          const fallback = q.key === "routerVersion" ? versionOf(opts.platform)?.example : q.fallback;
          if (q.key === "routerVersion" && fallback === undefined) continue;
          if (fallback === undefined)
            throw new UserError(`relay6 init needs --${q.key} (or a terminal to ask on)`, [], 2);
          (opts as unknown as Record<string, string | undefined>)[q.key] = fallback;
        }
      }
      const bridge = opts.bridge!;
      const segments = (opts.segment.length > 0 ? opts.segment : [`lan:1:${bridge}`]).map((s, i) => {
        const [name, index, iface] = s.split(":");
        if (!name || !index || !iface)
          throw new UserError(`--segment ${s}: expected name:index:interface, e.g. lan:1:bridge or guest:0x10:vlan10`, [], 2);
        return { name, index: /^0x/i.test(index) ? index : Number(index), interface: iface, _i: i };
      });
      const doc: SiteInput = {
        site: opts.site!,
        prefix: opts.prefix!,
        ula: randomUla(),
        vps: { endpoint: opts.endpoint!, nic: opts.nic! },
        router: {
          platform: opts.platform!,
          ...(versionOf(opts.platform) && opts.routerVersion !== undefined ? { version: opts.routerVersion } : {}),
          bridge,
        },
        segments: segments.map(({ _i, ...s }) => s),
        failover: { mode: opts.failover as "static" | "bgp-bfd" },
      };
      const text =
        "# relay6 site file. Reference: the README; schema: schema/site.schema.json\n" +
        "# yaml-language-server: $schema=https://relay6.dev/schema/site.schema.json\n" +
        stringify(doc);
      parseSite(text, opts.out); // the same checks as every other command, before writing
      writeFileSync(opts.out, text, { mode: 0o644 });
      const secrets = defaultSecretsPath(opts.out);
      const { created } = ensureKeys(secrets);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ site: opts.out, ula: doc.ula, secrets, createdKeys: created }) + "\n");
        return;
      }
      process.stdout.write(
        `wrote ${opts.out} (ULA ${doc.ula})\n` +
          (created.length ? `made WireGuard keys for ${created.join(" and ")} in ${secrets} (mode 0600)\n` : `kept the keys in ${secrets}\n`) +
          `next: relay6 plan ${opts.out}\n`,
      );
    });
}
