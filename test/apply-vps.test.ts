// relay6 apply vps over real SSH: an sshd in a "vps" namespace, relay6 run from a
// "client" namespace. Host keys checked, dry run changes nothing, apply brings a bare VPS
// up, a second run is a no-op, a changed host key is refused.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureKeys } from "../src/keys/wireguard.js";
import { REPO, tmp } from "./helpers.js";
import { NetnsHost, waitUntil, withHome } from "./netns-host.js";

const id = process.pid;
const vps = new NetnsHost(`r6t-apv-${id}`);
const client = new NetnsHost(`r6t-apc-${id}`);
const work = tmp("relay6-apply-");
const VPS_ADDR = "192.0.2.1";
const key = join(work, "id_ed25519");
const knownHosts = join(work, "known_hosts");
const site = join(work, "home.yaml");

/** relay6 in the client namespace; `work` is the home directory ssh reads (never the machine's ~/.ssh). */
function relay6(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("ip", ["netns", "exec", client.ns, ...withHome(work, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, SSH_AUTH_SOCK: "" },
  });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}

const sshArgs = () => ["--vps-host", VPS_ADDR, "-i", key, "--known-hosts", knownHosts];

describe("relay6 apply vps over SSH", () => {
  let hostPub = "";
  beforeAll(async () => {
    vps.create();
    client.create();
    execFileSync("ip", ["link", "add", `r6a${id}`, "netns", vps.ns, "type", "veth", "peer", "name", `r6b${id}`, "netns", client.ns]);
    execFileSync("ip", ["-n", vps.ns, "link", "set", `r6a${id}`, "name", "enp3s0"]);
    execFileSync("ip", ["-n", vps.ns, "addr", "add", `${VPS_ADDR}/24`, "dev", "enp3s0"]);
    execFileSync("ip", ["-n", vps.ns, "addr", "add", "2401:4520:110b::a/48", "dev", "enp3s0", "nodad"]);
    execFileSync("ip", ["-n", vps.ns, "link", "set", "enp3s0", "up"]);
    execFileSync("ip", ["-n", client.ns, "addr", "add", "192.0.2.2/24", "dev", `r6b${id}`]);
    execFileSync("ip", ["-n", client.ns, "link", "set", `r6b${id}`, "up"]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    hostPub = vps.startSshd(VPS_ADDR, readFileSync(`${key}.pub`, "utf8"));
    await waitUntil(() => client.sh(`bash -c 'echo > /dev/tcp/${VPS_ADDR}/22' 2>/dev/null`).code === 0, 10_000, "sshd");
    writeFileSync(site, readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8"));
    ensureKeys(join(work, "home.secrets.yaml")); // as `relay6 keys` does: apply makes no keys
  });

  afterAll(() => {
    vps.destroy();
    client.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("refuses an unknown host key and shows its fingerprint", () => {
    const r = relay6("apply", "vps", site, ...sshArgs(), "--dry-run");
    expect(r.code).toBe(1);
    const fp = execFileSync("ssh-keygen", ["-lf", "-"], { input: hostPub, encoding: "utf8" }).split(" ")[1]!;
    expect(r.stderr).toContain(fp);
    expect(r.stderr).toContain("--accept-new-host-key");
    expect(existsSync(knownHosts)).toBe(false);
  });

  it("dry run with --accept-new-host-key: records the key, shows the diff, changes nothing", () => {
    const r = relay6("apply", "vps", site, ...sshArgs(), "--accept-new-host-key", "--dry-run");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("~ /etc/wireguard/wg0.conf: new (600 root:root)");
    expect(r.stdout).toContain("+AllowedIPs = 2401:4520:110b::2/128, 2401:4520:110b:1::/64");
    expect(r.stdout).toContain("~ /etc/wireguard/wg0.key: new (600 root:root) [secret: contents not shown]");
    expect(r.stdout).toContain("dry run: nothing changed");
    expect(readdirSync(join(vps.etc, "wireguard"))).toEqual([]);
    expect(execFileSync("ssh-keygen", ["-l", "-F", VPS_ADDR, "-f", knownHosts], { encoding: "utf8" })).toContain(execFileSync("ssh-keygen", ["-lf", "-"], { input: hostPub, encoding: "utf8" }).split(" ")[1]!);
  });

  it("doctor reads a hand-made recipe setup live over SSH and finds its traps", () => {
    const fx = join(REPO, "test/doctor/fixtures/recipe-as-written");
    writeFileSync(join(vps.etc, "wireguard/wg0.conf"), readFileSync(join(fx, "wg0.conf")), { mode: 0o600 });
    writeFileSync(join(vps.etc, "bird/bird.conf"), readFileSync(join(fx, "bird.conf")));
    try {
      const r = relay6("doctor", "--vps-host", VPS_ADDR, "-i", key, "--known-hosts", knownHosts, "--json");
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout);
      const codes = report.findings.map((f: { code: string }) => f.code);
      expect(codes).toContain("bird-bgp-bfd-off");
      expect(codes).toContain("bird-slow-timers");
      // The live `ip -6 route` shows the provider's connected /48 on enp3s0: the recipe's
      // AllowedIPs (/128 + /64s) are longer, so that trap is absent.
      expect(codes).not.toContain("allowed-ips-covers-prefix");
      expect(report.inputs.map((i: { origin: string }) => i.origin)).toContain(`ssh root@${VPS_ADDR}: ip -6 route`);
      expect(r.stdout + r.stderr).not.toContain("PYMyN3ObYIY44ULcYBVmCKs7kXINjfcQomuko+mmq+M="); // wg0.conf's PrivateKey
    } finally {
      rmSync(join(vps.etc, "wireguard/wg0.conf"));
      rmSync(join(vps.etc, "bird/bird.conf"));
    }
  });

  it("applies to a bare VPS, printing each remote command; never prints the private key", () => {
    const r = relay6("apply", "vps", site, ...sshArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[192\.0\.2\.1\]# write \/tmp\/relay6-apply\.\w+\/secrets\/wg0\.key \(600, secret\)/);
    expect(r.stderr).toContain("[#] wg-quick up wg0");
    expect(r.stdout).toContain("applied to 192.0.2.1");
    const secret = readFileSync(join(work, "home.secrets.yaml"), "utf8");
    const priv = /vps:\n\s+privateKey: (\S+)/.exec(secret)![1]!;
    expect(r.stdout + r.stderr).not.toContain(priv);
    expect(readFileSync(join(vps.etc, "wireguard/wg0.key"), "utf8").trim()).toBe(priv);
    expect(vps.sh("wg show wg0 listen-port; birdc show status").out).toMatch(/51820[\s\S]*BIRD [\d.]+ ready/);
    const staged = /# write (\/tmp\/relay6-apply\.\w+)\//.exec(r.stderr)![1]!;
    expect(existsSync(staged)).toBe(false); // the upload was removed
  });

  it("a second run reports no changes and changes nothing", () => {
    const before = vps.sh("stat -c '%Y %i' /etc/wireguard/wg0.conf /etc/bird/bird.conf").out;
    const r = relay6("apply", "vps", site, ...sshArgs(), "--json");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.outcome).toBe("no-changes");
    expect(result.changes.every((c: { action: string }) => c.action === "unchanged")).toBe(true);
    expect(vps.sh("stat -c '%Y %i' /etc/wireguard/wg0.conf /etc/bird/bird.conf").out).toBe(before);
  });

  it("verify reports the VPS's state as named findings, each fault its own", () => {
    const verify = () => {
      const r = relay6("verify", site, ...sshArgs(), "--no-router", "--json");
      return { code: r.code, byCheck: new Map((JSON.parse(r.stdout).findings as { check: string; status: string; fault?: string }[]).map((f) => [f.check, f])), stderr: r.stderr };
    };
    // No router exists here: the tunnel has no handshake, everything on the VPS itself holds.
    const v = verify();
    expect(v.code).toBe(1);
    expect(v.byCheck.get("vps.handshake")).toMatchObject({ status: "fail", fault: "tunnel-down" });
    for (const c of ["vps.wg0", "vps.peer-key", "vps.allowed-ips", "vps.route.lan", "vps.route.guest", "vps.route.iot", "vps.forwarding", "vps.bird", "vps.firewall"])
      expect(v.byCheck.get(c)?.status, c).toBe("pass");
    expect(v.byCheck.get("vps.bgp")).toMatchObject({ status: "fail", fault: "bgp-down" });

    // A segment missing from AllowedIPs (as after a hand edit): its own finding.
    const routerKey = vps.sh("wg show wg0 peers").out.trim();
    vps.sh(`wg set wg0 peer ${routerKey} allowed-ips 2401:4520:110b::2/128,2401:4520:110b:1::/64,2401:4520:110b:10::/64 && ip -6 route del 2401:4520:110b:11::/64 dev wg0`);
    const missing = verify();
    expect(missing.byCheck.get("vps.allowed-ips")).toMatchObject({ status: "fail", fault: "allowed-ips-missing-segment" });
    expect(missing.byCheck.get("vps.route.iot")).toMatchObject({ status: "fail", fault: "allowed-ips-missing-segment" });
    expect(missing.byCheck.get("vps.route.lan")?.status).toBe("pass");

    // bird stopped.
    vps.sh("birdc down");
    expect(verify().byCheck.get("vps.bird")).toMatchObject({ status: "fail", fault: "bird-down" });

    // A wrong public key: the VPS's peer is not the router relay6 knows.
    vps.sh(`wg set wg0 peer ${routerKey} remove && wg set wg0 peer ${"B".repeat(42)}A= allowed-ips 2401:4520:110b::2/128`);
    expect(verify().byCheck.get("vps.peer-key")).toMatchObject({ status: "fail", fault: "wrong-public-key" });
  });

  it("refuses a host key that changed", () => {
    const other = join(work, "other");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const fake = readFileSync(`${other}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    const kh = join(work, "known_hosts_changed");
    writeFileSync(kh, `${VPS_ADDR} ${fake}\n`);
    // (--host: the older name of --vps-host, still accepted)
    const r = relay6("apply", "vps", site, "--host", VPS_ADDR, "-i", key, "--known-hosts", kh, "--accept-new-host-key", "--dry-run");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("CHANGED");
    expect(r.stderr).toContain(`${kh}:1:1: error ssh-host-key-changed`);
    expect(readFileSync(kh, "utf8")).toBe(`${VPS_ADDR} ${fake}\n`);
  });
});
