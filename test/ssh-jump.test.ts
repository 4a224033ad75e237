// A VPS reachable only through a jump host: client → jump (sshd) → vps (sshd), three
// namespaces; the client has no route to the VPS and the jump host does not forward, so
// the only way in is ssh's ProxyJump from ~/.ssh/config. relay6 applies the VPS for real
// through it (files uploaded over stdin, setup.sh run), both host keys checked.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, writeSecrets } from "../src/keys/wireguard.js";
import { REPO, tmp } from "./helpers.js";
import { NetnsHost, waitUntil, withHome } from "./netns-host.js";

const id = process.pid;
const client = new NetnsHost(`r6t-jc-${id}`);
const jump = new NetnsHost(`r6t-jj-${id}`);
const vps = new NetnsHost(`r6t-jv-${id}`);
const work = tmp("relay6-jump-");
const home = join(work, "home");
const site = join(work, "home.yaml");
const secrets = join(work, "home.secrets.yaml");
const JUMP = "192.0.2.1";
const VPS = "198.51.100.2";
const knownHosts = join(home, ".ssh/known_hosts");

function relay6(...args: string[]) {
  const r = spawnSync("ip", ["netns", "exec", client.ns, ...withHome(home, [process.execPath, "--import", "tsx", join(REPO, "test/run-cli.ts"), ...args])], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, SSH_AUTH_SOCK: "" },
    timeout: 120_000,
  });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}
const fp = (pub: string) => execFileSync("ssh-keygen", ["-lf", "-"], { input: pub, encoding: "utf8" }).split(" ")[1]!;
const link = (a: NetnsHost, aName: string, b: NetnsHost, bName: string) => {
  execFileSync("ip", ["link", "add", `r6x${id}`, "netns", a.ns, "type", "veth", "peer", "name", `r6y${id}`, "netns", b.ns]);
  execFileSync("ip", ["-n", a.ns, "link", "set", `r6x${id}`, "name", aName]);
  execFileSync("ip", ["-n", b.ns, "link", "set", `r6y${id}`, "name", bName]);
};

describe("apply vps through a jump host (ProxyJump in ~/.ssh/config)", () => {
  let jumpPub = "";
  let vpsPub = "";
  beforeAll(async () => {
    for (const h of [client, jump, vps]) h.create();
    link(client, "eth0", jump, "eth0");
    link(jump, "eth1", vps, "enp3s0");
    const sh = (ns: string, ...cmds: string[][]) => cmds.forEach((c) => execFileSync("ip", ["-n", ns, ...c]));
    sh(client.ns, ["addr", "add", "192.0.2.2/24", "dev", "eth0"], ["link", "set", "eth0", "up"]);
    sh(jump.ns, ["addr", "add", `${JUMP}/24`, "dev", "eth0"], ["addr", "add", "198.51.100.1/24", "dev", "eth1"], ["link", "set", "eth0", "up"], ["link", "set", "eth1", "up"]);
    sh(vps.ns, ["addr", "add", `${VPS}/24`, "dev", "enp3s0"], ["addr", "add", "2401:4520:110b::a/48", "dev", "enp3s0", "nodad"], ["link", "set", "enp3s0", "up"]);
    execFileSync("ip", ["netns", "exec", jump.ns, "sysctl", "-qw", "net.ipv4.ip_forward=0"]);

    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    const key = join(home, ".ssh/id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "relay6-jump-test", "-f", key]);
    jumpPub = jump.startSshd(JUMP, readFileSync(`${key}.pub`, "utf8"));
    vpsPub = vps.startSshd(VPS, readFileSync(`${key}.pub`, "utf8"));
    writeFileSync(join(home, ".ssh/config"), `Host vps\n  HostName ${VPS}\n  ProxyJump jumphost\n\nHost jumphost\n  HostName ${JUMP}\n  User root\n  StrictHostKeyChecking no\n`, { mode: 0o600 });
    await waitUntil(() => client.sh(`bash -c 'echo > /dev/tcp/${JUMP}/22' 2>/dev/null`).code === 0, 10_000, "the jump host's sshd");
    await waitUntil(() => jump.sh(`bash -c 'echo > /dev/tcp/${VPS}/22' 2>/dev/null`).code === 0, 10_000, "the VPS's sshd");
    writeFileSync(site, readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8"));
    writeSecrets(secrets, { vps: { privateKey: generateKeyPair().privateKey }, router: { privateKey: generateKeyPair().privateKey } });
  });

  afterAll(() => {
    for (const h of [client, jump, vps]) h.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("the VPS is not reachable from the client directly", () => {
    expect(client.sh(`timeout 3 bash -c 'echo > /dev/tcp/${VPS}/22' 2>/dev/null`).code).not.toBe(0);
    const r = relay6("apply", "vps", site, "--secrets", secrets, "--host", VPS, "--dry-run");
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toContain(`relay6: cannot reach ${VPS} port 22 over SSH`);
  });

  it("a jump host that is not in known_hosts is refused and named, though the user's config says StrictHostKeyChecking no; --accept-new-host-key records nothing for it", () => {
    const r = relay6("apply", "vps", site, "--secrets", secrets, "--host", "vps", "--accept-new-host-key", "--dry-run");
    expect(r.code, r.out).toBe(1);
    expect(r.stderr).toContain(`relay6: ${JUMP} (a jump host on the way to root@${VPS}:22 via jumphost) is not in known_hosts`);
    expect(existsSync(knownHosts)).toBe(false);
  });

  it("applies the VPS through the jump host: both host keys checked, files uploaded over stdin, setup.sh run, one connection", () => {
    writeFileSync(knownHosts, `${JUMP} ${jumpPub.split(" ").slice(0, 2).join(" ")}\n`, { mode: 0o600 });
    const logins = (h: NetnsHost) => (readFileSync(h.sshdLog, "utf8").match(/Accepted publickey for root/g) ?? []).length;
    const before = [logins(jump), logins(vps)];
    const r = relay6("apply", "vps", site, "--secrets", secrets, "--host", "vps", "--accept-new-host-key");
    expect(r.code, r.out).toBe(0);
    // Five remote commands (state, mktemp, upload, setup.sh, cleanup), one SSH connection
    // to each host: the control master carries them all.
    expect((r.stderr.match(/^\[vps\]# /gm) ?? []).length).toBeGreaterThanOrEqual(4);
    expect([logins(jump) - before[0]!, logins(vps) - before[1]!]).toEqual([1, 1]);
    expect(r.stderr).toContain(`connected to root@${VPS}:22 via jumphost (host key ${fp(vpsPub)})`);
    expect(r.stderr).toContain(`# recorded ${VPS} ED25519 ${fp(vpsPub)}`);
    expect(r.stderr).toMatch(/\[vps\]# write \/tmp\/relay6-apply\.\w+\/secrets\/wg0\.key \(600, secret\)/);
    expect(r.stdout).toContain("applied to vps");
    expect(spawnSync("ssh-keygen", ["-F", VPS, "-f", knownHosts]).status).toBe(0);
    const priv = readFileSync(secrets, "utf8").match(/vps:\n\s+privateKey: (\S+)/)![1]!;
    expect(readFileSync(join(vps.etc, "wireguard/wg0.key"), "utf8").trim()).toBe(priv);
    expect(r.out).not.toContain(priv);
    expect(vps.sh("wg show wg0 listen-port").out.trim()).toBe("51820");
  }, 120_000);

  it("a second run through the jump host changes nothing", () => {
    const r = relay6("apply", "vps", site, "--secrets", secrets, "--host", "vps", "--json");
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.stdout).outcome).toBe("no-changes");
  }, 120_000);
});
