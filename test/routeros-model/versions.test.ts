// The model answers as the version it was started as: menus and args from that version's tree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUPPORTED_VERSIONS, startRouterOsModel, type RunningModel } from "../fixtures/routeros-model/index.js";
import { client } from "./client.js";

const minor = (v: string) => Number(v.split(".")[1]);

describe.each(SUPPORTED_VERSIONS.map((v) => [v]))("RouterOS %s", (version) => {
  let m: RunningModel;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    m = await startRouterOsModel({ version, state: "empty" });
    c = client(m);
  });
  afterAll(async () => {
    await m.stop();
  });

  it("reports its version in /system/resource", async () => {
    expect((await c.get("/system/resource")).body.version).toBe(`${version} (stable)`);
  });

  it("/routing/bgp/instance exists from 7.20 only", async () => {
    const r = await c.get("/routing/bgp/instance");
    if (minor(version) >= 20) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual([]);
    } else {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 400, message: "Bad Request", detail: "no such command prefix" });
    }
  });

  it("BGP connection takes afi= from 7.19, address-families= before", async () => {
    const base = { name: `c-${version}`, "remote.address": "2001:db8::1", "local.role": "ebgp", "remote.as": "65001", ...(minor(version) >= 20 ? { instance: "i1" } : { as: "65000" }) };
    if (minor(version) >= 20) expect((await c.put("/routing/bgp/instance", { name: "i1", as: "65000" })).status).toBe(200);
    const withAfi = await c.put("/routing/bgp/connection", { ...base, afi: "ipv6" });
    const withFamilies = await c.put("/routing/bgp/connection", { ...base, name: `d-${version}`, "address-families": "ipv6" });
    if (minor(version) >= 19) {
      expect(withAfi.status).toBe(200);
      expect(withAfi.body.afi).toBe("ipv6");
      expect(withFamilies.body).toEqual({ error: 400, message: "Bad Request", detail: "unknown parameter address-families" });
    } else {
      expect(withAfi.body).toEqual({ error: 400, message: "Bad Request", detail: "unknown parameter afi" });
      expect(withFamilies.status).toBe(200);
    }
  });

  it("router-id sits on the BGP connection before 7.20 and not from 7.20", async () => {
    const r = await c.post("/routing/bgp/connection/print", {});
    expect(r.status).toBe(200);
    const add = await c.put("/routing/bgp/connection", { name: `r-${version}`, "router-id": "10.0.0.1" });
    if (minor(version) >= 20) expect(add.body.detail).toBe("unknown parameter router-id");
    else expect(add.body.detail).toMatch(/^missing value\(s\) of argument\(s\) /);
  });

  it("requires the args its required-args capture names, limited to args the version has", async () => {
    const r = await c.put("/routing/bgp/connection", {});
    const expected: Record<string, string> = {
      "7.15": "name remote.address local.role",
      "7.18.2": "name remote.address local.role",
      "7.19": "name remote.address local.role",
      "7.20.8": "name instance remote.address local.role",
      "7.21.4": "name instance remote.address local.role",
      "7.22.3": "name instance local.role",
      "7.24": "name instance local.role",
    };
    expect(r.body).toEqual({ error: 400, message: "Bad Request", detail: `missing value(s) of argument(s) ${expected[version]}` });
  });

  it("wireguard peers: is-responder before 7.17, responder after", async () => {
    await c.put("/interface/wireguard", { name: "wg0" });
    const peer = { interface: "wg0", "allowed-address": "::/0", "public-key": "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" };
    const a = await c.put("/interface/wireguard/peers", { ...peer, responder: "yes" });
    const b = await c.put("/interface/wireguard/peers", { ...peer, "is-responder": "yes" });
    if (version === "7.15") {
      expect(a.body.detail).toBe("unknown parameter responder");
      expect(b.status).toBe(200);
    } else {
      expect(a.status).toBe(200);
      expect(a.body.responder).toBe("true");
      expect(b.body.detail).toBe("unknown parameter is-responder");
    }
  });

  it("scheduler days= exists only in 7.24", async () => {
    const r = await c.put("/system/scheduler", { name: "d", days: "mon" });
    if (version === "7.24") expect(r.status).toBe(200);
    else expect(r.body.detail).toBe("unknown parameter days");
  });
});
