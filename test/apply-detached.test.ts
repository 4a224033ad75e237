// relay6 apply vps through the real CLI over real SSH, to a namespace VPS whose sshd
// listens on 2222 (the site file says 22):
//   - no lockout: firewall.sh allows the port sshd listens on (sshd -T) and this session's
//     before ufw goes active; a NEW SSH session afterwards (OpenSSH's ssh) runs a command
//   - the run survives the connection: setup.sh runs detached; the server side of the
//     connection is killed mid-run; relay6 reconnects, reattaches, and reports the real
//     exit status, 0 for a run that completed, 1 for one that failed (and rolled back)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureShims, hostState, VPS_PATHS } from "./host-state.js";
import { REPO, tmp } from "./helpers.js";
import { ensureKeys } from "../src/keys/wireguard.js";
import { NetnsHost, waitUntil, withHome } from "./netns-host.js";

const root = process.getuid?.() === 0;
const id = process.pid;
const vps = new NetnsHost(`r6t-dtv-${id}`);
const client = new NetnsHost(`r6t-dtc-${id}`);
const work = tmp("relay6-detached-");
const VPS_ADDR = "192.0.2.1";
const SSH_PORT = 2222;
const key = join(work, "id_ed25519");
const knownHosts = join(work, "known_hosts");
const FAIL_FILE = "/run/relay6-test-fail";
const SITE = readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8");

/** A site file with its keys (apply makes none: `relay6 keys` would). */
function site(name: string, text: string): string {
  const f = join(work, `${name}.yaml`);
  writeFileSync(f, text);
  ensureKeys(join(work, `${name}.secrets.yaml`));
  return f;
}

// `work` is the home directory ssh reads (never the machine's ~/.ssh).
const cli = (...args: string[]) => ["ip", "netns", "exec", client.ns, ...withHome(work, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])];
const env = { ...process.env, SSH_AUTH_SOCK: "" };
const applyArgs = (siteFile: string) => ["apply", "vps", siteFile, "--vps-host", VPS_ADDR, "--vps-port", String(SSH_PORT), "-i", key, "--known-hosts", knownHosts, "--accept-new-host-key"];

/** The CLI as a child process, without blocking the event loop while it runs. */
function relay6(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [c, ...a] = cli(...args);
  const p = spawn(c!, a, { cwd: REPO, env, timeout: 180_000 });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.on("close", (code) => resolve({ code: code ?? 255, stdout, stderr })));
}

/** relay6 apply, with the server side of its SSH connection killed once `when` shows up in
 *  its output (setup.sh is running then). */
async function applyAndDrop(siteFile: string, when: string): Promise<{ code: number; stdout: string; stderr: string; killed: number[] }> {
  const [c, ...a] = cli(...applyArgs(siteFile));
  const p = spawn(c!, a, { cwd: REPO, env });
  let stdout = "";
  let stderr = "";
  let killed: number[] = [];
  p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  p.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (killed.length === 0 && stderr.includes(when)) {
      killed = vps.sshSessionPids();
      for (const pid of killed) process.kill(pid, "SIGKILL");
    }
  });
  const code = await new Promise<number>((res) => p.on("close", (x) => res(x ?? 255)));
  return { code, stdout, stderr, killed };
}

/** A new SSH session with OpenSSH's own client, from the client namespace. */
function newSession(command: string) {
  return spawnSync(
    "ip",
    ["netns", "exec", client.ns, ...withHome(work, ["ssh", "-p", String(SSH_PORT), "-i", key, "-o", `UserKnownHostsFile=${join(work, "known_hosts_openssh")}`, "-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", `root@${VPS_ADDR}`, command])],
    { encoding: "utf8", timeout: 30_000 },
  );
}

describe.skipIf(!root)("apply vps over SSH on port 2222: no lockout, and a run that survives its connection", () => {
  beforeAll(async () => {
    vps.create();
    client.create();
    vps.sh("sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    execFileSync("ip", ["link", "add", `r6d${id}`, "netns", vps.ns, "type", "veth", "peer", "name", `r6e${id}`, "netns", client.ns]);
    execFileSync("ip", ["-n", vps.ns, "link", "set", `r6d${id}`, "name", "enp3s0"]);
    execFileSync("ip", ["-n", vps.ns, "addr", "add", `${VPS_ADDR}/24`, "dev", "enp3s0"]);
    execFileSync("ip", ["-n", vps.ns, "addr", "add", "2401:4520:110b::a/48", "dev", "enp3s0", "nodad"]);
    execFileSync("ip", ["-n", vps.ns, "link", "set", "enp3s0", "up"]);
    execFileSync("ip", ["-n", client.ns, "addr", "add", "192.0.2.2/24", "dev", `r6e${id}`]);
    execFileSync("ip", ["-n", client.ns, "link", "set", `r6e${id}`, "up"]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    // Every SSH session on the VPS runs with failure-injection shims in front of PATH; they
    // do nothing until the test writes a pattern into FAIL_FILE on the VPS.
    const shims = failureShims(join(work, "shims"), ["birdc"]);
    vps.startSshd(VPS_ADDR, readFileSync(`${key}.pub`, "utf8"), SSH_PORT, { PATH: `${shims}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, RELAY6_FAIL_FILE: FAIL_FILE });
    await waitUntil(() => client.sh(`bash -c 'echo > /dev/tcp/${VPS_ADDR}/${SSH_PORT}' 2>/dev/null`).code === 0, 10_000, "sshd");
  }, 30_000);

  afterAll(() => {
    vps.destroy();
    client.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("apply over port 2222 opens 2222 (what sshd -T and the session say), not the site's 22, before ufw goes active; a new session then works", async () => {
    expect(vps.sh("sshd -T | grep -E '^(port|listenaddress) '").stdout).toBe(`port ${SSH_PORT}\nlistenaddress ${VPS_ADDR}:${SSH_PORT}\n`);
    const r = await relay6(...applyArgs(site("home", SITE)));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n");
    const ssh = lines.findIndex((l) => l.includes(`[#] ufw allow ${SSH_PORT}/tcp comment relay6 home: ssh`));
    const enable = lines.findIndex((l) => l.includes("[#] ufw --force enable"));
    expect(ssh, r.stderr).toBeGreaterThan(-1);
    expect(enable).toBeGreaterThan(ssh);
    expect(r.stderr).not.toContain("ufw allow 22/tcp");
    expect(r.stderr).toMatch(/started in its own session \(setsid; no systemd here\)/);

    const s = newSession("ufw status; echo new-session-ok");
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toContain("new-session-ok");
    expect(s.stdout).toContain("Status: active");
    expect(s.stdout).toMatch(new RegExp(`^${SSH_PORT}/tcp\\s+ALLOW\\s+Anywhere\\s+# relay6 home: ssh$`, "m"));
    expect(vps.sh("ls /run/relay6; ls -d /tmp/relay6-apply.* 2>/dev/null | wc -l").stdout).toBe("0\n"); // run dir and upload gone
  }, 120_000);

  it("the connection is cut mid-run: setup.sh completes; relay6 reconnects, reattaches and reports exit 0", async () => {
    const grown = site("grown", SITE.replace("failover:", "  - { name: lab, index: 0x12, interface: vlan12 }\nfailover:"));
    const r = await applyAndDrop(grown, "[relay6] files");
    expect(r.killed.length, r.stderr).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(0);
    const lost = r.stderr.indexOf("connection to 192.0.2.1 lost while setup.sh runs there (detached: it goes on); reconnecting");
    const back = r.stderr.indexOf("reattached to the run on 192.0.2.1");
    expect(lost, r.stderr).toBeGreaterThan(-1);
    expect(back).toBeGreaterThan(lost);
    // What setup.sh did after the cut came through the new connection, once each.
    expect(r.stderr.indexOf("[relay6] wg0")).toBeGreaterThan(back);
    expect(r.stderr.split("\n").filter((l) => l.includes("[relay6] firewall")).length).toBe(1);
    expect(r.stderr).toContain("[relay6] done");
    expect(r.stdout).toContain("applied to 192.0.2.1");
    expect(vps.sh("ip -6 route get 2401:4520:110b:12::1").stdout).toContain("dev wg0");
    expect(vps.sh("ls /run/relay6; ls -d /tmp/relay6-apply.* 2>/dev/null | wc -l").stdout).toBe("0\n");
  }, 120_000);

  it("a run that fails behind a cut connection: relay6 reports its real exit status, the VPS is rolled back", async () => {
    const before = await hostState(vps, VPS_PATHS);
    writeFileSync(vps.path(FAIL_FILE), "birdc configure");
    const slower = site("slower", SITE.replace("failover:\n  mode: bgp-bfd", "  - { name: lab, index: 0x12, interface: vlan12 }\nfailover:\n  mode: bgp-bfd\n  bfd: { intervalMs: 300 }"));
    const r = await applyAndDrop(slower, "[relay6] files");
    rmSync(vps.path(FAIL_FILE));
    expect(r.killed.length, r.stderr).toBeGreaterThan(0);
    expect(readFileSync(vps.path(`${FAIL_FILE}.log`), "utf8")).toContain("birdc configure");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("reattached to the run on 192.0.2.1");
    expect(r.stderr).toMatch(/setup\.sh failed on 192\.0\.2\.1 \(exit 1\); its log is kept in \/run\/relay6\/apply-\w+\/log/);
    expect(r.stderr).toContain("rolled back: this host is as it was before the run");
    const logFile = /its log is kept in (\S+)/.exec(r.stderr)![1]!;
    expect(readFileSync(vps.path(logFile), "utf8")).toContain("injected failure: birdc configure");
    expect(await hostState(vps, VPS_PATHS)).toEqual(before);
  }, 120_000);
});
