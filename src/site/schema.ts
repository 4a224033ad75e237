// The site file's schema: the single source of truth for validation, for the TypeScript
// types of a parsed site, and for schema/site.schema.json (npm run schema).
// Semantic checks that need arithmetic (prefix fits, indexes fit, overlaps) live in
// plan/ and lint/, not here: this file says what a well-formed site file looks like.
// The router platforms are an argument: the registry knows them, this file does not.
import { z } from "zod";
import { isIPv4, isIPv6, parsePrefix6 } from "../net/ipv6.js";
import type { RouterPlatform } from "./platform.js";
import { checkRouterUrl } from "./router-url.js";

/** Names that end up in shell, wg, bird and RouterOS files. Refused, not escaped, when
 *  they hold anything but these characters: an interface or object name with a quote or a
 *  `$` in it is never what a user meant. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/;
export const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/;

const name = (_what: string) =>
  z
    .string()
    .regex(NAME_RE, {
      message: `must be 1-31 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
    });

const ifname = z.string().regex(IFNAME_RE, {
  message:
    "must be 1-15 characters of letters, digits, '.', '_', '@' or '-', starting with a letter or digit (the Linux limit)",
});

/** Free text that only ever lands in comments and descriptions: every output language
 *  escapes it; control characters (newlines above all) are refused so that a comment can
 *  never end early. */
const freeText = z
  .string()
  .max(120)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), {
    message: "must be one line without control characters (no newlines or tabs)",
  });

const ipv6Prefix = z.string().refine((s) => parsePrefix6(s).ok, {
  message: "must be an IPv6 prefix such as 2001:db8::/48",
});
const ipv6Address = z.string().refine(isIPv6, { message: "must be an IPv6 address" });
const ipv4Address = z.string().refine(isIPv4, { message: "must be a dotted-quad IPv4 address" });
const hostname = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A DNS name, and never one a resolver reads as an address: no all-numeric last label
 *  (RFC 3696 2), and no name made only of numbers, which inet_aton takes as IPv4 in
 *  decimal, octal or hex (`010.0.0.1` is 8.0.0.1, `0x7f000001` is 127.0.0.1). */
function isDnsName(s: string): boolean {
  if (!hostname.test(s)) return false;
  const labels = s.split(".");
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return false;
  return !labels.every((l) => /^(0x[0-9a-f]*|[0-9]+)$/i.test(l));
}
const endpoint = z.string().refine((s) => isIPv4(s) || isIPv6(s) || isDnsName(s), {
  message: "must be an IPv4 address (four decimal numbers 0-255, no leading zeros), an IPv6 address or a DNS name",
});
const port = z.number().int().min(1).max(65535);
const asn = z.number().int().min(1).max(4294967295);

/** A segment's index: a number, or a hex string such as "0x10". */
const segmentIndex = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/, { message: 'must be a number or a hex string such as "0x10"' }),
]);

const InboundService = z
  .object({
    name: name("a service name"),
    proto: z.enum(["tcp", "udp"]),
    port: port.describe("destination port on the LAN host"),
    host: ipv6Address
      .optional()
      .describe("the LAN host's address; omit to open the port to every host of the segment"),
  })
  .strict()
  .describe("A service on the LAN that internet hosts may open connections to.");

const Segment = z
  .object({
    name: name("a segment name").describe("The segment's name, used in comments and object tags."),
    index: segmentIndex.describe(
      "N: the segment's /64 is the Nth /64 of the routed prefix. For a /40-/63 prefix 0 is the tunnel's transit /64; a /64 site's only global segment is index 0.",
    ),
    interface: ifname.describe("The router's interface for this segment (bridge, VLAN...)."),
    description: freeText.optional().describe("Free text for comments."),
    ula: z
      .boolean()
      .default(true)
      .describe("Also give this segment a /64 of the site's ULA (when `ula` is set)."),
    inbound: z
      .array(InboundService)
      .default([])
      .describe("Services internet hosts may open connections to; everything else unsolicited is dropped."),
    global: z
      .boolean()
      .default(true)
      .describe("false: a ULA-only segment. Its index counts in `ula` only, it is not routed to the VPS (not in AllowedIPs), and it takes no inbound services."),
    previous: ipv6Prefix
      .optional()
      .describe("The segment's old /64 while the site moves to a new prefix: advertised with preferred lifetime 0 and valid lifetime 2 h (default: from previousPrefix)."),
  })
  .strict();

/** The router block, for these platforms. */
function routerSchema(platforms: readonly RouterPlatform[]) {
  const ids = platforms.map((p) => p.id);
  if (ids.length === 0) throw new Error("internal: a site schema needs at least one router platform");
  const tunnelDefaults = platforms.map((p) => `${p.id}: ${p.tunnelInterface}`).join(", ");
  const versioned = platforms.flatMap((p) => (p.version ? [{ id: p.id, ...p.version }] : []));
  // One versioned platform (today): its pattern as it is; several: any of theirs.
  const versionPattern = versioned.length === 1 ? versioned[0]!.pattern : new RegExp(versioned.map((v) => `(?:${v.pattern.source})`).join("|") || "^$");
  return z
    .object({
      platform: z.enum(ids as [string, ...string[]]),
      version: z
        .string()
        .regex(versionPattern, { message: `must be ${versioned.map((v) => v.what).join(", or ") || "absent"}` })
        .optional()
        .describe(versioned.map((v) => v.describe).join("; ") + "."),
      bridge: ifname.describe("The LAN bridge."),
      wan: ifname.optional().describe("The router's WAN interface (linux: for MSS clamping and the static route check)."),
      endpoint: endpoint
        .optional()
        .describe("The router's own public address, when it has a stable one; lets the VPS dial it too."),
      publicKey: z.string().optional().describe("The router's WireGuard public key, when it made its own key."),
      tunnelInterface: ifname.optional().describe(`Name of the router's WireGuard interface (${tunnelDefaults}).`),
      acceptAllFromTunnel: z
        .boolean()
        .default(false)
        .describe("Accept every input-chain packet from the tunnel, as the recipe does. Default: only BGP, BFD and ICMPv6."),
      management: z
        .object({
          fromVps: z.boolean().describe("Open the router's management (RouterOS REST over www-ssl, a Linux router's SSH) to the VPS's transit address only, through the tunnel: for a router behind CGNAT."),
          port: port.optional().describe(`The management service's TCP port (default: ${platforms.flatMap((p) => (p.management ? [`${p.id}: ${p.management.port}`] : [])).join(", ") || "the platform's"}).`),
        })
        .strict()
        .optional()
        .describe("relay6 status and verify reach such a router from the VPS: ssh -L, or ssh -J for SSH (README)."),
      api: z
        .object({
          url: z
            .string()
            .regex(/^https?:\/\/[^\s/@?#]+\/?$/, {
              message: "must be the router's REST base URL without user name, password, path or query, e.g. https://192.168.88.1",
              abort: true,
            })
            .superRefine((url, ctx) => {
              // The rules --router-url and RELAY6_ROUTER_URL follow too (plain http only to loopback).
              const c = checkRouterUrl(url);
              if (!c.ok) ctx.addIssue({ code: "custom", message: c.must });
            })
            .describe("Base URL of the router's REST API (relay6 apply router adds /rest), e.g. https://192.168.88.1."),
        })
        .strict()
        .optional()
        .describe("How relay6 apply router reaches the router (routeros). Credentials never go here."),
    })
    .strict();
}

/** The VPS block: its fields, shared by a site file's `vps` and a relay file's. */
const vpsFields = {
  endpoint: endpoint.describe("The address (or name) the router dials: IPv4 or a DNS name (lint refuses an IPv6 address: vps-endpoint-ipv6-loop-clash)."),
  nic: ifname.describe("The VPS's public interface."),
  onLink: z
    .boolean()
    .optional()
    .describe(
      "true: the provider expects the prefix's addresses on the VPS's link (it sends neighbour solicitations for them, as for Vultr's reserved /64): ndppd answers them. false: the provider routes the prefix to the VPS (Hetzner's /64 via fe80::1, a routed /48). Default false for /40-/63; a /64 must say.",
    ),
  os: z.enum(["ubuntu-22.04", "ubuntu-24.04", "debian-12"]).default("ubuntu-24.04"),
  upstream: z
    .object({
      address: ipv6Prefix
        .optional()
        .describe("The address the provider put on the NIC, with its mask (2001:db8::a/48)."),
      gateway: ipv6Address.optional().describe("The provider's IPv6 gateway, when not learned by RA."),
    })
    .strict()
    .optional(),
  underlayMtu: z.number().int().min(1280).max(9000).default(1500).describe("MTU of the path between the router and the VPS."),
  ssh: z
    .object({
      host: endpoint.optional().describe("Defaults to vps.endpoint."),
      port: port.default(22),
      user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "must be a Unix user name" }).default("root"),
    })
    .strict()
    .prefault({}),
  publicKey: z.string().optional().describe("The VPS's WireGuard public key, when the VPS made its own key (wireguard.keys: device)."),
  transfer: z
    .object({
      monthlyGB: z.number().positive().max(1_000_000).describe("The provider's monthly transfer allowance in GB (10^9 bytes)."),
      resetDay: z.number().int().min(1).max(31).default(1).describe("The day of the month the provider's count starts again (29-31: the month's last day in shorter months)."),
      counts: z.enum(["out", "in+out"]).describe("What the provider counts: out (what the VPS sends) or in+out (both directions)."),
      alertPercent: z.number().int().min(1).max(100).default(90).describe("relay6 status --check (and the VPS's check) fails from this share of the allowance on."),
    })
    .strict()
    .optional()
    .describe("The provider's transfer quota: plan shows what it carries, status counts this month's transfer (vnstat)."),
  alerts: z
    .object({
      every: z.number().int().min(10).max(86_400).default(60).describe("Seconds between two checks (the systemd timer's interval)."),
      onFailure: z
        .string()
        .min(1)
        .max(500)
        .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: "must be one line without control characters" })
        .optional()
        .describe("A shell command the VPS runs (as root) when the set of failing checks changes; it reads the failures on stdin, e.g. mail -s 'relay6' me@example.com."),
    })
    .strict()
    .optional()
    .describe("Install relay6-status on the VPS with a systemd timer: the relay checked from the VPS, failures in the journal, an event log, a node-exporter textfile."),
};

const wgPort = port.default(51820);
const wgMtu = z.number().int().min(1280).max(9000).default(1420);
const wgKeepalive = z.number().int().min(0).max(65535).default(25).describe("Seconds; 0 turns it off.");
const wgKeys = z.enum(["relay6", "device"]).default("relay6");
const asnDefault = (n: number) => asn.default(n);
const bfdSchema = z
  .object({
    intervalMs: z.number().int().min(10).max(60000).default(200),
    multiplier: z.number().int().min(1).max(255).default(3),
    idleTxMs: z.number().int().min(10).max(60000).default(100).describe("BFD packet interval while the session is down: paces how fast it comes back."),
  })
  .strict()
  .prefault({});
const vpsFirewall = z
  .enum(["ufw", "none"])
  .default("ufw")
  .describe("ufw: rules for ufw, enabled with default deny incoming. none: relay6 leaves the VPS firewall alone.");
const clampMss = z.boolean().default(true).describe("Clamp TCP MSS to the tunnel MTU in both directions.");
const dnsSchema = z
  .object({
    advertise: z
      .union([z.literal("self"), z.literal("none"), z.array(ipv6Address).min(1)])
      .default("self")
      .describe("RDNSS in router advertisements: self (the router's own address), none, or a list."),
  })
  .strict()
  .prefault({});

/** The schema of a site file for these router platforms (src/pipeline.ts passes the
 *  registry's). */
export function siteSchema(platforms: readonly RouterPlatform[]) {
  return z
    .object({
      $schema: z.string().optional(),
      site: name("the site name").describe("A short name for this relay; it tags every object relay6 owns."),
      prefix: ipv6Prefix.describe("The prefix the provider gives the VPS, /40 to /64 (a /64 is the site's one LAN; say vps.onLink)."),
      transit: z
        .union([z.literal("link-local"), z.literal("ula"), ipv6Prefix])
        .optional()
        .describe(
          "A /64 site's tunnel addresses (its /64 is the LAN): link-local (default: fe80::1 on the VPS, fe80::2 on the router), ula (the last /64 of `ula`), or a ULA /64 of your own (fd99:9999:9999::/64). A /40-/63 site's transit is index 0 of its prefix.",
        ),
      previousPrefix: ipv6Prefix
        .optional()
        .describe("The prefix being left (a move to a new VPS or provider): each segment's old /64 is advertised deprecated (preferred lifetime 0, valid 2 h) until you remove this."),
      ula: ipv6Prefix
        .optional()
        .describe("An RFC 4193 /48 (fdxx:xxxx:xxxx::/48); each segment gets the /64 of the same index."),
      vps: z
        .object({
          ...vpsFields,
          allowedIps: z
            .array(z.string())
            .min(1)
            .optional()
            .describe(
              "Replaces the computed AllowedIPs of the router peer (the router's transit /128 plus each segment's /64). For setups migrated by hand; lint checks it.",
            ),
        })
        .strict(),
      router: routerSchema(platforms),
      segments: z.array(Segment).min(1, { message: "a site needs at least one segment" }),
      wireguard: z
        .object({
          port: wgPort,
          mtu: wgMtu,
          keepalive: wgKeepalive,
          keys: wgKeys.describe("relay6: keys made by relay6, kept in the 0600 secrets file. device: each end makes its own; public keys go into vps.publicKey and router.publicKey."),
        })
        .strict()
        .prefault({}),
      failover: z
        .object({
          mode: z.enum(["static", "bgp-bfd"]),
          vpsAs: asnDefault(65002),
          routerAs: asnDefault(65001),
          vpsRouterId: ipv4Address.default("10.0.0.1"),
          routerRouterId: ipv4Address.default("10.0.0.2"),
          bfd: bfdSchema,
        })
        .strict(),
      firewall: z
        .object({
          vps: vpsFirewall,
          clampMss,
        })
        .strict()
        .prefault({}),
      dns: dnsSchema,
    })
    .strict();
}

/** A segment of a site under a relay: its index counts within the site's own prefix, and
 *  every index is a segment (the transit /64 belongs to the relay). */
const MemberSegment = Segment.extend({
  index: segmentIndex.describe("N: the segment's /64 is the Nth /64 of the site's prefix; every index, 0 included, is a segment (the transit belongs to the relay)."),
}).strict();

/** The schema of a site file listed by a relay file: no vps block, nothing that belongs to
 *  the relay's VPS (its ASN, router ID, WireGuard port and MTU, firewall): those are the
 *  relay file's (src/site/relay.ts names the relay file's key for each). */
export function relaySiteSchema(platforms: readonly RouterPlatform[]) {
  return z
    .object({
      $schema: z.string().optional(),
      site: name("the site name").describe("A short name for this site; it tags every object relay6 owns on its router."),
      prefix: ipv6Prefix.describe("The site's own prefix: a /56, /60 or /64 inside the relay's prefix."),
      previousPrefix: ipv6Prefix
        .optional()
        .describe("The prefix being left: each segment's old /64 is advertised deprecated (preferred lifetime 0, valid 2 h) until you remove this."),
      ula: ipv6Prefix
        .optional()
        .describe("An RFC 4193 /48 (fdxx:xxxx:xxxx::/48); each segment gets the /64 of the same index."),
      router: routerSchema(platforms),
      segments: z.array(MemberSegment).min(1, { message: "a site needs at least one segment" }),
      wireguard: z
        .object({
          keepalive: wgKeepalive,
          keys: wgKeys.describe("The router's key. relay6: made by relay6, kept in this site's 0600 secrets file. device: the router makes its own; its public key goes into router.publicKey."),
        })
        .strict()
        .prefault({}),
      failover: z
        .object({
          mode: z.enum(["static", "bgp-bfd"]),
          routerAs: asnDefault(65001),
          routerRouterId: ipv4Address.default("10.0.0.2"),
          bfd: bfdSchema,
        })
        .strict(),
      firewall: z.object({ clampMss }).strict().prefault({}),
      dns: dnsSchema,
    })
    .strict();
}

const fileName = z
  .string()
  .min(1)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: "must be a file name without control characters" });

/** The schema of a relay file: one VPS, its prefix, and the site files it serves. */
export function relaySchema() {
  return z
    .object({
      $schema: z.string().optional(),
      relay: name("the relay name").describe("A short name for this relay (the VPS); it tags the VPS's files and rules."),
      prefix: ipv6Prefix.describe("The prefix the provider routes to the VPS, /40 to /63; each site has a /56, /60 or /64 of it, index 0 is the transit /64."),
      vps: z.object(vpsFields).strict(),
      wireguard: z
        .object({
          port: wgPort.describe("The UDP port of the VPS's one wg0, for every site."),
          mtu: wgMtu.describe("The MTU of wg0 and of every router's tunnel."),
          keys: wgKeys.describe("The VPS's key. relay6: made by relay6, kept in the relay's 0600 secrets file. device: the VPS makes its own; its public key goes into vps.publicKey."),
        })
        .strict()
        .prefault({}),
      bgp: z
        .object({
          as: asnDefault(65002).describe("The VPS's ASN in every site's BGP session."),
          routerId: ipv4Address.default("10.0.0.1").describe("The VPS's BGP router ID."),
        })
        .strict()
        .prefault({}),
      firewall: z.object({ vps: vpsFirewall }).strict().prefault({}),
      sites: z
        .array(
          z.union([
            fileName.describe("A site file, relative to this relay file."),
            z
              .object({
                file: fileName.describe("A site file, relative to this relay file."),
                transit: ipv6Address
                  .optional()
                  .describe('Pins the router\'s transit address: an interface id ("::100") or an address of the transit /64. Default: from a hash of the site name.'),
              })
              .strict(),
          ]),
        )
        .min(1, { message: "a relay needs at least one site" }),
    })
    .strict();
}

export type SiteSchema = ReturnType<typeof siteSchema>;
export type SiteInput = z.input<SiteSchema>;
export type SiteFile = z.output<SiteSchema>;
export type RelaySiteSchema = ReturnType<typeof relaySiteSchema>;
export type RelaySiteFile = z.output<RelaySiteSchema>;
export type RelaySchema = ReturnType<typeof relaySchema>;
export type RelayFile = z.output<RelaySchema>;
