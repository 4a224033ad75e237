// verify's judges, pure, on what the lab's real daemons printed (test/fixtures/verify/,
// recorded by record.ts there: the relay up, bird stopped on the VPS, the router's tunnel
// down). Cases the lab did not record are the recordings with one plan value changed (a
// key, a port, a timer, a segment) or the clock moved on: the judge must notice each.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Plan } from "../src/plan/plan.js";
import { checkLinuxRouter, linuxRouterScript } from "../src/targets/linux/verify.js";
import { checkVps, vpsScript } from "../src/targets/vps/verify.js";
import { parseSections, type Finding } from "../src/verify/findings.js";
import { wgDumpCommand } from "../src/verify/wireguard.js";
import { REPO, soloRelay } from "./helpers.js";

const DIR = join(REPO, "test/fixtures/verify");
const PLAN: Plan = JSON.parse(readFileSync(join(DIR, "plan.json"), "utf8"));
const KEYS: { vpsPublicKey: string; routerPublicKey: string } = JSON.parse(readFileSync(join(DIR, "keys.json"), "utf8"));
/** The router's key as the VPS target's judge takes it: by site. */
const keyOf = (plan: Plan, key: string) => new Map([[plan.site, key]]);
const rec = (name: string) => parseSections(readFileSync(join(DIR, name), "utf8"));
const verdicts = (fs: Finding[]) => Object.fromEntries(fs.map((f) => [f.check, f.fault ? `${f.status} ${f.fault}` : f.status]));
const withPlan = (edit: (p: Plan) => void): Plan => {
  const p = structuredClone(PLAN);
  edit(p);
  return p;
};

describe("the VPS judge (vps/verify.ts) on recorded output", () => {
  it("the relay up: every check passes", () => {
    expect(verdicts(checkVps(soloRelay(PLAN), rec("vps-up.txt"), keyOf(PLAN, KEYS.routerPublicKey)))).toEqual({
      "vps.wg0": "pass",
      "vps.peer-key": "pass",
      "vps.handshake": "pass",
      "vps.allowed-ips": "pass",
      "vps.transit-ping": "pass",
      "vps.route.lan": "pass",
      "vps.route.guest": "pass",
      "vps.forwarding": "pass",
      "vps.bird": "pass",
      "vps.bgp": "pass",
      "vps.bfd": "pass",
      "vps.firewall": "pass",
    });
  });

  it("bird stopped: bird-down, and BGP and BFD are not judged as if bird answered", () => {
    const v = verdicts(checkVps(soloRelay(PLAN), rec("vps-bird-down.txt"), keyOf(PLAN, KEYS.routerPublicKey)));
    expect(v["vps.bird"]).toBe("fail bird-down");
    expect(v["vps.bgp"]).toBeUndefined();
    expect(v["vps.bfd"]).toBeUndefined();
    expect(v["vps.transit-ping"]).toBe("pass");
  });

  it("the router's tunnel down: the transit ping fails (tunnel-down)", () => {
    expect(verdicts(checkVps(soloRelay(PLAN), rec("vps-tunnel-down.txt"), keyOf(PLAN, KEYS.routerPublicKey)))["vps.transit-ping"]).toBe("fail tunnel-down");
  });

  it("another router key, an old handshake, a segment not in AllowedIPs, a closed port, slower BFD", () => {
    const up = rec("vps-up.txt");
    expect(verdicts(checkVps(soloRelay(PLAN), up, keyOf(PLAN, KEYS.vpsPublicKey)))["vps.peer-key"]).toBe("fail wrong-public-key");
    const later = new Map(up);
    later.set("now", `${Number(up.get("now")!.split("\n")[0]) + 600}\nrc=0`);
    expect(verdicts(checkVps(soloRelay(PLAN), later, keyOf(PLAN, KEYS.routerPublicKey)))["vps.handshake"]).toBe("fail tunnel-down");
    const more = withPlan((p) => {
      p.segments.push({ ...p.segments[0]!, name: "iot", prefix: "2001:db8:4600:11::/64", router: { ...p.segments[0]!.router, address: "2001:db8:4600:11::1" } });
      p.vps.allowedIps.push("2001:db8:4600:11::/64");
    });
    const m = verdicts(checkVps(soloRelay(more), up, keyOf(more, KEYS.routerPublicKey)));
    expect(m["vps.allowed-ips"]).toBe("fail allowed-ips-missing-segment");
    expect(m["vps.route.iot"]).toBe("fail allowed-ips-missing-segment");
    expect(verdicts(checkVps(soloRelay(withPlan((p) => void (p.wireguard.port = 51821))), up, keyOf(PLAN, KEYS.routerPublicKey)))["vps.firewall"]).toBe("fail firewall-blocks");
    expect(verdicts(checkVps(soloRelay(withPlan((p) => void (p.failover.mode === "bgp-bfd" && ((p.failover.bfd.intervalMs = 300), (p.failover.bfd.detectMs = 900))))), up, keyOf(PLAN, KEYS.routerPublicKey)))["vps.bfd"]).toBe("warn");
  });
});

describe("the Linux router judge (linux/verify.ts) on recorded output", () => {
  it("the relay up: every check passes", () => {
    expect(verdicts(checkLinuxRouter(PLAN, rec("router-up.txt"), KEYS.vpsPublicKey))).toEqual({
      "router.peer-key": "pass",
      "router.handshake": "pass",
      "router.transit-ping": "pass",
      "router.default-route": "pass",
      "router.bgp": "pass",
      "router.bfd": "pass",
      "router.forwarding": "pass",
      "router.radvd": "pass",
      "router.ra-drain": "pass",
    });
  });

  it("bird stopped on the VPS: BGP not Established, ::/0 gone, BFD down", () => {
    const v = verdicts(checkLinuxRouter(PLAN, rec("router-bgp-down.txt"), KEYS.vpsPublicKey));
    expect([v["router.bgp"], v["router.default-route"], v["router.bfd"]]).toEqual(["fail bgp-down", "fail no-default-route", "fail bfd-down"]);
    // The RA drain did its job: relay6's ::/0 gone, router lifetime 0.
    expect(v["router.ra-drain"]).toBe("pass");
  });

  it("the tunnel down: wg-down and no transit", () => {
    const v = verdicts(checkLinuxRouter(PLAN, rec("router-wg-down.txt"), KEYS.vpsPublicKey));
    expect([v["router.wg"], v["router.transit-ping"]]).toEqual(["fail wg-down", "fail tunnel-down"]);
  });

  it("another VPS key, other BFD timers", () => {
    const up = rec("router-up.txt");
    expect(verdicts(checkLinuxRouter(PLAN, up, KEYS.routerPublicKey))["router.peer-key"]).toBe("fail wrong-public-key");
    expect(verdicts(checkLinuxRouter(withPlan((p) => void (p.failover.mode === "bgp-bfd" && (p.failover.bfd.intervalMs = 300))), up, KEYS.vpsPublicKey))["router.bfd"]).toBe("warn");
  });
});

describe("no private key crosses the connection", () => {
  it("both scripts read `wg show dump` through wgDumpCommand, which hides the key on the host and keeps wg's exit status", () => {
    expect(vpsScript(soloRelay(PLAN))).toContain(wgDumpCommand("wg0"));
    expect(linuxRouterScript(PLAN)).toContain(wgDumpCommand(PLAN.router.tunnelInterface));
    const key = "qBfJp2irt/s2+73RO934hg9LJDTwkZh+GZdzw3KmFk0=";
    const ok = execFileSync("bash", ["-c", `wg() { printf '${key}\\tPUB\\t51820\\toff\\nPEER\\t(none)\\t192.0.2.1:5\\t::/0\\t0\\t0\\t0\\t25\\n'; }\n${wgDumpCommand("wg0")}`], { encoding: "utf8" });
    expect(ok).toBe("(hidden)\tPUB\t51820\toff\nPEER\t(none)\t192.0.2.1:5\t::/0\t0\t0\t0\t25\n");
    const failed = execFileSync("bash", ["-c", `wg() { return 1; }\n${wgDumpCommand("wg0")}; echo "rc=$?"`], { encoding: "utf8" });
    expect(failed).toBe("rc=1\n");
    for (const f of ["vps-up.txt", "router-up.txt"]) expect(rec(f).get("wg-dump")!.split("\t")[0]).toBe("(hidden)");
  });
});
