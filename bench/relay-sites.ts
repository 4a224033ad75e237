// A relay of N sites on disk, for bench/relay-scale.ts and the tests that need a large
// relay: one relay file (2401:4520:110b::/48) and N site files, each a /60 or a /64 of it
// (site i takes the (i+1)th: the first holds the transit /64), Linux and RouterOS routers
// in turn, every site bgp-bfd at the default BFD timers (200 ms × 3).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { formatPrefix6, parsePrefix6, subnet } from "../src/net/ipv6.js";

export const RELAY_PREFIX = "2401:4520:110b::/48";
/** The lab's relay prefix and VPS (docs/lab.md): every address inside the lab's namespaces. */
const LAB = { prefix: "2001:db8:4700::/48", endpoint: "198.18.0.2", nic: "eth0", upstream: "2001:db8:4700::a/48" };

export interface RelaySitesOptions {
  /** /60 (4,095 fit beside the transit) or /64 (65,535). */
  siteLength?: 60 | 64;
  /** Router platforms in turn (the lab runs linux only). */
  platforms?: ("linux" | "routeros")[];
  mode?: "bgp-bfd" | "static";
  /** vps.transfer of the relay file. */
  transfer?: { monthlyGB: number; resetDay?: number; counts: "out" | "in+out" };
  /** The VPS's underlay endpoint (an IPv4 address by default). */
  endpoint?: string;
  nic?: string;
  /** A relay the lab runs (relay6 lab up RELAY): its prefix and VPS, Linux routers with the
   *  lab's interface names (lan0, wan0), one segment each. */
  lab?: boolean;
}

export const siteName = (i: number) => `s${String(i + 1).padStart(4, "0")}`;

/** Writes relay.yaml and sites/sNNNN.yaml under `dir`; returns the relay file's path. */
export function writeRelaySites(dir: string, n: number, o: RelaySitesOptions = {}): string {
  const len = o.siteLength ?? 60;
  const platforms = o.platforms ?? ["linux", "routeros"];
  const relayPrefix = o.lab ? LAB.prefix : RELAY_PREFIX;
  const parsed = parsePrefix6(relayPrefix);
  if (!parsed.ok) throw new Error("bad relay prefix");
  mkdirSync(join(dir, "sites"), { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = siteName(i);
    const prefix = formatPrefix6(subnet(parsed.prefix, len, BigInt(i + 1))!);
    const platform = o.lab ? "linux" : platforms[i % platforms.length]!;
    const site = o.lab ? {
      site: name,
      prefix,
      router: { platform, bridge: "lan0", wan: "wan0" },
      // The lab's bulk-TCP items open a transfer from outside: the service must be named.
      segments: [{ name: "lan", index: len === 64 ? 0 : 1, interface: "lan0", inbound: [{ name: "iperf", proto: "tcp", port: 5201 }] }],
      failover: { mode: o.mode ?? "bgp-bfd" },
    } : {
      site: name,
      prefix,
      router: platform === "routeros" ? { platform, version: "7.22", bridge: "bridge" } : { platform, bridge: "br0", wan: "eth0" },
      // A /64 site's index 0 is its LAN; a /60 has 16 /64s: a LAN and a guest segment.
      segments: len === 64 ? [{ name: "lan", index: 0, interface: platform === "routeros" ? "bridge" : "br0" }] : [
        { name: "lan", index: 1, interface: platform === "routeros" ? "bridge" : "br0" },
        { name: "guest", index: 2, interface: platform === "routeros" ? "vlan10" : "br0.10" },
      ],
      failover: { mode: o.mode ?? "bgp-bfd" },
    };
    writeFileSync(join(dir, "sites", `${name}.yaml`), stringify(site));
    files.push(`sites/${name}.yaml`);
  }
  const relay = {
    relay: "scale",
    prefix: relayPrefix,
    vps: {
      endpoint: o.lab ? LAB.endpoint : (o.endpoint ?? "203.0.113.10"),
      nic: o.lab ? LAB.nic : (o.nic ?? "enp3s0"),
      upstream: { address: o.lab ? LAB.upstream : "2401:4520:110b::a/48" },
      ...(o.transfer ? { transfer: o.transfer } : {}),
    },
    sites: files,
  };
  const file = join(dir, "relay.yaml");
  writeFileSync(file, stringify(relay));
  return file;
}
