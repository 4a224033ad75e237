// vps/setup.sh's rollback and vps/undo.sh, run for real on a namespace VPS that has its
// own copy of every path they write (NetnsHost: a private mount namespace). A failure is
// injected at each step, through shims in front of PATH that make one real command fail
// where it stands in the script; the host's whole state (files with modes and owners,
// ufw's status and rules, the live iptables rules, wg0, routes, bird, sysctl, daemons)
// must then be exactly what it was before the run. undo.sh must bring the host back to
// its state before the first install.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifacts } from "../src/io/write.js";
import { failureShims, hostState, VPS_PATHS } from "./host-state.js";
import { renderFile, REPO, tmp } from "./helpers.js";
import { NetnsHost } from "./netns-host.js";

const root = process.getuid?.() === 0;
const host = new NetnsHost(`r6t-rb-${process.pid}`);
const work = tmp("relay6-rollback-");
const SITE = readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8");
// The update: a new segment with an inbound service, and other BFD timers (bird.conf changes).
const GROWN = SITE.replace("failover:\n  mode: bgp-bfd", "  - { name: lab, index: 0x12, interface: vlan12, inbound: [{ name: web, proto: tcp, port: 443 }] }\nfailover:\n  mode: bgp-bfd\n  bfd: { intervalMs: 300 }");
const SHIMMED = ["install", "mv", "sysctl", "ufw", "wg-quick", "wg", "bird", "birdc", "ip", "dpkg-query", "apt-get", "rm", "cp"];

function render(text: string, name: string): string {
  const site = join(work, `${name}.yaml`);
  writeFileSync(site, text);
  const out = join(work, name);
  const r = renderFile(site);
  writeArtifacts(out, r.artifacts, { sites: [{ site: r.plan.site }] });
  return out;
}

let shims = "";
/** Runs a rendered script on the host, failing every command that matches `fail`. */
async function runScript(script: string, fail?: string) {
  const log = join(work, "fired");
  rmSync(log, { force: true });
  const r = await host.run(`bash ${script}`, { PATH: `${shims}:${process.env.PATH}`, ...(fail ? { RELAY6_FAIL: fail, RELAY6_FAIL_LOG: log } : {}) });
  let fired = "";
  try {
    fired = readFileSync(log, "utf8");
  } catch {
    /* nothing fired */
  }
  return { ...r, fired };
}

const state = () => hostState(host, VPS_PATHS);

describe.skipIf(!root)("vps/setup.sh rollback and vps/undo.sh (namespace VPS with its own paths)", () => {
  let bare = "";
  let installed = "";
  let out1 = "";
  let out2 = "";

  beforeAll(async () => {
    host.create();
    // No duplicate address detection: link-local addresses are final at once (else they
    // appear in the state a moment later).
    host.sh("sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    execFileSync("ip", ["-n", host.ns, "link", "add", "enp3s0", "type", "veth", "peer", "name", "up0"]);
    for (const d of ["enp3s0", "up0"]) execFileSync("ip", ["-n", host.ns, "link", "set", d, "up"]);
    execFileSync("ip", ["-n", host.ns, "addr", "add", "2401:4520:110b::a/48", "dev", "enp3s0", "nodad"]);
    execFileSync("ip", ["-n", host.ns, "route", "add", "default", "dev", "enp3s0"]);
    // The user's own rule, from before relay6: relay6 must neither re-tag nor remove it.
    expect(host.sh("ufw allow 22/tcp").code).toBe(0);
    shims = failureShims(join(work, "shims"), SHIMMED);
    out1 = render(SITE, "home");
    out2 = render(GROWN, "grown");
    bare = await state();
  });

  afterAll(() => {
    host.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  // A first install on a bare VPS (ufw inactive, no wg0, bird not running): each step fails once.
  const firstInstall: [string, string][] = [
    ["packages", "dpkg-query * ufw ;; apt-get update *"],
    ["the key", "install * /etc/wireguard/wg0.key.relay6-new"],
    ["the first file", "install * /etc/wireguard/wg0.conf.relay6-new"],
    ["a file's rename", "mv -f /etc/wireguard/relay6-hook.sh.relay6-new *"],
    ["the last file (its directory is new)", "install * /etc/systemd/system/bird.service.d/relay6-restart.conf.relay6-new"],
    ["sysctl", "sysctl -q -p /etc/sysctl.d/99-relay6.conf"],
    ["a ufw rule after the SSH rule", "ufw allow in on wg0 from * port 179 *"],
    ["ufw's default", "ufw default deny routed"],
    ["ufw --force enable", "ufw --force enable"],
    ["wg-quick up", "wg-quick up wg0"],
    ["bird, after wg0 came up", "bird -c /etc/bird/bird.conf"],
  ];
  for (const [step, pattern] of firstInstall)
    it(`first install, failure at ${step}: the host is exactly as before`, async () => {
      // ufw's package default is already deny routed: make that step happen.
      if (step === "ufw's default") host.sh(`sed -i 's/^DEFAULT_FORWARD_POLICY=.*/DEFAULT_FORWARD_POLICY="ACCEPT"/' /etc/default/ufw`);
      const before = step === "ufw's default" ? (await state()) : bare;
      const r = await runScript(`${out1}/vps/setup.sh`, pattern);
      expect(r.fired, r.out).not.toBe("");
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain("FAILED");
      expect(r.out).toContain("rolled back: this host is as it was before the run");
      expect(await state()).toEqual(before);
      if (step === "ufw's default") host.sh(`sed -i 's/^DEFAULT_FORWARD_POLICY=.*/DEFAULT_FORWARD_POLICY="DROP"/' /etc/default/ufw`);
    }, 60_000);

  it("the first install, unhindered: up, and the user's ufw rule kept as it is", async () => {
    expect(await state()).toEqual(bare);
    const r = await runScript(`${out1}/vps/setup.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("[relay6] kept as it is (not relay6's): ufw allow 22/tcp");
    installed = await state();
    expect(installed).toContain("Status: active");
    expect(installed).toMatch(/^ufw allow 22\/tcp$/m); // no relay6 comment on the user's rule
    expect(installed).toMatch(/^wg0 UNKNOWN|wg0: <POINTOPOINT/m);
    expect(installed).toMatch(/BIRD [\d.]+ ready/);
  }, 60_000);

  // An update of the running VPS (ufw active, wg0 up, bird running): each step fails once.
  const update: [string, string][] = [
    ["bird.conf's rename, after wg0.conf was replaced", "mv -f /etc/bird/bird.conf.relay6-new *"],
    ["sysctl", "sysctl -q -p /etc/sysctl.d/99-relay6.conf"],
    ["the inbound rule, after the new segment's rule went live", "ufw route allow in on enp3s0 out on wg0 to * port 443 proto tcp *"],
    ["a route, after wg syncconf", "ip -6 route replace 2401:4520:110b:12::/64 dev wg0"],
    ["birdc configure, after wg0 changed", "birdc configure"],
  ];
  for (const [step, pattern] of update)
    it(`update, failure at ${step}: the host is exactly as after the install`, async () => {
      const r = await runScript(`${out2}/vps/setup.sh`, pattern);
      expect(r.fired, r.out).not.toBe("");
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain("rolled back: this host is as it was before the run");
      expect(await state()).toEqual(installed);
    }, 60_000);

  it("a restore that fails is reported, the others still happen, and the run fails", async () => {
    // bird refuses the new config; restoring wg0.conf fails (cp), everything else comes back.
    const r = await runScript(`${out2}/vps/setup.sh`, "birdc configure ;; cp -a -- */files/etc/wireguard/wg0.conf /etc/wireguard/wg0.conf.relay6-restore");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("ROLLBACK: could not restore /etc/wireguard/wg0.conf");
    expect(r.out).toContain("ROLLBACK INCOMPLETE: 1 thing(s) could not be put back");
    expect(r.out).toMatch(/restored \/etc\/bird\/bird\.conf/);
    const kept = /the copies saved before this run are kept in (\S+)/.exec(r.out)![1]!;
    expect(readFileSync(host.path(`${kept}/files/etc/wireguard/wg0.conf`), "utf8")).toBe(readFileSync(join(out1, "vps/files/etc/wireguard/wg0.conf"), "utf8"));
    // The copy is there to put back by hand; the old setup.sh then converges the rest.
    expect(host.sh(`cp -a ${kept}/files/etc/wireguard/wg0.conf /etc/wireguard/wg0.conf && rm -rf ${kept}`).code).toBe(0);
    expect((await runScript(`${out1}/vps/setup.sh`)).code).toBe(0);
    expect(await state()).toEqual(installed);
  }, 60_000);

  it("undo.sh: the host as before the first install; the user's rule stays; a second run is a no-op", async () => {
    const grown = await runScript(`${out2}/vps/setup.sh`);
    expect(grown.code, grown.out).toBe(0);
    const r = await runScript(`${out2}/vps/undo.sh`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("[#] wg-quick down wg0");
    expect(r.out).toContain("[#] ufw --force disable");
    expect(r.out).toMatch(/\[#\] ufw delete allow 51820\/udp/);
    expect(r.out).toContain("undone: relay6's files, rules, units and routes are gone");
    expect(await state()).toEqual(bare);
    const again = await runScript(`${out2}/vps/undo.sh`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("nothing to undo");
    expect(await state()).toEqual(bare);
  }, 90_000);

  it("undo.sh that cannot put something back: exit 1 naming it; run again once fixed, and all is back", async () => {
    expect((await runScript(`${out1}/vps/setup.sh`)).code).toBe(0);
    const r = await runScript(`${out1}/vps/undo.sh`, "rm -f -- /etc/sysctl.d/99-relay6.conf");
    expect(r.code).toBe(1);
    expect(r.out).toContain("could not remove /etc/sysctl.d/99-relay6.conf");
    expect(r.out).toContain("UNDO INCOMPLETE: 1 thing(s) could not be put back");
    const again = await runScript(`${out1}/vps/undo.sh`);
    expect(again.code, again.out).toBe(0);
    expect(await state()).toEqual(bare);
  }, 90_000);
});
