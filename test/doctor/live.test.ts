// doctor with a live RouterOS source: the REST model configured by hand the recipe's way,
// read over REST, checked with the VPS's wg0.conf from a file.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRouterOsModel, type RunningModel } from "../fixtures/routeros-model/index.js";
import { REPO, runCli } from "../helpers.js";

const PASSWORD = "s3cret-router-pw";
const ROUTER_KEY = "4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=";

async function rest(m: RunningModel, method: string, path: string, body?: unknown) {
  const res = await fetch(`${m.url}/rest${path}`, {
    method,
    headers: { Authorization: "Basic " + Buffer.from(`admin:${PASSWORD}`).toString("base64"), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

describe("doctor --router-url (RouterOS over REST)", () => {
  let m: RunningModel;
  beforeAll(async () => {
    m = await startRouterOsModel({ version: "7.22.3", state: "defconf", auth: { user: "admin", password: PASSWORD } });
    // The recipe's section 2 and 4b, typed by hand (through REST here).
    await rest(m, "PUT", "/interface/wireguard", { name: "wg-host", "listen-port": "51820", mtu: "1420", "private-key": ROUTER_KEY });
    await rest(m, "PUT", "/interface/wireguard/peers", { interface: "wg-host", name: "vps", "public-key": "KsdaAUibD4E7d4q0fLJ3Kn+kPwFYkDmMtoSYUvy43Is=", "endpoint-address": "203.0.113.10", "endpoint-port": "51820", "allowed-address": "::/0", "persistent-keepalive": "25s" });
    await rest(m, "PUT", "/ipv6/address", { address: "2401:4520:110b::2/64", interface: "wg-host", advertise: "no" });
    for (const [a, i] of [["2401:4520:110b:1::1/64", "bridge"], ["2401:4520:110b:11::1/64", "bridge"]]) await rest(m, "PUT", "/ipv6/address", { address: a, interface: i, advertise: "yes" });
    await rest(m, "PUT", "/ipv6/route", { "dst-address": "::/0", gateway: "2401:4520:110b::1%wg-host", "check-gateway": "ping", comment: "webhorizon primary" });
    await rest(m, "PUT", "/routing/bgp/instance", { name: "default-bgp", as: "65001", "router-id": "192.168.88.1" });
    await rest(m, "PUT", "/routing/bgp/template", { name: "tpl-host", as: "65001", "use-bfd": "yes" });
    await rest(m, "PUT", "/routing/bgp/connection", { name: "host-vps", instance: "default-bgp", "remote.address": "2401:4520:110b::1", "remote.as": "65002", "local.address": "2401:4520:110b::2", "local.role": "ebgp", templates: "tpl-host", afi: "ipv6" });
  });
  afterAll(async () => {
    await m.stop();
  });

  it("finds the traps from the live router plus a wg0.conf file, and never prints the router's secrets", async () => {
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    try {
      const prev = process.cwd();
      process.chdir(REPO);
      const r = await runCli("doctor", "--router-url", m.url, "--wg-conf", join("test/doctor/fixtures/recipe-as-written/wg0.conf"), "--json");
      process.chdir(prev);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout);
      const codes = report.findings.map((f: { code: string }) => f.code);
      // The router advertises 2401:4520:110b:11::/64; the VPS's AllowedIPs list :20:: instead.
      expect(report.findings).toContainEqual(expect.objectContaining({ code: "allowed-ips-missing-segment", message: expect.stringContaining("2401:4520:110b:11::/64") }));
      // BGP asks for BFD, but nothing on the input chain accepts it before defconf's drop.
      expect(codes).toContain("routeros-input-drops-bfd");
      // The recipe's static route with check-gateway=ping is still there.
      expect(codes).toContain("static-failover-slow");
      expect(report.inputs.map((i: { origin: string }) => i.origin).join(" ")).toContain(`rest ${m.url}`);
      for (const secret of [ROUTER_KEY, PASSWORD, "PYMyN3ObYIY44ULcYBVmCKs7kXINjfcQomuko+mmq+M="]) expect(r.stdout + r.stderr).not.toContain(secret);
    } finally {
      delete process.env.RELAY6_ROUTER_PASSWORD;
    }
  });
});
