// What OpenSSH prints, read by relay6 (no root, no network): `ssh -G`, `ssh-keygen -l -F`
// and the ssh client's log in every case relay6 explains. The recordings in
// test/fixtures/ssh/ were made by test/fixtures/ssh/record.sh with real sshd and ssh.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainFailure, knownHostsName, parseKeygenFind, parseSshG, readConnectLog, sessionConfig, type FailureContext, type KnownHostsEntry } from "../src/remote/openssh.js";
import { SshSession } from "../src/remote/ssh.js";
import { UserError } from "../src/errors.js";
import { REPO } from "./helpers.js";

const rec = (name: string) => readFileSync(join(REPO, "test/fixtures/ssh", name), "utf8");
const log = (name: string) => readConnectLog(rec(`${name}.txt`));
// The recorded sshd's ed25519 host key, as ssh prints its fingerprint.
const TARGET_FP = `SHA256:${createHash("sha256").update(Buffer.from(rec("host_ed.pub").split(" ")[1]!, "base64")).digest("base64").replace(/=+$/, "")}`;

function ctx(more: Partial<FailureContext> = {}): FailureContext {
  return {
    name: "[127.0.0.1]:22902",
    display: "root@127.0.0.1:22902",
    hostname: "127.0.0.1",
    port: 22902,
    user: "root",
    entries: [],
    userKnownHosts: "/tmp/rec/kh",
    knownHostsFiles: ["/tmp/rec/kh", "/etc/ssh/ssh_known_hosts"],
    acceptNew: false,
    ...more,
  };
}

describe("ssh -G", () => {
  it("a Host block: HostName, Port, User, IdentityFile, ProxyJump, both known_hosts files, HostKeyAlias", () => {
    const c = parseSshG(rec("ssh-G-alias.txt"));
    expect(c).toMatchObject({ hostname: "192.0.2.7", port: 2222, user: "admin", proxyJump: "jumpuser@jump.example:2200", hostKeyAlias: "vps-alias" });
    expect(c.identityFiles).toEqual(["~/.ssh/vps_key"]);
    // ssh expanded ~ and %h itself.
    expect(c.userKnownHostsFiles).toEqual(["/home/user/.ssh/known_hosts.d/192.0.2.7"]);
    expect(c.globalKnownHostsFiles).toEqual(["/etc/ssh/relay6_known_hosts"]);
    // With HostKeyAlias, known_hosts knows the host by the alias alone (no [..]:port).
    expect(knownHostsName(c)).toBe("vps-alias");
  });

  it("no config: OpenSSH's defaults, looked up as [host]:port off port 22", () => {
    const c = parseSshG(rec("ssh-G-plain.txt"));
    expect(c).toMatchObject({ hostname: "127.0.0.1", port: 2201, user: "root" });
    expect(c.proxyJump).toBeUndefined();
    expect(c.userKnownHostsFiles).toEqual(["/home/user/.ssh/known_hosts", "/home/user/.ssh/known_hosts2"]);
    expect(c.globalKnownHostsFiles).toEqual(["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]);
    expect(knownHostsName(c)).toBe("[127.0.0.1]:2201");
    expect(knownHostsName({ ...c, port: 22 })).toBe("127.0.0.1");
  });
});

describe("ssh-keygen -l -F", () => {
  it("every line that names the host, with its marker; the negated line is not one", () => {
    const e = parseKeygenFind("kh", rec("keygen-F.txt"));
    // known_hosts: 1 @cert-authority, 2 @revoked *, 3 a [127.0.0.?] pattern (rsa), 4 hashed, 5 negated.
    expect(e.map((x) => [x.line, x.marker, x.type])).toEqual([
      [1, "cert-authority", "ED25519"],
      [2, "revoked", "ED25519"],
      [3, "", "RSA"],
      [4, "", "ED25519"],
    ]);
    expect(e[3]!.fingerprint).toBe(TARGET_FP);
    expect(rec("known_hosts").split("\n")[3]).toMatch(/^\|1\|/); // line 4 is hashed
  });
});

describe("the ssh client's log", () => {
  it("up: the host key it accepted, and the key it recorded", () => {
    const l = log("accepted-new");
    expect(l.ready).toBe(true);
    expect(l.hostKey).toEqual({ type: "ssh-ed25519", fingerprint: TARGET_FP });
    expect(l.added).toEqual({ name: "[127.0.0.1]:22902", type: "ED25519" });
  });

  it("a host recorded with rsa that offers ed25519 first: ssh negotiated rsa", () => {
    const l = log("ok-rsa-recorded");
    expect(l.ready).toBe(true);
    expect(l.hostKey?.type).toBe("ssh-rsa");
  });

  it("a host certificate: the key and the CA that signed it", () => {
    const l = log("cert-ok");
    expect(l.ready).toBe(true);
    expect(l.hostKey).toMatchObject({ type: "ssh-ed25519-cert-v01@openssh.com", fingerprint: TARGET_FP, certificate: { id: "recorded-host" } });
    expect(l.hostKey?.certificate?.ca).toMatch(/^ssh-ed25519 SHA256:/);
  });

  it("through a jump host: the target's host key, not the jump host's", () => {
    const l = log("jump-ok");
    expect(l.ready).toBe(true);
    expect(l.hostKey?.fingerprint).toBe(TARGET_FP);
  });
});

describe("why a connection failed: one line, the host, the fix", () => {
  it("first contact: the fingerprint, and --accept-new-host-key", () => {
    const f = explainFailure(log("unknown"), ctx());
    expect(f).toMatchObject({ code: "ssh-host-key-unknown", exit: 1 });
    expect(f.summary).toContain("[127.0.0.1]:22902 is not in known_hosts");
    expect(f.message).toContain(TARGET_FP);
    expect(f.fix).toContain("--accept-new-host-key");
  });

  it("a changed key: file:line of the offending entry and the ssh-keygen -R fix", () => {
    const f = explainFailure(log("changed"), ctx());
    expect(f).toMatchObject({ code: "ssh-host-key-changed", file: "/tmp/rec/kh", line: 1, exit: 1 });
    expect(f.summary).toContain("CHANGED");
    expect(f.message).toContain(TARGET_FP);
    expect(f.fix).toContain("ssh-keygen -f '/tmp/rec/kh' -R '[127.0.0.1]:22902'");
  });

  it("a recorded key of another type is a changed key (OpenSSH), even with accept-new", () => {
    const f = explainFailure(log("changed-other-type"), ctx({ acceptNew: true }));
    expect(f).toMatchObject({ code: "ssh-host-key-changed", file: "/tmp/rec/kh", line: 1 });
    expect(f.message).toContain("not the RSA key recorded at /tmp/rec/kh:1");
  });

  it("a revoked key: the @revoked line found by its fingerprint", () => {
    const entries: KnownHostsEntry[] = [
      { file: "/etc/ssh/ssh_known_hosts", line: 7, marker: "revoked", type: "ED25519", fingerprint: "SHA256:someOtherKey" },
      { file: "/etc/ssh/ssh_known_hosts", line: 9, marker: "revoked", type: "ED25519", fingerprint: TARGET_FP },
    ];
    const f = explainFailure(log("revoked"), ctx({ entries }));
    expect(f).toMatchObject({ code: "ssh-host-key-revoked", file: "/etc/ssh/ssh_known_hosts", line: 9, exit: 1 });
    expect(f.summary).toContain("REVOKED");
    expect(f.fix).toContain("ssh-keygen -f '/tmp/rec/kh' -R '[127.0.0.1]:22902'");
  });

  it("a certificate that does not validate against the @cert-authority entry", () => {
    const ca: KnownHostsEntry = { file: "/tmp/rec/kh", line: 1, marker: "cert-authority", type: "ED25519", fingerprint: "SHA256:ca" };
    const f = explainFailure(log("cert-invalid"), ctx({ name: "[127.0.0.1]:22904", port: 22904, entries: [ca] }));
    expect(f).toMatchObject({ code: "ssh-host-cert-invalid", file: "/tmp/rec/kh", line: 1, exit: 1 });
    expect(f.message).toContain("name is not a listed principal");
  });

  it("a plain key where only a @cert-authority entry names the host: not vouched for, never 'first contact'", () => {
    const ca: KnownHostsEntry = { file: "/tmp/rec/kh", line: 3, marker: "cert-authority", type: "ED25519", fingerprint: "SHA256:ca" };
    const f = explainFailure(log("unknown"), ctx({ entries: [ca], acceptNew: true }));
    expect(f.code).toBe("ssh-host-cert-invalid");
    expect(f.fix).not.toContain("--accept-new-host-key");
  });

  it("a jump host not in known_hosts: named as the jump host, not the target", () => {
    const f = explainFailure(log("jump-unknown"), ctx({ jump: "root@127.0.0.1:22901" }));
    expect(f.code).toBe("ssh-host-key-unknown");
    expect(f.summary).toContain("[127.0.0.1]:22901 (a jump host on the way to root@127.0.0.1:22902)");
    expect(f.fix).not.toContain("--accept-new-host-key");
  });

  it("login refused, on the target and on a jump host", () => {
    const t = explainFailure(log("auth-denied"), ctx());
    expect(t).toMatchObject({ code: "ssh-auth", exit: 1 });
    expect(t.summary).toBe("SSH login as root@127.0.0.1 was refused");
    expect(t.fix).toContain("ssh-agent");
    const j = explainFailure(log("jump-auth-denied"), ctx({ jump: "root@127.0.0.1:22901" }));
    expect(j.summary).toContain("a jump host on the way to");
  });

  it("refused, DNS, timeouts", () => {
    expect(explainFailure(log("refused"), ctx({ port: 22999 }))).toMatchObject({ code: "ssh-refused", exit: 1, summary: "cannot reach 127.0.0.1 port 22999 over SSH: connection refused" });
    const dns = explainFailure(log("dns"), ctx({ hostname: "relay6-no-such-host.invalid" }));
    expect(dns).toMatchObject({ code: "ssh-dns", exit: 1, summary: "cannot resolve relay6-no-such-host.invalid" });
    expect(dns.fix).toContain("HostName in ~/.ssh/config");
    expect(explainFailure(log("connect-timeout"), ctx({ hostname: "10.9.9.2", port: 22 }))).toMatchObject({ code: "ssh-timeout", exit: 1 });
    expect(explainFailure(log("banner-timeout"), ctx({ port: 22990 }))).toMatchObject({ code: "ssh-timeout", exit: 1 });
  });

  it("a bad line in an ssh_config file: exit 2, naming the file and line", () => {
    const f = explainFailure(log("config-error"), ctx());
    expect(f).toMatchObject({ code: "ssh-config", file: "/tmp/rec/cfg", line: 3, exit: 2 });
  });
});

describe("the ssh_config relay6 passes with -F", () => {
  it("its own options come before the user's and the system's files (the first value wins)", () => {
    const c = sessionConfig({ knownHostsFile: "/tmp/my known_hosts" }).split("\n");
    const at = (s: string) => c.findIndex((l) => l === s);
    for (const o of ["BatchMode yes", "StrictHostKeyChecking yes", 'UserKnownHostsFile "/tmp/my known_hosts"']) {
      expect(at(o), o).toBeGreaterThanOrEqual(0);
      expect(at(o), o).toBeLessThan(at("Include ~/.ssh/config"));
    }
    expect(at("Include ~/.ssh/config")).toBeLessThan(at("Include /etc/ssh/ssh_config"));
    expect(sessionConfig({})).not.toContain("UserKnownHostsFile");
  });
});

describe("what reaches ssh's command line", () => {
  it("a host or user that ssh could read as an option, a user@ or a URI is refused before ssh runs (exit 2)", async () => {
    for (const t of [{ host: "-oProxyCommand=touch /tmp/relay6-pwned" }, { host: "root@vps" }, { host: "ssh://vps:2222" }, { host: "vps %d" }, { host: "vps", user: "-oProxyCommand=x" }, { host: "vps", user: "a b" }]) {
      const e = await SshSession.connect(t).then(() => undefined, (x: unknown) => x);
      expect(e, JSON.stringify(t)).toBeInstanceOf(UserError);
      expect((e as UserError).exitCode).toBe(2);
    }
  });
});
