// The RouterOS REST client against servers that misbehave on purpose (a trickle, a huge
// answer, a redirect, a handshake that never ends), and the CLI's answers when the router
// cannot be reached: exit 1, one line naming the router and the fix, JSON under --json;
// the router URL's rules (no user info, plain http only to a loopback address) everywhere
// a URL is accepted; control characters from the router never printed raw.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeCert, type RunningModel } from "./fixtures/routeros-model/index.js";
import { RestError, RestFailure, RouterOsRest } from "../src/remote/routeros-rest.js";
import { UserError } from "../src/errors.js";
import { ctx } from "./routeros/fixtures.js";
import { runCli } from "./helpers.js";
import { PASSWORD, apply, planOf, siteVariant, startRouter } from "./apply-router/helpers.js";

// ------------------------------------------------------------------ misbehaving servers

interface Bad {
  url: string;
  port: number;
  /** Requests that reached the handler. */
  hits: number;
  close(): Promise<void>;
}

let cert: { key: string; cert: string; fingerprint: string } | undefined;
function tlsCert() {
  if (!cert) {
    const kc = makeCert();
    cert = { ...kc, fingerprint: new X509Certificate(kc.cert).fingerprint256 };
  }
  return cert;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
  delete process.env.RELAY6_ROUTER_PASSWORD;
  delete process.env.RELAY6_ROUTER_URL;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, tls = false): Promise<Bad> {
  const bad = { hits: 0 } as Bad;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    bad.hits++;
    handler(req, res);
  };
  const server: Server = tls ? createHttpsServer({ key: tlsCert().key, cert: tlsCert().cert }, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  bad.port = (server.address() as { port: number }).port;
  bad.url = `${tls ? "https" : "http"}://127.0.0.1:${bad.port}`;
  bad.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  open.push(bad.close);
  return bad;
}

/** Headers at once, then one byte every 100 ms for ever: never idle, never complete. */
function trickle(_req: IncomingMessage, res: ServerResponse) {
  res.writeHead(200, { "content-type": "application/json" });
  res.write("[");
  const t = setInterval(() => res.write(" "), 100);
  res.on("close", () => clearInterval(t));
}

/** A TCP server that accepts and never says a word (a TLS handshake that never ends). */
async function silent(): Promise<Bad> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const bad: Bad = {
    url: `https://127.0.0.1:${port}`,
    port,
    hits: 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  open.push(bad.close);
  return bad;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const client = (url: string, extra: Partial<ConstructorParameters<typeof RouterOsRest>[0]> = {}) => {
  const rest = new RouterOsRest({ url, user: "admin", password: PASSWORD, ...extra });
  open.push(async () => rest.close());
  return rest;
};

async function timed<T>(p: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - t0 };
}

const codeOf = (e: unknown) => (e as UserError).diagnostics?.[0]?.code;

// ------------------------------------------------------------------ deadlines

describe("one deadline per request: connect, TLS, headers and body together", () => {
  it("a server that trickles its answer (http): a 1 s deadline returns within 1.5 s", async () => {
    const bad = await serve(trickle);
    const { error, ms } = await timed(client(bad.url, { timeoutMs: 1000 }).get("/ip/address"));
    expect(error).toBeInstanceOf(RestFailure);
    expect(codeOf(error)).toBe("router-timeout");
    expect((error as Error).message).toBe(`router ${bad.url}: GET /rest/ip/address: no complete answer within 1000 ms`);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1500);
  }, 10_000);

  it("the same over https with a pinned certificate", async () => {
    const bad = await serve(trickle, true);
    const { error, ms } = await timed(client(bad.url, { timeoutMs: 1000, fingerprint: tlsCert().fingerprint }).get("/ip/address"));
    expect(codeOf(error)).toBe("router-timeout");
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1500);
  }, 10_000);

  it("a TLS handshake that never ends (pinned and CA-checked): the deadline holds", async () => {
    const bad = await silent();
    const dir = mkdtempSync(path.join(tmpdir(), "relay6-ca-"));
    writeFileSync(path.join(dir, "ca.pem"), tlsCert().cert);
    for (const check of [{ fingerprint: tlsCert().fingerprint }, { caFile: path.join(dir, "ca.pem") }]) {
      const { error, ms } = await timed(client(bad.url, { timeoutMs: 1000, ...check }).version());
      expect(codeOf(error)).toBe("router-timeout");
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(ms).toBeLessThan(1500);
    }
  }, 10_000);

  it("the run's budget: requests that each answer in time stop when the whole run's time is up", async () => {
    const bad = await serve((_req, res) => {
      setTimeout(() => res.end("[]"), 400);
    });
    const rest = client(bad.url, { timeoutMs: 5000, runTimeoutMs: 1000 });
    const t0 = performance.now();
    let answered = 0;
    let error: unknown;
    try {
      for (let i = 0; i < 10; i++) {
        await rest.get("/ip/address");
        answered++;
      }
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - t0;
    expect(answered).toBe(2); // 400 ms, 800 ms; the third is cut at 1000 ms
    expect(codeOf(error)).toBe("router-run-timeout");
    expect((error as Error).message).toContain("the run's time budget against the router (1000 ms) is used up");
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1500);
    // Once spent, no request starts at all.
    const hits = bad.hits;
    const next = await timed(rest.get("/ip/address"));
    expect(codeOf(next.error)).toBe("router-run-timeout");
    expect(next.ms).toBeLessThan(50);
    expect(bad.hits).toBe(hits);
  }, 10_000);

  it("relay6 apply router --timeout 1000 against a trickling server: exit 1 within 1.5 s, one line naming the router and the fix", async () => {
    const bad = await serve(trickle);
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const t0 = performance.now();
    const r = await runCli("apply", "router", site, "--router-url", bad.url, "--timeout", "1000", "--dry-run");
    const ms = performance.now() - t0;
    expect(r.code).toBe(1);
    expect(ms).toBeLessThan(1500);
    expect(r.stderr).toContain(`relay6: router ${bad.url}: GET /rest/system/resource: no complete answer within 1000 ms\n`);
    expect(r.stderr).toContain("fix: check that the router answers on this URL");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toContain("bug");
  }, 10_000);

  it("--run-timeout bounds the whole apply; a bad value is exit 2", async () => {
    const bad = await serve((req, res) => {
      setTimeout(() => res.end(JSON.stringify(req.url === "/rest/system/resource" ? { version: "7.22.3 (stable)" } : [])), 300);
    });
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const t0 = performance.now();
    const r = await runCli("apply", "router", site, "--router-url", bad.url, "--run-timeout", "1000", "--dry-run", "--json");
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ exit: 1, diagnostics: [{ code: "router-run-timeout" }] });
    for (const v of ["abc", "10", "30000"]) {
      const b = await runCli("apply", "router", site, "--router-url", bad.url, "--run-timeout", v, "--confirm", "60", "--dry-run");
      expect(b.code, v).toBe(2);
      expect(b.stderr).toContain(`--run-timeout ${v}`);
    }
  }, 10_000);
});

// ------------------------------------------------------------------ size, redirects, shape

describe("answers relay6 refuses", () => {
  it("a body above the cap, streamed without a length: refused once past the cap", async () => {
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const bad = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const pump = () => {
        while (!res.destroyed && sent < 1 << 30) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      pump();
    });
    const { error, ms } = await timed(client(bad.url, { timeoutMs: 20_000 }).get("/ip/address"));
    expect(codeOf(error)).toBe("router-answer-too-large");
    expect((error as Error).message).toContain(`the answer is larger than ${16 * 1024 * 1024} bytes: refused`);
    expect(ms).toBeLessThan(10_000);
    expect(sent).toBeLessThan(256 * 1024 * 1024); // the client stopped reading; the server did not send a GiB
  }, 30_000);

  it("a declared Content-Length above the cap: refused before the body is read", async () => {
    const bad = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(100 << 20) });
      res.write("[");
    });
    const { error, ms } = await timed(client(bad.url, { maxBodyBytes: 1 << 20 }).get("/ip/address"));
    expect(codeOf(error)).toBe("router-answer-too-large");
    expect(ms).toBeLessThan(1000);
  });

  it("a redirect is an error, never followed; the Location is named without user info, path or query", async () => {
    const bad = await serve((_req, res) => {
      res.writeHead(302, { location: "https://admin:hunter2@evil.example/login?token=SECRET-TOKEN#frag" });
      res.end();
    }, true);
    const { error } = await timed(client(bad.url, { fingerprint: tlsCert().fingerprint }).version());
    expect(error).toBeInstanceOf(RestFailure);
    expect(error).not.toBeInstanceOf(RestError); // not "the router refused": no rollback is run at it
    expect(codeOf(error)).toBe("router-redirect");
    const msg = (error as Error).message;
    expect(msg).toBe(`router ${bad.url}: GET /rest/system/resource: answered 302, a redirect to https://evil.example/…: relay6 follows no redirects`);
    expect(msg).not.toContain("SECRET-TOKEN");
    expect(msg).not.toContain("hunter2");
    expect(bad.hits).toBe(1);
  });

  it("a 200 that is not JSON (not a RouterOS REST API): an error, not an empty router", async () => {
    const bad = await serve((_req, res) => res.end("<html>router login</html>"));
    const { error } = await timed(client(bad.url).get("/ip/address"));
    expect(codeOf(error)).toBe("router-not-rest");
  });
});

// ------------------------------------------------------------------ exit statuses

describe("the router cannot be reached or refuses: exit 1, one line naming the router and the fix, JSON with --json", () => {
  async function both(...args: string[]) {
    const text = await runCli(...args);
    const json = await runCli(...args, "--json");
    return { text, json, error: JSON.parse(json.stdout).error as { message: string; exit: number; diagnostics: { code: string; fix: string }[] } };
  }

  function oneLine(r: { code: number; stderr: string }, url: string, code: string) {
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("relay6: "));
    expect(lines.length).toBe(1); // progress lines aside, one line names the router and what failed
    expect(lines[0]!.startsWith(`relay6: router ${url}`)).toBe(true);
    expect(r.stderr).toContain(`error ${code}: `);
    expect(r.stderr).toMatch(/\n {4}fix: \S/);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error|bug/);
  }

  it("connection refused (apply router, verify, doctor)", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    for (const args of [["apply", "router", site, "--router-url", url, "--dry-run"], ["verify", site, "--no-vps", "--router-url", url], ["doctor", "--router-url", url]]) {
      const { text, json, error } = await both(...args);
      oneLine(text, url, "router-unreachable");
      expect(text.stderr).toMatch(/^relay6: router .*: connection refused$/m);
      expect(json.code).toBe(1);
      expect(error.exit).toBe(1);
      expect(error.message).toContain(`router ${url}`);
      expect(error.diagnostics[0]!.code).toBe("router-unreachable");
    }
  });

  it("a name that does not resolve", async () => {
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const url = "https://relay6-no-such-router.invalid";
    const { text, error } = await both("apply", "router", siteVariant(), "--router-url", url, "--router-fingerprint", "ab".repeat(32), "--timeout", "3000", "--dry-run");
    oneLine(text, url, "router-dns");
    expect(error.diagnostics[0]!.code).toBe("router-dns");
  });

  it("TLS: a pin that does not match, a CA that did not sign the certificate", async () => {
    const m = await startRouter("7.22.3", "defconf", { tls: true });
    open.push(() => m.stop());
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const pin = await both("apply", "router", site, "--router-url", m.url, "--router-fingerprint", "ab".repeat(32), "--dry-run");
    oneLine(pin.text, m.url, "router-tls-pin");
    expect(pin.error.diagnostics[0]!.code).toBe("router-tls-pin");
    const dir = mkdtempSync(path.join(tmpdir(), "relay6-ca-"));
    writeFileSync(path.join(dir, "other-ca.pem"), makeCert().cert);
    const ca = await both("apply", "router", site, "--router-url", m.url, "--router-ca", path.join(dir, "other-ca.pem"), "--dry-run");
    oneLine(ca.text, m.url, "router-tls");
    expect(ca.error.diagnostics[0]!.code).toBe("router-tls");
    expect(m.requests).toEqual([]); // the password never went out
  });

  it("401 and 403 from the router", async () => {
    const m = await startRouter("7.22.3", "defconf");
    open.push(() => m.stop());
    process.env.RELAY6_ROUTER_PASSWORD = "wrong";
    const r401 = await both("apply", "router", siteVariant(), "--router-url", m.url, "--dry-run");
    oneLine(r401.text, m.url, "router-auth");
    expect(r401.text.stderr).toContain("RELAY6_ROUTER_PASSWORD");
    const bad = await serve((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: 403, message: "Forbidden", detail: "not enough permissions" }));
    });
    const r403 = await both("verify", siteVariant(), "--no-vps", "--router-url", bad.url);
    oneLine(r403.text, bad.url, "router-forbidden");
    expect(r403.text.stderr).toContain("rest-api");
    // doctor reads many menus: a refusal after the first is an error too, not a menu skipped
    // (only "no such menu" is: a release without /routing/bgp/instance).
    const partly = await serve((req, res) => {
      if (req.url === "/rest/system/resource") return void res.end(JSON.stringify({ version: "7.22.3 (stable)" }));
      res.writeHead(req.url === "/rest/routing/bgp/instance" ? 400 : 403, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: 403, message: "Forbidden" }));
    });
    const doctor = await both("doctor", "--router-url", partly.url);
    oneLine(doctor.text, partly.url, "router-forbidden");
    expect(doctor.text.stderr).toContain("GET /rest/interface/wireguard: 403 Forbidden");
  });

  it("bad arguments are exit 2: --timeout, --router-fingerprint, --router-ca, a URL that is none", async () => {
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const cases: string[][] = [
      ["--router-url", "https://192.0.2.1", "--timeout", "soon"],
      ["--router-url", "https://192.0.2.1", "--router-fingerprint", "not-hex"],
      ["--router-url", "https://192.0.2.1", "--router-ca", "/nonexistent/ca.pem"],
      ["--router-url", "not a url"],
      ["--router-url", "ftp://192.0.2.1"],
      ["--router-url", "https://192.0.2.1/rest"],
    ];
    for (const c of cases) {
      const r = await runCli("apply", "router", site, ...c, "--dry-run", "--json");
      expect(r.code, c.join(" ")).toBe(2);
      expect(JSON.parse(r.stdout).error.exit).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    }
  });
});

// ------------------------------------------------------------------ the router URL

describe("the router URL: plain http only to a literal loopback address, never user info", () => {
  it("http to a name that merely starts with 127. is refused before any lookup; loopback literals pass", () => {
    for (const url of ["http://127.evil.example", "http://127.0.0.1.evil.example", "http://localhost.evil.example", "http://192.168.88.1", "http://[::ffff:127.0.0.1]", "http://router.local"]) {
      let err: unknown;
      try {
        new RouterOsRest({ url, user: "admin", password: PASSWORD });
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).message).toContain("plain http");
      expect((err as UserError).diagnostics[0]!.fix).toContain("https://");
    }
    for (const url of ["http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:8080", "http://[::1]:8080", "http://LOCALHOST"]) {
      expect(() => client(url), url).not.toThrow();
    }
  });

  it("user info is refused in --router-url, RELAY6_ROUTER_URL, router.api.url and doctor's --router-url, never echoing the password", async () => {
    const m = await startRouter("7.22.3", "defconf");
    open.push(() => m.stop());
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const withPw = m.url.replace("http://", "http://admin:Sup3rSecretPw@");
    const site = siteVariant();
    const runs = {
      "--router-url": await runCli("apply", "router", site, "--router-url", withPw, "--dry-run"),
      verify: await runCli("verify", site, "--no-vps", "--router-url", withPw),
      doctor: await runCli("doctor", "--router-url", withPw, "--json"),
      env: await (async () => {
        process.env.RELAY6_ROUTER_URL = withPw;
        return runCli("apply", "router", site, "--dry-run");
      })(),
    };
    for (const [how, r] of Object.entries(runs)) {
      expect(r.code, how).toBe(2);
      expect(r.stdout + r.stderr, how).not.toContain("Sup3rSecretPw");
      expect(r.stderr, how).toContain(`the router URL ${m.url}/ (`);
      expect(r.stderr, how).toContain("holds a user name or password");
      expect(r.stderr, how).toContain("RELAY6_ROUTER_PASSWORD");
    }
    expect(runs.env.stderr).toContain("(RELAY6_ROUTER_URL)");
    expect(runs["--router-url"].stderr).toContain("(--router-url)");
    expect(m.requests).toEqual([]);
    delete process.env.RELAY6_ROUTER_URL;
    // In the site file: the schema refuses it, with file:line, never the value.
    const inSite = siteVariant((s) => (s.router.api = { url: "https://admin:Sup3rSecretPw@192.168.88.1" }));
    const r = await runCli("apply", "router", inSite, "--dry-run");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/home\.yaml:\d+:\d+: error invalid-value at router\.api\.url: must be the router's REST base URL without user name, password/);
    expect(r.stdout + r.stderr).not.toContain("Sup3rSecretPw");
    const plainInSite = siteVariant((s) => (s.router.api = { url: "http://127.evil.example" }));
    const p = await runCli("lint", plainInSite);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("at router.api.url: must be https://, or http:// only to 127.0.0.1, ::1 or localhost");
  });
});

// ------------------------------------------------------------------ control characters

describe("text from the router never reaches the terminal raw", () => {
  const HOSTILE = "\u001b]0;pwned\u0007\u001b[2J\u009b31m";
  const RSC = "\\1B]0;pwned\\07\\1B[2J\\C2\\9B31m";

  let m: RunningModel;
  async function hostileRouter() {
    m = await startRouter("7.22.3", "defconf");
    open.push(() => m.stop());
    await apply(m, planOf("7.22.3"), ctx);
    const r = m.runScript(`/interface/wireguard/peers/set [find where comment~"relay6:home:peer"] endpoint-address="${RSC}203.0.113.10"`);
    expect(r.error).toBeUndefined();
  }

  it("object values in the diff: escaped in text; --json stays valid and means the same", async () => {
    await hostileRouter();
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const site = siteVariant();
    const text = await runCli("apply", "router", site, "--router-url", m.url, "--dry-run");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("endpoint-address: \\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m203.0.113.10 -> 203.0.113.10");
    expect(text.stdout + text.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const json = await runCli("apply", "router", site, "--router-url", m.url, "--dry-run", "--json");
    expect(json.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const peer = JSON.parse(json.stdout).changes.find((c: { menu: string }) => c.menu === "/interface/wireguard/peers");
    expect(peer.from["endpoint-address"]).toBe(`${HOSTILE}203.0.113.10`);
  });

  it("a router's error message: escaped, on one line", async () => {
    const bad = await serve((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: 400, message: `Bad Request${HOSTILE}`, detail: "line one\nFAKE: all good\r" }));
    });
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const r = await runCli("verify", siteVariant(), "--no-vps", "--router-url", bad.url);
    expect(r.code).toBe(1);
    const first = r.stderr.split("\n").find((l) => l.startsWith("relay6: "));
    expect(first).toBe(`relay6: router ${bad.url}: GET /rest/system/resource: 400 Bad Request\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m (line one\\u000aFAKE: all good\\u000d)`);
    expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});
