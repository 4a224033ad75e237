// verify's RouterOS half against the REST model: the router's live state (peer, sessions,
// routes) seeded as a working relay shows it, then as each fault shows it.
import { afterEach, describe, expect, it } from "vitest";
import { startRouterOsModel, type RunningModel } from "./fixtures/routeros-model/index.js";
import { publicKeyOf } from "../src/keys/wireguard.js";
import { REPO, runCli, TEST_SECRETS } from "./helpers.js";
import { writeSecrets } from "../src/keys/wireguard.js";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmp } from "./helpers.js";

const PASSWORD = "model-pw";
const VPS_TRANSIT = "2401:4520:110b::1";

function site(): string {
  const dir = tmp();
  const file = join(dir, "home.yaml");
  copyFileSync(join(REPO, "examples/recipe-home.yaml"), file);
  writeSecrets(join(dir, "home.secrets.yaml"), { vps: { privateKey: TEST_SECRETS.vpsPrivateKey }, router: { privateKey: TEST_SECRETS.routerPrivateKey } });
  return file;
}

interface Live {
  version?: string;
  peerKey?: string;
  handshake?: string;
  bgp?: boolean;
  bfd?: "up" | "down";
  defaultFromBgp?: boolean;
  /** /ip/dns allow-remote-requests (default yes: a working relay's router answers DNS). */
  dns?: boolean;
  /** defconf's input drop for interfaces outside LAN, with only `bridge` in LAN. */
  lanOnlyBridge?: boolean;
  /** The segments' ra-lifetime (the drain sets 0s while the BGP route is gone). */
  raLifetime?: string;
  /** Leave the RA drain's script and netwatch tick out. */
  noDrain?: boolean;
}

async function router(live: Live): Promise<RunningModel> {
  const bfd = live.bfd ?? "up";
  return startRouterOsModel({
    version: live.version ?? "7.22.3",
    state: {
      "interface/wireguard": [{ name: "wg-host", "listen-port": "51820", mtu: "1420" }],
      "interface/wireguard/peers": [{ interface: "wg-host", "public-key": live.peerKey ?? publicKeyOf(TEST_SECRETS.vpsPrivateKey), "endpoint-address": "203.0.113.10", "endpoint-port": "51820", "allowed-address": "::/0", "last-handshake": live.handshake ?? "12s" }],
      "ipv6/route": live.defaultFromBgp === false ? [] : [{ "dst-address": "::/0", gateway: "fe80::1%wg-host", "immediate-gw": "fe80::1%wg-host", active: "true", bgp: "true", dynamic: "true" }],
      "routing/bgp/session": [{ name: "relay6-home-1", "remote.address": VPS_TRANSIT, established: live.bgp === false ? "false" : "true" }],
      "routing/bfd/session": [{ "remote-address": `${VPS_TRANSIT}%wg-host`, state: bfd, "hold-time": "600ms" }],
      "ip/dns": [{ "allow-remote-requests": live.dns === false ? "false" : "true" }],
      ...(live.lanOnlyBridge
        ? {
            "interface/bridge": [{ name: "bridge" }],
            "interface/vlan": [{ name: "vlan10", interface: "bridge", "vlan-id": "10" }, { name: "vlan11", interface: "bridge", "vlan-id": "11" }],
            "interface/list": [...["all", "none", "dynamic", "static"].map((name) => ({ name, builtin: "true" })), { name: "LAN" }, { name: "GUESTS", include: "" }],
            "interface/list/member": [{ list: "LAN", interface: "bridge" }, { list: "GUESTS", interface: "vlan10" }],
            "ipv6/firewall/filter": [
              { chain: "input", action: "accept", "connection-state": "established,related,untracked", comment: "defconf: accept established,related,untracked" },
              { chain: "input", action: "accept", protocol: "icmpv6", comment: "defconf: accept ICMPv6" },
              { chain: "input", action: "drop", "in-interface-list": "!LAN", comment: "defconf: drop everything else not coming from LAN" },
            ],
          }
        : {}),
      "ipv6/nd": ["bridge", "vlan10", "vlan11"].map((i) => ({ interface: i, "ra-lifetime": live.raLifetime ?? "30m", comment: `relay6:home:nd:${i}; RA` })),
      "system/script": live.noDrain ? [] : [{ name: "relay6-home-drain", source: "", comment: "relay6:home:drain; RA drain" }],
      "tool/netwatch": live.noDrain ? [] : [{ name: "relay6-home-drain", host: "127.0.0.1", type: "simple", interval: "1s", disabled: "false", comment: "relay6:home:drain-tick; tick" }],
    },
    auth: { user: "admin", password: PASSWORD },
  });
}

async function verify(m: RunningModel) {
  process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
  try {
    const r = await runCli("verify", site(), "--no-vps", "--router-url", m.url, "--json");
    const findings = JSON.parse(r.stdout).findings as { check: string; status: string; detail: string; fault?: string }[];
    return { code: r.code, findings, by: new Map(findings.map((f) => [f.check, f])), out: r.stdout + r.stderr };
  } finally {
    delete process.env.RELAY6_ROUTER_PASSWORD;
  }
}

describe("verify: RouterOS over REST", () => {
  let m: RunningModel | undefined;
  afterEach(async () => {
    await m?.stop();
    m = undefined;
  });

  it("a working relay: every router check passes", async () => {
    m = await router({});
    const v = await verify(m);
    expect([...v.by.values()].filter((f) => f.status !== "pass")).toEqual([]);
    expect(v.code).toBe(0);
    for (const c of ["router.version", "router.handshake", "router.default-route", "router.bgp", "router.bfd", "router.dns", "router.ra-drain"]) expect(v.by.get(c)?.status, c).toBe("pass");
    expect(v.out).not.toContain(PASSWORD);
  });

  it("the RA drain: judged against the route, not a value (0s while the route is gone passes; 30m fails; no drain fails)", async () => {
    m = await router({ defaultFromBgp: false, raLifetime: "0s" });
    expect((await verify(m)).by.get("router.ra-drain")).toMatchObject({ status: "pass" });
    await m.stop();
    m = await router({ defaultFromBgp: false });
    expect((await verify(m)).by.get("router.ra-drain")).toMatchObject({ status: "fail", fault: "ra-drain" });
    await m.stop();
    m = await router({ raLifetime: "0s" });
    expect((await verify(m)).by.get("router.ra-drain")).toMatchObject({ status: "fail", fault: "ra-drain" });
    await m.stop();
    m = await router({ noDrain: true });
    expect((await verify(m)).by.get("router.ra-drain")).toMatchObject({ status: "fail", fault: "ra-drain" });
  });

  it("the tunnel down: no handshake, BFD down, no BGP route — each named", async () => {
    m = await router({ handshake: "5m3s", bfd: "down", bgp: false, defaultFromBgp: false });
    const v = await verify(m);
    expect(v.code).toBe(1);
    expect(v.by.get("router.handshake")).toMatchObject({ status: "fail", fault: "tunnel-down" });
    expect(v.by.get("router.bfd")).toMatchObject({ status: "fail", fault: "bfd-down" });
    expect(v.by.get("router.bgp")).toMatchObject({ status: "fail", fault: "bgp-down" });
    expect(v.by.get("router.default-route")).toMatchObject({ status: "fail", fault: "no-default-route" });
  });

  it("the RA's DNS cannot answer: allow-remote-requests=no, and VLANs outside LAN that defconf's input drop takes", async () => {
    m = await router({ dns: false, lanOnlyBridge: true });
    const v = await verify(m);
    const dns = v.findings.filter((f) => f.check === "router.dns");
    expect(dns.map((f) => f.status)).toEqual(["warn", "warn", "warn"]);
    expect(dns[0]!.detail).toMatch(/allow-remote-requests=no/);
    expect(dns[1]!.detail).toMatch(/segment guest \(vlan10\): .*drops its DNS queries .*"defconf: drop everything else not coming from LAN".*vlan10 is not in interface list LAN/);
    expect(dns[2]!.detail).toMatch(/segment iot \(vlan11\)/);
    expect(v.code).toBe(0); // warnings, not failures
    // LAN including the guests' list takes vlan10 in
    await m.stop();
    m = await router({ lanOnlyBridge: true });
    m.model.findItem(m.model.menu(["interface", "list"]), "LAN")!.include = "GUESTS";
    const again = (await verify(m)).findings.filter((f) => f.check === "router.dns");
    expect(again.map((f) => f.detail)).toEqual([expect.stringMatching(/segment iot \(vlan11\)/)]);
  });

  it("a wrong public key on the router's peer, and a router on another release than the site says", async () => {
    m = await router({ peerKey: publicKeyOf(TEST_SECRETS.routerPrivateKey), version: "7.20.8" });
    const v = await verify(m);
    expect(v.by.get("router.peer-key")).toMatchObject({ status: "fail", fault: "wrong-public-key" });
    expect(v.by.get("router.version")).toMatchObject({ status: "fail" });
  });
});

describe("verify finds the router as apply does, and never passes by checking nothing", () => {
  let m: RunningModel | undefined;
  afterEach(async () => {
    await m?.stop();
    m = undefined;
    delete process.env.RELAY6_ROUTER_URL;
    delete process.env.RELAY6_ROUTER_PASSWORD;
  });

  it("the router's URL from $RELAY6_ROUTER_URL, else router.api.url", async () => {
    m = await router({});
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    process.env.RELAY6_ROUTER_URL = m.url;
    const fromEnv = await runCli("verify", site(), "--no-vps", "--json");
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout).summary).toMatchObject({ fail: 0, skip: 0 });
    delete process.env.RELAY6_ROUTER_URL;
    const file = site();
    writeFileSync(file, readFileSync(file, "utf8").replace(/^router:\n/m, `router:\n  api: { url: "${m.url}" }\n`));
    const fromSite = await runCli("verify", file, "--no-vps", "--json");
    expect(fromSite.code, fromSite.stderr).toBe(0);
    expect(JSON.parse(fromSite.stdout).findings.map((f: { check: string }) => f.check)).toContain("router.handshake");
  });

  it("no router to reach and --no-vps: nothing was checked, exit 1", async () => {
    const r = await runCli("verify", site(), "--no-vps");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("SKIP  router: no --router-url: RouterOS checks skipped");
    expect(r.stderr).toContain("relay6: nothing was checked: no --router-url: RouterOS checks skipped");
    const none = await runCli("verify", site(), "--no-vps", "--no-router", "--json");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("nothing was checked (--no-vps and --no-router)");
  });
});

describe("the VPS's SSH options: one name in apply, verify and doctor", () => {
  it("--vps-host/--vps-port/--vps-user everywhere; --host and --vps-ssh still accepted where they were", async () => {
    for (const cmd of [["apply", "vps"], ["verify"], ["doctor"]]) {
      const help = (await runCli(...cmd, "--help")).stdout.replace(/\s+/g, " ");
      for (const f of ["--vps-host <host>", "--vps-port <port>", "--vps-user <user>", "--router-user <user>"]) if (cmd[0] !== "apply" || f !== "--router-user <user>") expect(help, `${cmd.join(" ")} ${f}`).toContain(f);
      expect(help).not.toMatch(/--host <|--vps-ssh </);
    }
    expect((await runCli("apply", "router", "--help")).stdout.replace(/\s+/g, " ")).toContain("the router's SSH user (default: admin on routeros, root on linux)");
    // The older spellings are the same option: given twice with different values, refused.
    const r = await runCli("apply", "vps", site(), "--vps-host", "192.0.2.1", "--host", "192.0.2.2");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--vps-host and --host name the same thing: give one");
    const p = await runCli("verify", site(), "--vps-host", "192.0.2.1", "--vps-port", "0");
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("SSH port 0: not a port number");
    const d = await runCli("doctor", "--vps-host", "192.0.2.1", "--vps-ssh", "192.0.2.2");
    expect(d.stderr).toContain("--vps-host and --vps-ssh name the same thing: give one");
  });
});
