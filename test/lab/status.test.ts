// relay6 status and the VPS's own check (vps.alerts) against the lab, for real: the lab's
// VPS runs bird, wireguard-go and vnstatd (its database in a temporary directory, counting
// the VPS's NIC eth0). `relay6 status` reads it over SSH (one round trip) with the router's
// view beside it; the rendered relay6-status runs in the VPS's namespace as the timer's
// .service would start it (PID 1 is not systemd here), writes its event log and a
// node-exporter textfile that promtool accepts; the units pass systemd-analyze verify.
// Blocking the tunnel fails the same checks in both, once; unblocking brings them back,
// each change logged.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { labDown } from "../../src/lab/down.js";
import { sleep, waitFor } from "../../src/lab/exec.js";
import { frrDir } from "../../src/lab/daemons.js";
import { nsOf, nsRun } from "../../src/lab/nodes.js";
import type { LabState } from "../../src/lab/state.js";
import { INTERNET_HOST } from "../../src/lab/topology.js";
import { bundledSite, labSecretsFile, labUp } from "../../src/lab/up.js";
import { parseEvents } from "../../src/status/status.js";
import { REPO, renderFile, tmp } from "../helpers.js";

const root = process.getuid?.() === 0;
const NAME = `s${(process.pid % 100000).toString(36)}`;
const work = tmp("relay6-lab-status-");
const alertsOut = join(work, "alerts.txt");
let state: LabState;

/** The bundled lab site with a transfer quota and vps.alerts; `monthlyGB` as given. */
function siteWith(monthlyGB: number, file: string): string {
  const doc = parse(readFileSync(bundledSite(), "utf8")) as Record<string, Record<string, unknown>>;
  doc.vps = { ...doc.vps, transfer: { monthlyGB, resetDay: 1, counts: "out" }, alerts: { every: 30, onFailure: `cat >> ${alertsOut}` } };
  writeFileSync(file, stringify(doc));
  return file;
}
const SITE = join(work, "lab.yaml");
const TINY = join(work, "tiny.yaml");

function relay6(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("ip", ["netns", "exec", nsOf(state, "inet"), process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, HOME: state.dir, SSH_AUTH_SOCK: "", NO_COLOR: "" },
    timeout: 120_000,
  });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}
const vpsArgs = () => ["--vps-host", state.addresses!.vpsUnderlay, "-i", join(state.dir, "ssh/id_ed25519"), "--known-hosts", join(state.dir, "known_hosts"), "--accept-new-host-key", "--secrets", labSecretsFile(state)];
const routerArgs = () => ["--router-ssh", state.addresses!.routerUnderlay, "--vtysh-args", `--vty_socket ${frrDir(state)}`];

const statusDir = join(work, "vps-state");
const promDir = join(work, "textfile");
const script = () => join(state.dir, "artifacts/vps/files/usr/local/sbin/relay6-status");

/** The .service's ExecStart, run by hand in the VPS's namespace (the rendered copy of the
 *  script stands where the unit names /usr/local/sbin/relay6-status). */
async function execStart(scriptPath = script()): Promise<{ code: number; out: string }> {
  const unit = readFileSync(join(state.dir, "artifacts/vps/files/etc/systemd/system/relay6-status.service"), "utf8");
  const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.replace("/usr/local/sbin/relay6-status", scriptPath);
  const r = await nsRun(state, "vps", ["bash", "-c", exec], { env: { RELAY6_STATUS_DIR: statusDir, RELAY6_PROM_FILE: join(promDir, "relay6.prom"), INVOCATION_ID: "test" } });
  return { code: r.code, out: r.stdout + r.stderr };
}

const vps = (cmd: string) => nsRun(state, "vps", ["bash", "-c", cmd]);
const failed = (lines: string) => lines.split("\n").flatMap((l) => /FAIL (\S+):/.exec(l)?.[1] ?? []).sort();

async function block(on: boolean): Promise<void> {
  const port = String(state.plan!.wireguard.port);
  for (const r of [["INPUT", "-p", "udp", "--dport", port, "-j", "DROP"], ["OUTPUT", "-p", "udp", "--sport", port, "-j", "DROP"]])
    if (on) await vps(`iptables -I ${r.join(" ")}`);
    else while ((await vps(`iptables -D ${r.join(" ")}`)).code === 0);
}
const bfd = async () => (await vps("birdc show bfd sessions")).stdout;

describe.skipIf(!root)("relay6 status and the VPS's check, in the lab", () => {
  beforeAll(async () => {
    siteWith(1000, SITE);
    siteWith(0.000001, TINY); // 1,000 bytes: any traffic passes alertPercent
    mkdirSync(promDir, { recursive: true });
    // vnstat in the VPS's namespace: its config shown there as /etc/vnstat.conf, its
    // database here (written before the lab starts: `ip netns exec` binds it from then on).
    const conf = `/etc/netns/r6-${NAME}-vps`;
    mkdirSync(conf, { recursive: true });
    mkdirSync(join(work, "vnstat"), { recursive: true });
    writeFileSync(join(conf, "vnstat.conf"), `DatabaseDir "${join(work, "vnstat")}"\nUseLogging 0\nUpdateInterval 2\nPollInterval 2\nSaveInterval 1\nPidFile "${join(work, "vnstatd.pid")}"\n`);
    ({ state } = await labUp({ name: NAME, siteFile: SITE, ssh: true }));
    expect((await vps("vnstatd --initdb && vnstat --add -i eth0")).code).toBe(0);
    expect((await vps("vnstatd -d")).code).toBe(0);
    await sleep(3000);
    // Traffic across the VPS's NIC: a LAN client to the internet host, through the tunnel.
    await nsRun(state, "c1", ["ping", "-6", "-c", "50", "-i", "0.02", "-s", "1000", INTERNET_HOST]);
    await sleep(5000);
    // vnstatd writes its database on the way out: the count is then fixed for the test.
    await vps(`kill -TERM $(cat ${join(work, "vnstatd.pid")})`);
    await waitFor("vnstatd to save", async () => ((await vps("vnstat --json d -i eth0")).stdout.includes('"tx":') ? true : undefined), 10_000, 200);
  }, 180_000);

  afterAll(async () => {
    await labDown(NAME).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("status over SSH: every site check and the router's view pass; the transfer is vnstat's", async () => {
    const r = relay6("status", SITE, ...vpsArgs(), ...routerArgs(), "--json");
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const j = JSON.parse(r.stdout) as { checks: { check: string; status: string }[]; router: { findings: { check: string; status: string }[] }; vps: { transfer: { countedBytes: number; periodStart: string }; sites: { peer: { rxBytes: number } }[] }; failed: string[] };
    expect(j.failed).toEqual([]);
    expect(j.checks.map((c) => c.check)).toEqual(["vps.wg0", "vps.bird", "lab.tunnel", "lab.bgp", "lab.bfd", "vps.transfer"]);
    expect(j.router.findings.map((f) => f.check)).toEqual(expect.arrayContaining(["router.handshake", "router.bgp", "router.bfd", "router.default-route"]));
    expect(j.router.findings.every((f) => f.status === "pass")).toBe(true);
    expect(j.vps.sites[0]!.peer.rxBytes).toBeGreaterThan(50 * 1000);
    const vn = JSON.parse((await vps("vnstat --json d -i eth0")).stdout) as { interfaces: { traffic: { day: { tx: number }[] } }[] };
    const tx = vn.interfaces[0]!.traffic.day.reduce((s, d) => s + d.tx, 0);
    expect(tx).toBeGreaterThan(50 * 1000); // 50 echo replies of 1 kB left the NIC
    expect(j.vps.transfer.countedBytes).toBe(tx);
    expect(relay6("status", SITE, ...vpsArgs(), "--check").stdout).toBe("");
    const text = relay6("status", SITE, ...vpsArgs(), ...routerArgs());
    expect(text.stdout).toContain("site lab (bgp-bfd, 2001:db8:4600::2)");
    expect(text.stdout).toContain("the router's view:");
    expect(text.stdout).toContain("all checks pass");
  }, 60_000);

  it("--watch on a pipe prints a new block each time, no ANSI", () => {
    const r = relay6("status", SITE, ...vpsArgs(), "--watch", "--interval", "1", "--count", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^--- \d{4}-\d\d-\d\dT/gm)).toHaveLength(2);
    expect(r.stdout).not.toMatch(/\u001b/);
  }, 60_000);

  it("the rendered check on the VPS: passes, writes a textfile promtool accepts; the units verify", async () => {
    const r = await execStart();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toBe("");
    const prom = readFileSync(join(promDir, "relay6.prom"), "utf8");
    const check = spawnSync("promtool", ["check", "metrics"], { input: prom, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr + prom).toBe(0);
    expect(check.stdout + check.stderr).toBe("");
    expect(prom).toContain('relay6_site_tunnel_up{relay="lab",site="lab"} 1');
    expect(prom).toContain('relay6_site_bgp_up{relay="lab",site="lab"} 1');
    expect(prom).toContain('relay6_site_bfd_up{relay="lab",site="lab"} 1');
    expect(prom).toContain('relay6_check_failures{relay="lab"} 0');
    const vn = JSON.parse((await vps("vnstat --json d -i eth0")).stdout) as { interfaces: { traffic: { day: { tx: number }[] } }[] };
    expect(prom).toContain(`relay6_transfer_counted_bytes{relay="lab"} ${vn.interfaces[0]!.traffic.day.reduce((s, d) => s + d.tx, 0)}`);
    expect(existsSync(join(promDir, `relay6.prom.tmp`))).toBe(false);

    // systemd-analyze verify, against a root holding systemd's own units and these.
    const sd = join(work, "sdroot");
    mkdirSync(join(sd, "etc/systemd/system"), { recursive: true });
    mkdirSync(join(sd, "usr/local/sbin"), { recursive: true });
    cpSync("/lib/systemd/system", join(sd, "lib/systemd/system"), { recursive: true });
    for (const u of ["relay6-status.service", "relay6-status.timer"]) cpSync(join(state.dir, "artifacts/vps/files/etc/systemd/system", u), join(sd, "etc/systemd/system", u));
    cpSync(script(), join(sd, "usr/local/sbin/relay6-status"));
    const v = spawnSync("systemd-analyze", ["verify", `--root=${sd}`, "/etc/systemd/system/relay6-status.service", "/etc/systemd/system/relay6-status.timer"], { encoding: "utf8" });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout + v.stderr).toBe("");
  }, 60_000);

  it("the tunnel blocked: status --check and the VPS's check fail the same checks; onFailure runs once; events logged", async () => {
    await block(true);
    try {
      await waitFor("BFD down on the VPS", async () => (/\sDown\s/.test(await bfd()) ? true : undefined), 15_000, 100);
      const s = relay6("status", SITE, ...vpsArgs(), "--check");
      expect(s.code).toBe(1);
      expect(failed(s.stdout)).toEqual(["lab.bfd", "lab.bgp"]);
      const r = await execStart();
      expect(r.code).toBe(1);
      expect(failed(r.out)).toEqual(failed(s.stdout));
      expect(r.out.split("\n").filter(Boolean).every((l) => l.startsWith("<3>FAIL "))).toBe(true); // journal priority err
      expect(readFileSync(alertsOut, "utf8").split("\n").filter(Boolean).map((l) => l.split(":")[0]).sort()).toEqual(["lab.bfd", "lab.bgp"]);
      const again = await execStart();
      expect(again.code).toBe(1);
      expect(readFileSync(alertsOut, "utf8").split("\n").filter(Boolean)).toHaveLength(2); // the same failures: not run again
      const prom = readFileSync(join(promDir, "relay6.prom"), "utf8");
      expect(prom).toContain('relay6_site_bfd_up{relay="lab",site="lab"} 0');
      expect(prom).toContain('relay6_check_failures{relay="lab"} 2');
      const events = readFileSync(join(statusDir, "events.log"), "utf8");
      expect(events).toMatch(/^\d+ lab bgp Established (Connect|Active|Idle)$/m);
      expect(events).toMatch(/^\d+ lab bfd Up Down$/m);
      // Logged at bird's own time of the change, not at the check's.
      const since = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)/.exec((await bfd()).split("\n").find((l) => l.includes("Down"))!)![1]!;
      expect(/^(\d+) lab bfd Up Down$/m.exec(events)![1]).toBe(spawnSync("date", ["-d", since, "+%s"], { encoding: "utf8" }).stdout.trim());
    } finally {
      await block(false);
    }
    await waitFor("BFD up again", async () => (/\sUp\s/.test(await bfd()) ? true : undefined), 20_000, 100);
    await waitFor("BGP again", async () => ((await vps("birdc show protocols router_lab")).stdout.includes("Established") ? true : undefined), 20_000, 100);
    const ok = await execStart();
    expect(ok.code, ok.out).toBe(0);
    const events = readFileSync(join(statusDir, "events.log"), "utf8");
    expect(events).toMatch(/^\d+ lab bfd Down Up$/m);
    expect(events).toMatch(/^\d+ lab bgp (Connect|Active|Idle) Established$/m);
    // What status reads from the log is what the check wrote (the test keeps the log out of
    // the host's /var/lib/relay6: status's own reading of it is in test/status.test.ts).
    const seen = parseEvents(events).map((e) => `${e.site} ${e.what} ${e.from} ${e.to}`);
    expect(seen).toEqual(expect.arrayContaining(["lab bfd Up Down", "lab bfd Down Up"]));
    expect(seen.some((x) => /^lab bgp Established \S+$/.test(x)) && seen.some((x) => /^lab bgp \S+ Established$/.test(x))).toBe(true);
    expect(parseEvents(events)).toHaveLength(events.trim().split("\n").length);
  }, 90_000);

  it("a quota past alertPercent fails vps.transfer in both", async () => {
    const s = relay6("status", TINY, ...vpsArgs(), "--check");
    expect(s.code).toBe(1);
    expect(failed(s.stdout)).toEqual(["vps.transfer"]);
    const tiny = renderFile(TINY).artifacts.find((a) => a.path === "vps/files/usr/local/sbin/relay6-status")!;
    writeFileSync(join(work, "tiny.sh"), tiny.content, { mode: 0o755 });
    expect(tiny.content).toMatch(/^quota=1000$/m);
    const r = await execStart(join(work, "tiny.sh"));
    expect(r.code).toBe(1);
    expect(failed(r.out)).toEqual(["vps.transfer"]);
  }, 60_000);
});
