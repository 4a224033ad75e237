// verify's RouterOS half against the REST model: the router's live state (peer, sessions,
// routes) seeded as a working relay shows it, then as each fault shows it.
import { afterEach, describe, expect, it } from "vitest";
import { startRouterOsModel, type RunningModel } from "./fixtures/routeros-model/index.js";
import { publicKeyOf } from "../src/keys/wireguard.js";
import { REPO, runCli, TEST_SECRETS } from "./helpers.js";
import { writeSecrets } from "../src/keys/wireguard.js";
import { copyFileSync } from "node:fs";
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
}

async function router(live: Live): Promise<RunningModel> {
  const bfd = live.bfd ?? "up";
  return startRouterOsModel({
    version: live.version ?? "7.22.3",
    state: {
      "interface/wireguard": [{ name: "wg-host", "listen-port": "51820", mtu: "1420" }],
      "interface/wireguard/peers": [{ interface: "wg-host", "public-key": live.peerKey ?? publicKeyOf(TEST_SECRETS.vpsPrivateKey), "endpoint-address": "203.0.113.10", "endpoint-port": "51820", "allowed-address": "::/0", "last-handshake": live.handshake ?? "12s" }],
      "ipv6/route": live.defaultFromBgp === false ? [] : [{ "dst-address": "::/0", gateway: "fe80::1%wg-host", active: "true", bgp: "true", dynamic: "true" }],
      "routing/bgp/session": [{ name: "relay6-home-1", "remote.address": VPS_TRANSIT, established: live.bgp === false ? "false" : "true" }],
      "routing/bfd/session": [{ "remote-address": `${VPS_TRANSIT}%wg-host`, state: bfd, "hold-time": "600ms" }],
    },
    auth: { user: "admin", password: PASSWORD },
  });
}

async function verify(m: RunningModel) {
  process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
  try {
    const r = await runCli("verify", site(), "--no-vps", "--router-url", m.url, "--json");
    const findings = JSON.parse(r.stdout).findings as { check: string; status: string; fault?: string }[];
    return { code: r.code, by: new Map(findings.map((f) => [f.check, f])), out: r.stdout + r.stderr };
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
    for (const c of ["router.version", "router.handshake", "router.default-route", "router.bgp", "router.bfd"]) expect(v.by.get(c)?.status, c).toBe("pass");
    expect(v.out).not.toContain(PASSWORD);
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

  it("a wrong public key on the router's peer, and a router on another release than the site says", async () => {
    m = await router({ peerKey: publicKeyOf(TEST_SECRETS.routerPrivateKey), version: "7.20.8" });
    const v = await verify(m);
    expect(v.by.get("router.peer-key")).toMatchObject({ status: "fail", fault: "wrong-public-key" });
    expect(v.by.get("router.version")).toMatchObject({ status: "fail" });
  });
});
