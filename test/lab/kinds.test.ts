// `lab up` and `lab test` on each single-/64 provider kind (src/lab/provider.ts): the lab's
// inet emulates the provider the site says it has, the VPS's NIC address is placed per
// kind, and every `lab test` item passes, the kind's negative controls included (each
// takes its fix away, asserts that both directions are lost, client-initiated traffic
// too, and that they flow again with the fix back). One lab at a time; nothing left.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labTest, type CheckResult } from "../../src/lab/checks.js";
import { labDown } from "../../src/lab/down.js";
import { run } from "../../src/lab/exec.js";
import { nsRun } from "../../src/lab/nodes.js";
import { labDir, type LabState } from "../../src/lab/state.js";
import { labUp } from "../../src/lab/up.js";
import { REPO } from "../helpers.js";

const root = process.getuid?.() === 0;
const tag = (process.pid % 100000).toString(36);

interface Kind {
  site: string;
  /** inet's route for the prefix, as `ip -6 route show` prints it. */
  inetRoute: RegExp;
  /** The VPS's own address on its NIC. */
  vpsNic: string;
  /** `lab test` items this kind must have (besides the common ones). */
  items: string[];
}

const KINDS: Kind[] = [
  {
    site: "onlink",
    inetRoute: /^2001:db8:4601:1::\/64 dev vps0 /,
    vpsNic: "2001:db8:4601::a/64",
    items: [
      "on-link: the provider solicits the LAN's addresses on the VPS's link; ndppd's static rule answers",
      "negative control: without ndppd every packet to a client is lost, replies to its own connections too",
      "negative control: a non-static ndppd rule (iface wg0, auto) loses the clients",
      "the router's own traffic leaves from its LAN address and reaches the internet host",
      "c2 (trusted, ULA only): reaches the router's ULA; its packets to the internet are dropped at the VPS (not in AllowedIPs)",
    ],
  },
  {
    site: "routed64",
    inetRoute: /^2001:db8:4602:1::\/64 via fe80::ff:fe00:a dev vps0 /,
    vpsNic: "2001:db8:4602:1::2/64",
    items: [
      "routed /64: inet routes it to the VPS's link-local; the VPS's own address keeps no connected /64",
      "negative control: the provider's connected /64 back on the NIC loses every client",
      "negative control: an RA's prefix route (accept_ra_pinfo 1) loses every client; pinfo 0 keeps it off",
      "LAN clients reach the VPS's own address in their /64 (the router answers for it); without the proxy entry they cannot",
      "the router's own traffic leaves from its LAN address and reaches the internet host",
    ],
  },
  {
    site: "onlink-ula",
    inetRoute: /^2001:db8:4603:1::\/64 dev vps0 /,
    vpsNic: "2001:db8:4603::a/64",
    items: [
      "negative control: without ndppd every packet to a client is lost, replies to its own connections too",
      "the router's own traffic leaves from its LAN address and reaches the internet host",
      "negative control: the router's ULA transit preferred again (no PostUp deprecation): its own traffic leaves from the ULA and is lost",
      "the VPS's own IPv6 keeps its global source with a ULA on wg0, its global deprecated; preferred, the ULA would take over",
      "c1 (lan): its address in the old 2001:db8:4699:1::/64 is deprecated, valid 2 h at most; new connections use 2001:db8:4603:1::/64",
    ],
  },
];

for (const k of KINDS) {
  describe.skipIf(!root)(`lab on ${k.site}.yaml`, () => {
    const name = `k${k.site.replace(/-/g, "").slice(0, 6)}${tag}`;
    let state: LabState;
    let results: CheckResult[] = [];
    beforeAll(async () => {
      ({ state } = await labUp({ name, siteFile: join(REPO, "lab/sites", `${k.site}.yaml`) }));
    }, 120_000);
    afterAll(async () => {
      await labDown(name).catch(() => {});
      expect((await run(["ip", "netns", "list"])).stdout).not.toContain(`r6-${name}-`);
      expect(existsSync("/etc/netns") ? readdirSync("/etc/netns").filter((d) => d.startsWith(`r6-${name}-`)) : []).toEqual([]);
      expect(existsSync(labDir(name))).toBe(false);
    }, 60_000);

    it("inet emulates the provider's kind; the VPS's NIC holds its own address per kind", async () => {
      expect((await nsRun(state, "inet", ["ip", "-6", "route", "show", state.plan!.prefix])).stdout).toMatch(k.inetRoute);
      expect((await nsRun(state, "vps", ["ip", "-6", "-o", "addr", "show", "dev", state.plan!.vps.nic])).stdout).toContain(` ${k.vpsNic} `);
      // The internet host is a namespace behind inet, not an address of inet.
      expect((await nsRun(state, "inet", ["ip", "-6", "-o", "addr", "show", "dev", "lo"])).stdout).not.toContain(state.addresses!.internetHost);
      expect((await nsRun(state, "host", ["ip", "-6", "-o", "addr", "show", "dev", "eth0"])).stdout).toContain(state.addresses!.internetHost);
    });

    it("every `lab test` item passes, the kind's negative controls included", async () => {
      results = await labTest(name);
      const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
      expect(failed).toEqual([]);
      const names = results.map((r) => r.name);
      for (const want of k.items) expect(names).toContain(want);
      // The /48 trap has no meaning on a /64 site: its AllowedIPs already hold the prefix.
      expect(names).not.toContain("negative case: AllowedIPs = the whole prefix loses the return traffic");
    }, 400_000);
  });
}
