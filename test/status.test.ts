// relay6 status without root: bird's and WireGuard's output as recorded from the lab's VPS
// (test/fixtures/status/lab-*: the tunnel up, then blocked), vnstat's JSON as vnstat 2.10
// printed it (record-vnstat.sh), the checks --check fails on, the text and the terminal
// rules, and the VPS-side read script run by bash against stand-ins for wg, birdc and vnstat
// (the VPS's private key never leaves it).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify, parse } from "yaml";
import { terminalOf, REDRAW } from "../src/cli/commands/status.js";
import { analyseInput, loadInput } from "../src/pipeline.js";
import type { RelayPlan } from "../src/plan/relay.js";
import { birdTime, parseBfdSessions, parseBirdProtocols } from "../src/status/bird.js";
import { failureLines, formatStatus, parseEvents, statusChecks, type VpsView } from "../src/status/status.js";
import { transferFromVnstat } from "../src/status/vnstat.js";
import { statusScript, statusView } from "../src/targets/vps/verify.js";
import { parseSections, SECTION_MARK } from "../src/verify/findings.js";
import { periodStart } from "../src/plan/quota.js";
import { REPO, renderFile, runCli, tmp } from "./helpers.js";

const FIX = join(REPO, "test/fixtures/status");
const fixture = (name: string) => readFileSync(join(FIX, name), "utf8");
const work = tmp("relay6-status-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The bundled lab site (the fixtures' source), optionally with vps.transfer. */
function labRelay(extra: Record<string, unknown> = {}): RelayPlan {
  const doc = parse(readFileSync(join(REPO, "lab/sites/lab.yaml"), "utf8")) as Record<string, Record<string, unknown>>;
  const file = join(work, `lab-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify({ ...doc, vps: { ...doc.vps, ...extra } }));
  const { relay } = analyseInput(loadInput(file));
  return relay!;
}

/** What statusScript prints on the VPS, section by section (body, exit status). */
function output(sections: Record<string, [string, number]>): string {
  return Object.entries(sections)
    .map(([name, [body, rc]]) => `${SECTION_MARK}${name}\n${body.replace(/\n$/, "")}\nrc=${rc}`)
    .join("\n");
}

function recorded(state: "up" | "down", more: Record<string, [string, number]> = {}): Record<string, [string, number]> {
  const [now, tz] = fixture(`lab-${state}.date.txt`).trim().split("\n");
  return {
    now: [now!, 0],
    tz: [tz!, 0],
    today: ["2026-12-01", 0],
    "wg-dump": [fixture(`lab-${state}.wg-dump.txt`), 0],
    protocols: [fixture(`lab-${state}.protocols-all.txt`), 0],
    bfd: [fixture(`lab-${state}.bfd-sessions.txt`), 0],
    events: ["absent", 0],
    ...more,
  };
}

const view = (relay: RelayPlan, s: Record<string, [string, number]>) => statusView(relay, parseSections(output(s)));
const byName = (relay: RelayPlan, v: VpsView) => new Map(statusChecks(relay, v).map((f) => [f.check, f]));

describe("bird's output", () => {
  it("times are the VPS's local time, with its offset", () => {
    expect(birdTime("2026-12-01 18:51:59.080", "+0000")).toBe(Date.UTC(2026, 11, 1, 18, 51, 59, 80) / 1000);
    expect(birdTime("2026-12-01 18:51:59.080", "+0530")).toBe(Date.UTC(2026, 11, 1, 13, 21, 59, 80) / 1000);
    expect(birdTime("18:51:59.080", "+0000")).toBeUndefined(); // another timeformat: no date
  });

  it("protocols: state, when it changed, BGP's state and last error", () => {
    const up = parseBirdProtocols(fixture("lab-up.protocols-all.txt"), "+0000").get("router_lab")!;
    expect(up).toMatchObject({ proto: "BGP", state: "up", bgpState: "Established", neighbor: "2001:db8:4600::2", since: Date.UTC(2026, 11, 1, 18, 51, 59, 80) / 1000 });
    const down = parseBirdProtocols(fixture("lab-down.protocols-all.txt"), "+0000").get("router_lab")!;
    expect(down).toMatchObject({ state: "start", bgpState: "Connect", lastError: "Error: BFD session down", since: Date.UTC(2026, 11, 1, 18, 52, 4, 385) / 1000 });
    expect(parseBirdProtocols(fixture("lab-up.protocols-all.txt"), "+0000").get("kernel6")?.state).toBe("up");
  });

  it("BFD sessions", () => {
    expect(parseBfdSessions(fixture("lab-up.bfd-sessions.txt"), "+0000")).toEqual([{ address: "2001:db8:4600::2", iface: "wg0", state: "Up", since: Date.UTC(2026, 11, 1, 18, 52, 0, 705) / 1000, interval: 0.2, timeout: 0.6 }]);
    expect(parseBfdSessions(fixture("lab-down.bfd-sessions.txt"), "+0000")[0]).toMatchObject({ state: "Down", interval: 0.1, timeout: 0 });
  });
});

describe("what the VPS sees, and what --check fails on", () => {
  const relay = labRelay();

  it("the tunnel up: every check passes; the peer's handshake, transfer and endpoint", () => {
    const v = view(relay, recorded("up"));
    expect(v.sites[0]!.peer).toEqual({ endpoint: "100.64.0.2:33420", latestHandshake: 1796151119, rxBytes: 3908, txBytes: 3996 });
    const c = byName(relay, v);
    expect([...c.values()].filter((f) => f.status !== "pass")).toEqual([]);
    expect(c.get("lab.tunnel")?.detail).toBe("handshake 4 s ago from 100.64.0.2:33420");
    expect(c.get("lab.bgp")?.detail).toBe("BGP Established for 4 s");
    expect(c.get("lab.bfd")?.detail).toBe("BFD Up for 2 s, 200 ms, timeout 600 ms");
    expect(failureLines(statusChecks(relay, v))).toEqual([]);
  });

  it("the tunnel blocked: BGP and BFD fail, one line each, with bird's own reason", () => {
    const v = view(relay, recorded("down"));
    expect(failureLines(statusChecks(relay, v))).toEqual(["FAIL lab.bgp: BGP Connect for 3 s (Error: BFD session down)", "FAIL lab.bfd: BFD Down for 3 s"]);
  });

  it("a stale handshake fails the tunnel; no peer for the site's transit address fails it too", () => {
    const stale = view(relay, recorded("up", { now: ["1796151400", 0] }));
    expect(byName(relay, stale).get("lab.tunnel")).toMatchObject({ status: "fail", detail: "no handshake for 5 min (more than 180 s)", fault: "tunnel-down" });
    const other = fixture("lab-up.wg-dump.txt").replace("2001:db8:4600::2/128,", "");
    expect(byName(relay, view(relay, recorded("up", { "wg-dump": [other, 0] }))).get("lab.tunnel")).toMatchObject({ status: "fail", detail: "wg0 has no peer for 2001:db8:4600::2" });
  });

  it("wg0 down and bird down are one failure each, not one per site", () => {
    const v = view(relay, recorded("up", { "wg-dump": ["Unable to access interface: No such device", 1], protocols: ["Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory", 1] }));
    expect(failureLines(statusChecks(relay, v))).toEqual(["FAIL vps.wg0: wg0 is not up on the VPS", "FAIL vps.bird: bird does not answer on its control socket"]);
  });

  it("the event log: each site's lines, shown newest last; without one, bird's last change", () => {
    const log = "present\n1796151124.385 lab bfd Up Down\n1796151124 other bfd Up Down\nnot a line\n1796151130 lab bgp Connect Established";
    const v = view(relay, recorded("up", { events: [log, 0] }));
    expect(v.sites[0]!.events).toEqual([
      { at: 1796151124.385, site: "lab", what: "bfd", from: "Up", to: "Down" },
      { at: 1796151130, site: "lab", what: "bgp", from: "Connect", to: "Established" },
    ]);
    const text = formatStatus(relay, v, statusChecks(relay, v), undefined, { color: false });
    expect(text).toContain("last events:\n         2026-12-01 18:52:04  bfd Up → Down\n         2026-12-01 18:52:10  bgp Connect → Established");
    const none = view(relay, recorded("up"));
    expect(formatStatus(relay, none, statusChecks(relay, none), undefined, { color: false })).toContain("no event log on the VPS (vps.alerts installs the check that keeps one); last BGP/BFD change 2026-12-01 18:52:00 (2 s ago)");
    expect(parseEvents("1 a tunnel up down\n2 a reboot x y")).toHaveLength(1);
  });
});

describe("this period's transfer, from vnstat", () => {
  it("sums the days since the reset day in the direction the provider counts", () => {
    // Oracle: jq over the same file, days 2026-11-15 .. 2026-12-01.
    expect(transferFromVnstat(fixture("vnstat-full.json"), "enp3s0", "2026-12-01", 15, "out")).toEqual({ periodStart: "2026-11-15", rxBytes: 66_000_000_595, txBytes: 104_000_000_595, countedBytes: 104_000_000_595, daysElapsed: 17, periodDays: 30 });
    const io = transferFromVnstat(fixture("vnstat-full.json"), "enp3s0", "2026-12-01", 15, "in+out");
    expect("error" in io ? io.error : io.countedBytes).toBe(170_000_001_190);
    const young = transferFromVnstat(fixture("vnstat-young.json"), "enp3s0", "2026-12-01", 1, "out");
    expect(young).toMatchObject({ periodStart: "2026-12-01", countedBytes: 6_000_000_012, daysElapsed: 1, periodDays: 31 });
    expect(transferFromVnstat(fixture("vnstat-young.json"), "enp3s0", "2026-12-01", 15, "out")).toMatchObject({ countingSince: "2026-11-20", countedBytes: 70_000_000_078 });
  });

  it("says what is wrong instead of counting 0", () => {
    expect(transferFromVnstat(fixture("vnstat-full.json"), "eth0", "2026-12-01", 1, "out")).toEqual({ error: "vnstat does not count eth0 (vnstat --add -i eth0, or let vnstatd add it)" });
    expect(transferFromVnstat(fixture("vnstat-full.json").replace('"jsonversion":"2"', '"jsonversion":"1"'), "enp3s0", "2026-12-01", 1, "out")).toEqual({ error: "vnstat's JSON version 1 (relay6 reads version 2, vnstat 2.x)" });
    expect(transferFromVnstat('Error: Unable to open database "/var/lib/vnstat/vnstat.db"', "enp3s0", "2026-12-01", 1, "out")).toEqual({ error: 'vnstat gave no JSON: Error: Unable to open database "/var/lib/vnstat/vnstat.db"' });
  });

  it("--check fails from alertPercent, warns when the pace would pass the quota", () => {
    const vn = (json: string): Record<string, [string, number]> => ({ vnstat: [json, 0] });
    const at = (gb: number, pct = 90) => labRelay({ nic: "enp3s0", transfer: { monthlyGB: gb, resetDay: 15, counts: "out", alertPercent: pct } });
    const check = (relay: RelayPlan) => byName(relay, view(relay, recorded("up", vn(fixture("vnstat-full.json"))))).get("vps.transfer");
    expect(check(at(1000))).toMatchObject({ status: "pass", detail: "104.0 GB of 1000 GB (10.4 %) counted out since 2026-11-15" });
    // 104 GB in 17 of 30 days: 183.5 GB by the period's end.
    expect(check(at(150))).toMatchObject({ status: "warn", detail: "104.0 GB of 150 GB (69.3 %) counted out since 2026-11-15; at this pace 183.5 GB by the period's end" });
    expect(check(at(110))).toMatchObject({ status: "fail", fault: "quota" });
    expect(check(at(150, 60))).toMatchObject({ status: "fail" });
    const missing = at(1000);
    expect(byName(missing, view(missing, recorded("up", { vnstat: ["bash: vnstat: command not found", 127] }))).get("vps.transfer")).toMatchObject({ status: "fail", detail: "vnstat is not installed on the VPS" });
  });
});

describe("the terminal", () => {
  it("colours only on a terminal without NO_COLOR; redraws only on a terminal that is not dumb", () => {
    expect(terminalOf({}, true)).toEqual({ color: true, redraw: true });
    expect(terminalOf({ NO_COLOR: "1" }, true)).toEqual({ color: false, redraw: true });
    expect(terminalOf({ NO_COLOR: "" }, true)).toEqual({ color: true, redraw: true });
    expect(terminalOf({ TERM: "dumb" }, true)).toEqual({ color: false, redraw: false });
    expect(terminalOf({}, false)).toEqual({ color: false, redraw: false });
    expect(REDRAW).toBe("\u001b[H\u001b[2J");
    const relay = labRelay();
    const v = view(relay, recorded("down"));
    const plain = formatStatus(relay, v, statusChecks(relay, v), undefined, { color: false });
    expect(plain).not.toMatch(/\u001b/);
    expect(plain).toContain("  FAIL bfd     BFD Down for 3 s");
    expect(formatStatus(relay, v, statusChecks(relay, v), undefined, { color: true })).toContain("\u001b[31mFAIL\u001b[0m bfd     BFD Down for 3 s");
  });
});

describe("the VPS-side read script, run by bash", () => {
  it("one round trip; wg0's private key is blanked before it leaves the VPS; exit statuses kept", () => {
    const bin = join(work, "bin");
    mkdirSync(bin, { recursive: true });
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    const dump = fixture("lab-up.wg-dump.txt").replace("(hidden)", "SECRETprivateKEYaaaaaaaaaaaaaaaaaaaaaaaaaaa=");
    writeFileSync(join(work, "dump"), dump);
    stub("wg", `cat ${join(work, "dump")}`);
    stub("birdc", `case "$*" in "show protocols all") cat ${join(FIX, "lab-down.protocols-all.txt")} ;; "show bfd sessions") cat ${join(FIX, "lab-down.bfd-sessions.txt")} ;; esac`);
    stub("vnstat", "echo 'Error: no database' >&2; exit 1");
    const relay = labRelay({ transfer: { monthlyGB: 100, counts: "in+out" } });
    const r = spawnSync("bash", ["-c", statusScript(relay)], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.stdout).not.toContain("SECRET");
    const sec = parseSections(r.stdout);
    expect([...sec.keys()]).toEqual(["now", "tz", "today", "wg-dump", "protocols", "bfd", "vnstat", "events"]);
    const v = statusView(relay, sec);
    expect(v.sites[0]!.peer?.rxBytes).toBe(3908);
    expect(v.transfer).toEqual({ error: "vnstat gave no JSON: Error: no database" });
    expect(failureLines(statusChecks(relay, v)).filter((l) => l.startsWith("FAIL lab.bfd: BFD Down for "))).toHaveLength(1);
    stub("wg", "echo 'Unable to access interface: No such device' >&2; exit 1");
    const down = statusView(relay, parseSections(spawnSync("bash", ["-c", statusScript(relay)], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).stdout));
    expect(down.wg.up).toBe(false);
  });
});

describe("relay6 status --check against a VPS it cannot reach", () => {
  it("prints one failure line and exits 1", async () => {
    const r = await runCli("status", join(REPO, "lab/sites/lab.yaml"), "--check", "--vps-host", "127.0.0.1", "--vps-port", "9", "--known-hosts", join(work, "kh"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL vps: .+\n$/);
  });
});

describe("vps.alerts: what render adds to the VPS", () => {
  const render = (vps: Record<string, unknown>) => {
    const doc = parse(readFileSync(join(REPO, "lab/sites/lab.yaml"), "utf8")) as Record<string, Record<string, unknown>>;
    const file = join(work, `alerts-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify({ ...doc, vps: { ...doc.vps, ...vps } }));
    return new Map(renderFile(file).artifacts.map((a) => [a.path, a]));
  };
  const SCRIPT = "vps/files/usr/local/sbin/relay6-status";

  it("the check, its service and timer only with vps.alerts; setup.sh enables the timer, and vnstat with a quota", () => {
    const without = render({});
    expect([...without.keys()].filter((p) => p.includes("relay6-status"))).toEqual([]);
    expect(without.get("vps/setup.sh")!.content).not.toMatch(/vnstat|relay6-status/);
    const a = render({ alerts: { every: 120 }, transfer: { monthlyGB: 500, counts: "out" } });
    expect(a.get(SCRIPT)!.mode).toBe(0o755);
    expect(a.get("vps/files/etc/systemd/system/relay6-status.service")!.content).toContain("ExecStart=/usr/local/sbin/relay6-status --check");
    expect(a.get("vps/files/etc/systemd/system/relay6-status.timer")!.content).toContain("OnUnitActiveSec=120s");
    const setup = a.get("vps/setup.sh")!.content;
    expect(setup).toContain("for p in wireguard-tools iptables ufw bird2 vnstat jq; do");
    expect(setup).toContain("install_file files/usr/local/sbin/relay6-status /usr/local/sbin/relay6-status 755 root:root none");
    expect(setup).toContain("install_file files/etc/systemd/system/relay6-status.timer /etc/systemd/system/relay6-status.timer 644 root:root unit_changed");
    expect(setup).toContain("run systemctl enable --now relay6-status.timer");
    expect(setup).toContain("run vnstat --add -i eth0");
    expect(spawnSync("bash", ["-n", "-c", a.get(SCRIPT)!.content]).status).toBe(0);
    expect(spawnSync("bash", ["-n", "-c", setup]).status).toBe(0);
    // undo.sh stops the timer before it takes the files away; without alerts it has no step.
    const undo = a.get("vps/undo.sh")!.content;
    expect(undo.indexOf("systemctl disable --now -q relay6-status.timer")).toBeGreaterThan(0);
    expect(undo.indexOf("systemctl disable --now -q relay6-status.timer")).toBeLessThan(undo.indexOf("undo_files\n"));
    expect(without.get("vps/undo.sh")!.content).not.toContain("relay6-status");
  });

  it("onFailure stays one shell word, whatever it holds", () => {
    const hostile = `echo "$HOME" '; touch /tmp/pwned #` + "`id`";
    const s = render({ alerts: { onFailure: hostile } }).get(SCRIPT)!.content;
    const line = s.split("\n").find((l) => l.startsWith("on_failure="))!;
    expect(spawnSync("bash", ["-c", `${line}; printf %s "$on_failure"`], { encoding: "utf8" }).stdout).toBe(hostile);
  });

  it("its period start agrees with relay6's for every reset day", () => {
    for (const day of [1, 15, 28, 29, 30, 31]) {
      const s = render({ alerts: {}, transfer: { monthlyGB: 1, counts: "out", resetDay: day } }).get(SCRIPT)!.content;
      for (const today of ["2026-01-10", "2026-02-28", "2026-03-01", "2026-03-30", "2026-03-31", "2026-12-14", "2026-12-31", "2028-02-29", "2028-03-05"]) {
        const r = spawnSync("bash", ["-c", s, "relay6-status", "--period-start", today], { encoding: "utf8" });
        expect(r.stdout.trim(), `${today} day ${day}`).toBe(periodStart(today, day));
      }
    }
  });
});
