// The REST verbs of the model against a defconf-like 7.22.3 router.
import { createPrivateKey, createPublicKey, diffieHellman } from "node:crypto";
import { request } from "node:https";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startRouterOsModel, type RunningModel } from "../fixtures/routeros-model/index.js";
import { allStrings, client } from "./client.js";

let m: RunningModel;
let c: ReturnType<typeof client>;

beforeEach(async () => {
  m = await startRouterOsModel({ version: "7.22.3", state: "defconf", auth: { user: "admin", password: "s3cret" } });
  c = client(m, "admin", "s3cret");
});
afterEach(async () => {
  await m.stop();
});

const DROP = "defconf: drop everything else not coming from LAN";

describe("GET", () => {
  it("lists a menu in order, every value a string, with defconf's IPv6 firewall", async () => {
    const r = await c.get("/ipv6/firewall/filter");
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect(allStrings(r.body)).toBe(true);
    const input = r.body.filter((x: any) => x.chain === "input");
    expect(input.at(-1).comment).toBe(DROP);
    expect(input.at(-1)["in-interface-list"]).toBe("!LAN");
    expect(r.body[0][".id"]).toBe("*1");
    expect(r.body[0].disabled).toBe("false");
    expect(r.body[0].dynamic).toBe("false");
  });

  it("filters with ?key=value and trims with .proplist", async () => {
    const r = await c.get(`/ipv6/firewall/filter?chain=input&action=drop&.proplist=.id,comment`);
    expect(r.body).toEqual([
      { ".id": "*2", comment: "defconf: drop invalid" },
      { ".id": "*A", comment: DROP },
    ]);
  });

  it("answers one item by .id, and by name", async () => {
    expect((await c.get("/ipv6/firewall/filter/*2")).body.comment).toBe("defconf: drop invalid");
    const e = await c.get("/interface/ether1");
    expect(e.status).toBe(200);
    expect(e.body.name).toBe("ether1");
  });

  it("answers 404 in RouterOS's shape for a missing item", async () => {
    const r = await c.get("/ipv6/firewall/filter/*FFF");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 404, message: "Not Found" });
  });

  it("answers singletons as one object: resource version, identity, clock", async () => {
    const res = await c.get("/system/resource");
    expect(res.body.version).toBe("7.22.3 (stable)");
    expect(allStrings(res.body)).toBe(true);
    expect((await c.get("/system/identity")).body).toEqual({ name: "MikroTik" });
    expect((await c.get("/system/clock")).body.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("/interface shows every interface with its type, including ones added under /interface/wireguard", async () => {
    await c.put("/interface/wireguard", { name: "wg-relay6" });
    const r = await c.get("/interface?.proplist=name,type");
    expect(r.body).toContainEqual({ name: "ether1", type: "ether" });
    expect(r.body).toContainEqual({ name: "bridge", type: "bridge" });
    expect(r.body).toContainEqual({ name: "wg-relay6", type: "wg" });
    // /interface/wireguard shows only wireguard interfaces.
    expect((await c.get("/interface/wireguard")).body.map((x: any) => x.name)).toEqual(["wg-relay6"]);
  });
});

describe("PUT", () => {
  it("adds, returns the object with its .id; ids are increasing hex; booleans come back as true/false", async () => {
    const a = await c.put("/ipv6/firewall/filter", { chain: "forward", action: "accept", comment: "a", disabled: "yes" });
    expect(a.status).toBe(200);
    expect(a.body[".id"]).toBe("*17");
    expect(a.body.disabled).toBe("true");
    expect(a.body.comment).toBe("a");
    expect(allStrings(a.body)).toBe(true);
    const b = await c.put("/ipv6/firewall/filter", { chain: "forward", comment: "b", log: true, "hop-limit": "equal:1" });
    expect(b.body[".id"]).toBe("*18");
    expect(b.body.log).toBe("true");
    const all = (await c.get("/ipv6/firewall/filter")).body;
    expect(all.at(-1)[".id"]).toBe("*18");
  });

  it("place-before inserts before the given .id (order matters) and is not stored", async () => {
    const drop = (await c.get(`/ipv6/firewall/filter?comment=${encodeURIComponent(DROP)}&chain=input`)).body[0];
    const r = await c.put("/ipv6/firewall/filter", { chain: "input", action: "accept", protocol: "udp", "dst-port": "51820", comment: "relay6: wg", "place-before": drop[".id"] });
    expect(r.status).toBe(200);
    expect(r.body["place-before"]).toBeUndefined();
    const input = (await c.get("/ipv6/firewall/filter?chain=input")).body.map((x: any) => x.comment);
    expect(input.slice(-2)).toEqual(["relay6: wg", DROP]);
  });

  it("place-before an unknown .id is refused", async () => {
    const r = await c.put("/ipv6/firewall/filter", { chain: "input", "place-before": "*999" });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe(400);
  });

  it("rejects unknown arguments, missing required ones, and values off a yes/no list", async () => {
    const u = await c.put("/ipv6/firewall/filter", { chain: "input", frobnicate: "1" });
    expect(u.status).toBe(400);
    expect(u.body).toEqual({ error: 400, message: "Bad Request", detail: "unknown parameter frobnicate" });
    const missing = await c.put("/ipv6/firewall/filter", { action: "drop" });
    expect(missing.body).toEqual({ error: 400, message: "Bad Request", detail: "missing value(s) of argument(s) chain" });
    const peers = await c.put("/interface/wireguard/peers", { comment: "x" });
    expect(peers.body.detail).toBe("missing value(s) of argument(s) interface allowed-address");
    const bad = await c.put("/ipv6/firewall/filter", { chain: "input", disabled: "maybe" });
    expect(bad.body.detail).toBe("input does not match any value of disabled");
  });

  it("rejects a reference to an interface or list that does not exist", async () => {
    const r = await c.put("/ipv6/address", { address: "2001:db8::1/64", interface: "nope" });
    expect(r.body).toEqual({ error: 400, message: "Bad Request", detail: "input does not match any value of interface" });
    const l = await c.put("/ipv6/firewall/filter", { chain: "input", "in-interface-list": "!NOPE" });
    expect(l.body.detail).toBe("input does not match any value of in-interface-list");
    expect((await c.put("/ipv6/address", { address: "2001:db8::1/64", interface: "bridge" })).status).toBe(200);
  });

  it("refuses a second /ipv6/nd entry for one interface; the default entry is interface=all", async () => {
    const nd = (await c.get("/ipv6/nd")).body;
    expect(nd).toHaveLength(1);
    expect(nd[0].interface).toBe("all");
    const again = await c.put("/ipv6/nd", {});
    expect(again.body).toEqual({ error: 400, message: "Bad Request", detail: "failure: configuration for this interface already exists" });
    expect((await c.put("/ipv6/nd", { interface: "bridge", "advertise-dns": "self" })).status).toBe(200);
    const dup = await c.put("/ipv6/nd", { interface: "bridge" });
    expect(dup.status).toBe(400);
    expect(dup.body.detail).toBe("failure: configuration for this interface already exists");
    expect((await c.get("/ipv6/nd")).body).toHaveLength(2);
  });

  it("refuses a second interface with the same name", async () => {
    expect((await c.put("/interface/wireguard", { name: "wg0" })).status).toBe(200);
    const r = await c.put("/interface/wireguard", { name: "wg0" });
    expect(r.status).toBe(400);
    expect(r.body.detail).toBe("failure: already have interface with such name");
  });

  it("wireguard add makes a real x25519 key pair; a given private key gives its public key", async () => {
    const a = (await c.put("/interface/wireguard", { name: "wg-a" })).body;
    const b = (await c.put("/interface/wireguard", { name: "wg-b" })).body;
    expect(a["public-key"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    // Each side's shared secret agrees only if the public keys belong to the private keys.
    const der = (k: string) =>
      createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(k, "base64")]), format: "der", type: "pkcs8" });
    const pub = (k: string) => createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(k, "base64").toString("base64url") }, format: "jwk" });
    const s1 = diffieHellman({ privateKey: der(a["private-key"]), publicKey: pub(b["public-key"]) });
    const s2 = diffieHellman({ privateKey: der(b["private-key"]), publicKey: pub(a["public-key"]) });
    expect(s1.equals(s2)).toBe(true);
    // RFC 7748 section 6.1, Alice.
    const alice = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex").toString("base64");
    const given = (await c.put("/interface/wireguard", { name: "wg-c", "private-key": alice })).body;
    expect(Buffer.from(given["public-key"], "base64").toString("hex")).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  });

  it("refuses PUT on an unknown menu and on a menu without add", async () => {
    const r = await c.put("/ipv6/frobnicate", { a: "b" });
    expect(r.body).toEqual({ error: 400, message: "Bad Request", detail: "no such command prefix" });
    const s = await c.put("/system/identity", { name: "x" });
    expect(s.status).toBe(400);
  });
});

describe("PATCH and DELETE", () => {
  it("PATCH sets and returns the whole object; unknown args are refused", async () => {
    const r = await c.patch("/ipv6/firewall/filter/*1", { comment: "changed", disabled: "yes" });
    expect(r.status).toBe(200);
    expect(r.body[".id"]).toBe("*1");
    expect(r.body.comment).toBe("changed");
    expect(r.body.disabled).toBe("true");
    expect(r.body.chain).toBe("input");
    expect((await c.get("/ipv6/firewall/filter/*1")).body.comment).toBe("changed");
    const bad = await c.patch("/ipv6/firewall/filter/*1", { bogus: "1" });
    expect(bad.body).toEqual({ error: 400, message: "Bad Request", detail: "unknown parameter bogus" });
    expect((await c.patch("/ipv6/firewall/filter/*999", { comment: "x" })).status).toBe(404);
  });

  it("PATCH cannot make a duplicate nd entry", async () => {
    const added = (await c.put("/ipv6/nd", { interface: "bridge" })).body;
    const r = await c.patch(`/ipv6/nd/${added[".id"]}`, { interface: "all" });
    expect(r.body.detail).toBe("failure: configuration for this interface already exists");
  });

  it("DELETE removes: 204 and no body, then 404", async () => {
    const d = await c.del("/ipv6/firewall/filter/*3");
    expect(d.status).toBe(204);
    expect(d.text).toBe("");
    expect((await c.get("/ipv6/firewall/filter/*3")).status).toBe(404);
    expect((await c.del("/ipv6/firewall/filter/*3")).status).toBe(404);
  });
});

describe("POST", () => {
  it("print with .query (API stack language) and .proplist", async () => {
    const r = await c.post("/ipv6/firewall/filter/print", { ".query": ["chain=input", "action=drop", "protocol=icmpv6", "#|", "#&"], ".proplist": [".id", "action"] });
    // input AND (drop OR icmpv6)
    expect(r.body).toEqual([
      { ".id": "*2", action: "drop" },
      { ".id": "*3", action: "accept" },
      { ".id": "*A", action: "drop" },
    ]);
    const not = await c.post("/ipv6/firewall/filter/print", { ".query": ["chain=forward", "#!"], ".proplist": ".id" });
    expect(not.body).toHaveLength(10);
    expect((await c.post("/ipv6/firewall/filter/print", { ".query": ["disabled=no", "chain=input"] })).body).toHaveLength(10);
  });

  it("add returns {ret: id}; set/remove/disable/move by .id or numbers answer []", async () => {
    const a = await c.post("/ipv6/firewall/filter/add", { chain: "input", comment: "p" });
    expect(a.body).toEqual({ ret: "*17" });
    expect((await c.post("/ipv6/firewall/filter/set", { ".id": "*17", comment: "q" })).body).toEqual([]);
    expect((await c.get("/ipv6/firewall/filter/*17")).body.comment).toBe("q");
    expect((await c.post("/ipv6/firewall/filter/disable", { numbers: "*17" })).body).toEqual([]);
    expect((await c.get("/ipv6/firewall/filter/*17")).body.disabled).toBe("true");
    expect((await c.post("/ipv6/firewall/filter/move", { numbers: "*17", destination: "*1" })).body).toEqual([]);
    expect((await c.get("/ipv6/firewall/filter")).body[0][".id"]).toBe("*17");
    expect((await c.post("/ipv6/firewall/filter/remove", { numbers: "*17,*1" })).body).toEqual([]);
    const ids = (await c.get("/ipv6/firewall/filter")).body.map((x: any) => x[".id"]);
    expect(ids).not.toContain("*17");
    expect(ids).not.toContain("*1");
  });

  it("set on a singleton", async () => {
    expect((await c.post("/system/identity/set", { name: "home-router" })).body).toEqual([]);
    expect((await c.get("/system/identity")).body).toEqual({ name: "home-router" });
    expect((await c.post("/system/identity/set", { colour: "red" })).body.detail).toBe("unknown parameter colour");
  });

  it("unknown commands and menus in RouterOS's shape; commands the model does not run say so", async () => {
    const r = await c.post("/ipv6/firewall/filter/frobnicate", {});
    expect(r.body).toEqual({ error: 400, message: "Bad Request", detail: "no such command or directory (frobnicate)" });
    const p = await c.post("/ipv6/nope/print", {});
    expect(p.body.detail).toBe("no such command prefix");
    const ping = await c.post("/ping", { address: "::1", count: "1" });
    expect(ping.status).toBe(400);
    expect(ping.body.detail).toMatch(/^routeros-model: not modelled/);
  });

  it("POST /execute runs a script; as-string returns its output, or the error text with 200", async () => {
    const ok = await c.post("/execute", { script: ':put "hi"; /ipv6/firewall/filter/remove [find where comment~"^defconf: accept ipsec"]', "as-string": "" });
    expect(ok.body).toEqual({ ret: "hi" });
    expect((await c.get("/ipv6/firewall/filter?.proplist=comment")).body.filter((x: any) => /ipsec/.test(x.comment))).toHaveLength(2);
    const bad = await c.post("/execute", { script: "/ipv6/nd add interface=all", "as-string": "" });
    expect(bad.status).toBe(200);
    expect(bad.body.ret).toBe("failure: configuration for this interface already exists (/ipv6/nd/add; line 1)");
    const unsupported = await c.post("/execute", { script: ":foreach i in=[/ipv6/nd find] do={}", "as-string": "" });
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.detail).toMatch(/^routeros-model: not modelled/);
  });
});

describe("auth", () => {
  it("answers 401 without, or with wrong, credentials", async () => {
    const none = await c.raw("GET", "/system/resource", undefined, {});
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 401, message: "Unauthorized" });
    const wrong = await client(m, "admin", "nope").get("/system/resource");
    expect(wrong.status).toBe(401);
    const wrongUser = await client(m, "root", "s3cret").get("/system/resource");
    expect(wrongUser.status).toBe(401);
    expect((await c.get("/system/resource")).status).toBe(200);
  });
});

describe("HTTPS", () => {
  it("serves a self-signed certificate whose fingerprint the model reports", async () => {
    const t = await startRouterOsModel({ version: "7.22.3", tls: true });
    try {
      expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { status, body, fingerprint } = await new Promise<{ status: number; body: string; fingerprint: string }>((resolve, reject) => {
        const req = request(
          `${t.url}/rest/system/identity`,
          { ca: t.cert!.pem, headers: { Authorization: "Basic " + Buffer.from("admin:").toString("base64") } },
          (res) => {
            let b = "";
            const fp = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint256;
            res.on("data", (d) => (b += d));
            res.on("end", () => resolve({ status: res.statusCode!, body: b, fingerprint: fp }));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({ name: "MikroTik" });
      expect(fingerprint).toBe(t.cert!.fingerprint256);
    } finally {
      await t.stop();
    }
  });
});

describe("seeds", () => {
  it("the empty state has ports, built-in lists and the default nd entry, and no firewall", async () => {
    const e = await startRouterOsModel({ version: "7.22.3", state: "empty" });
    try {
      const ec = client(e);
      expect((await ec.get("/ipv6/firewall/filter")).body).toEqual([]);
      expect((await ec.get("/interface/ethernet?.proplist=name")).body).toHaveLength(5);
      expect((await ec.get("/ipv6/nd?.proplist=interface")).body).toEqual([{ interface: "all" }]);
      expect((await ec.get("/interface/list?.proplist=name")).body.map((x: any) => x.name)).toEqual(["all", "none", "dynamic", "static"]);
    } finally {
      await e.stop();
    }
  });

  it("a custom seed", async () => {
    const e = await startRouterOsModel({ version: "7.22.3", state: { "ipv6/firewall/filter": [{ chain: "input", action: "drop", comment: "only" }] } });
    try {
      const r = (await client(e).get("/ipv6/firewall/filter?.proplist=.id,comment")).body;
      expect(r).toEqual([{ ".id": "*1", comment: "only" }]);
      expect(e.state.list("ipv6/firewall/filter")[0]!.comment).toBe("only");
    } finally {
      await e.stop();
    }
  });
});
