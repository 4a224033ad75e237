// RouterOS v7 REST API client (/rest over HTTPS, HTTP basic auth). The router's
// certificate is checked against a CA file or a pinned SHA-256 fingerprint; plain http goes
// only to a loopback address; credentials come from the environment or a 0600 file, never
// from the site file or the URL. Each request has one deadline for the whole exchange and
// the run a total budget; answers are capped in size; redirects are errors, never followed.
// Every failure is a UserError naming the router and the fix: 2 for the user's arguments,
// 1 for the router or the network (RestError: the router answered 4xx/5xx; RestFailure:
// it could not be asked, or did not answer as RouterOS REST does).
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import { z } from "zod";
import { EXIT, UserError, type Diagnostic } from "../errors.js";
import { InputFileError, MAX_KEY_BYTES, readInputFile } from "../io/read.js";
import { readPrivateFile } from "../keys/wireguard.js";
import { checkRouterUrl, showUrl } from "../site/router-url.js";
import { printable } from "../terminal.js";
import { parseYamlFile, type YamlFileKind } from "../yaml-file.js";

export interface RestTarget {
  /** Base URL, e.g. https://192.168.88.1 (the /rest prefix is added). */
  url: string;
  /** Where the URL came from ("--router-url", "RELAY6_ROUTER_URL"), for errors about it. */
  urlFrom?: string;
  user: string;
  password: string;
  /** PEM CA bundle that signed the router's certificate. */
  caFile?: string;
  /** SHA-256 fingerprint of the router's certificate (hex, with or without colons). */
  fingerprint?: string;
  /** Deadline of each request as a whole: connect, TLS, headers and body (default 10 s). */
  timeoutMs?: number;
  /** Budget of the whole run against the router, from the client's creation: no request
   *  starts or lasts beyond it (default 120 s). */
  runTimeoutMs?: number;
  /** Largest answer accepted (default 16 MiB). */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RUN_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export type RosObject = Record<string, string>;

/** What the router's REST API answered with an error status (4xx/5xx): the router is
 *  there and refused. Exit 1 (the remote end), naming the router and the fix. */
export class RestError extends UserError {
  constructor(
    readonly status: number,
    readonly body: { error?: number; message?: string; detail?: string },
    readonly request: string,
    router?: string,
  ) {
    // The router's own words, on one line and shortened: they are remote text.
    const said = printable(`${body.message ?? ""}${body.detail ? ` (${body.detail})` : ""}`, { oneLine: true }).slice(0, 300);
    super(`${router ? `router ${router}: ` : ""}${request}: ${status} ${said}`.trimEnd(), [restDiagnostic(status)], EXIT.findings);
    this.name = "RestError";
  }
}

function restDiagnostic(status: number): Diagnostic {
  if (status === 401)
    return { code: "router-auth", severity: "error", path: "", message: "the router refused the user name or password", fix: "check RELAY6_ROUTER_USER and RELAY6_ROUTER_PASSWORD, or the --router-credentials file" };
  if (status === 403)
    return { code: "router-forbidden", severity: "error", path: "", message: "the router's user may not do this", fix: "give the REST user a group with the read, write, sensitive, api and rest-api policies (/user/group)" };
  return { code: "router-refused", severity: "error", path: "", message: "the router's REST API refused the request", fix: "read the router's message above; `relay6 apply router --dry-run` shows what relay6 would send" };
}

/** The router could not be asked or did not answer as a RouterOS REST API does: refused or
 *  unreachable, DNS, a deadline, TLS, a redirect, an oversized or non-JSON answer. Exit 1. */
export class RestFailure extends UserError {
  constructor(
    readonly code: string,
    message: string,
    what: string,
    fix: string,
  ) {
    super(message, [{ code, severity: "error", path: "", message: what, fix }], EXIT.findings);
    this.name = "RestFailure";
  }
}

/** A RouterOS REST list: objects whose values are strings. */
function isRosList(v: unknown): v is RosObject[] {
  return Array.isArray(v) && v.every((o) => typeof o === "object" && o !== null && !Array.isArray(o) && Object.values(o).every((x) => typeof x === "string"));
}

/** A wrong certificate fingerprint, found by PinnedAgent before any request is written. */
class PinMismatch extends Error {
  constructor(readonly got: string, readonly pin: string) {
    super(`router certificate fingerprint ${got} is not the pinned ${pin}`);
  }
}

/** The router URL checked (checkRouterUrl) or refused with exit 2; the error shows the URL
 *  without user info, path or query. */
export function routerBaseUrl(raw: string, from = "the router URL"): URL {
  const c = checkRouterUrl(raw);
  if (c.ok) return c.url;
  throw new UserError(`the router URL ${showUrl(raw)} (${from}) ${c.problem}`, [
    { code: "router-url", severity: "error", path: "", message: c.must, fix: c.fix },
  ]);
}

/** Args whose values are never shown, and args holding scripts (a rollback script may hold
 *  the router's earlier private key): shown as a size only. */
const SECRET_ARGS = new Set(["private-key", "password", "preshared-key"]);
const SCRIPT_ARGS = new Set(["on-event", "source", "script", "contents"]);

/** A request body as it may be logged: secrets as "(secret)", scripts as their size. */
export function redactBody(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_ARGS.has(k) ? "(secret)" : SCRIPT_ARGS.has(k) ? `(script, ${String(v).split("\n").length} lines)` : v,
    ]),
  );
}

export function normaliseFingerprint(fp: string): string {
  return fp.replace(/^sha256:/i, "").replace(/:/g, "").toLowerCase();
}

/** An https agent whose connections are used only once the peer's certificate has the
 *  pinned SHA-256 fingerprint (checked after the handshake, before any request is written). */
class PinnedAgent extends https.Agent {
  /** Connections still in their handshake: close() ends them too. */
  private readonly connecting = new Set<tls.TLSSocket>();

  constructor(private readonly pin: string) {
    super({ keepAlive: true, maxCachedSessions: 0 });
  }

  override createConnection(options: tls.ConnectionOptions, done: (err: Error | null, socket?: Duplex) => void): undefined {
    let called = false;
    const once = (err: Error | null, s?: Duplex) => {
      if (called) return;
      called = true;
      this.connecting.delete(socket);
      done(err, s);
    };
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    this.connecting.add(socket);
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate()?.raw;
      const got = raw ? createHash("sha256").update(raw).digest("hex") : "(none)";
      if (got === this.pin) return once(null, socket);
      socket.destroy();
      once(new PinMismatch(got, this.pin));
    });
    socket.once("error", (e) => once(e));
    socket.once("close", () => once(new Error("socket hang up")));
    return undefined;
  }

  override destroy(): void {
    for (const s of this.connecting) s.destroy();
    this.connecting.clear();
    super.destroy();
  }
}

export class RouterOsRest {
  private readonly base: URL;
  private readonly agent: http.Agent;
  /** The URL as errors name it (no user info: refused anyway). */
  private readonly shown: string;
  private readonly runEnds: number;

  constructor(readonly target: RestTarget) {
    this.base = routerBaseUrl(target.url, target.urlFrom);
    this.shown = this.base.origin;
    this.runEnds = Date.now() + (target.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS);
    if (this.base.protocol === "https:") {
      const ca = target.caFile ? readCa(target.caFile) : undefined;
      const pin = target.fingerprint ? normaliseFingerprint(target.fingerprint) : undefined;
      if (pin !== undefined && !/^[0-9a-f]{64}$/.test(pin))
        throw new UserError("--router-fingerprint is not a SHA-256 fingerprint", [
          { code: "router-fingerprint", severity: "error", path: "", message: "a SHA-256 fingerprint is 64 hex digits (colons and a sha256: prefix allowed)", fix: "copy it from `openssl x509 -noout -fingerprint -sha256 -in router.crt`" },
        ]);
      if (!ca && !pin)
        throw new UserError("the router's certificate must be checked", [
          { code: "router-tls-unchecked", severity: "error", path: "", message: "neither --router-ca nor --router-fingerprint was given", fix: "pass --router-fingerprint SHA256 (openssl x509 -noout -fingerprint -sha256 on the router's certificate) or --router-ca FILE" },
        ]);
      // A pinned certificate replaces the CA check (self-signed router certificates). Node
      // skips checkServerIdentity when the chain does not verify and ignores its answer
      // without rejectUnauthorized, so the pin is checked on each new connection before the
      // agent hands it to a request: nothing (no password) is sent to a wrong certificate.
      this.agent = pin ? new PinnedAgent(pin) : new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
    } else {
      // checkRouterUrl allowed plain http only to a literal loopback address.
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  async request<T = unknown>(method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST", path: string, body?: unknown): Promise<T> {
    const url = new URL(`/rest${path}`, this.base);
    const show = `${method} ${url.pathname}${url.search}`;
    if (method !== "GET") this.target.log?.(`[${this.base.host}]# ${show}${body !== undefined ? ` ${JSON.stringify(redactBody(body))}` : ""}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const lib = url.protocol === "https:" ? https : http;
    const perRequest = this.target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const runLeft = this.runEnds - Date.now();
    if (runLeft <= 0) throw this.runOut(show);
    // One deadline for the whole exchange (connect, TLS, headers, body): node's `timeout`
    // is an idle timeout, which a router trickling bytes never trips.
    const ms = Math.min(perRequest, runLeft);
    const max = this.target.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const fail = (e: Error) =>
        finish(() => {
          reject(e);
          req.destroy();
        });
      const timer = setTimeout(
        () =>
          fail(
            runLeft < perRequest
              ? this.runOut(show)
              : this.failure("router-timeout", show, `no complete answer within ${perRequest} ms`, "check that the router answers on this URL (its www-ssl service, no firewall drop in the way); on a slow link give it more time (apply router: --timeout MS)"),
          ),
        ms,
      );
      const req = lib.request(
        url,
        {
          method,
          agent: this.agent,
          auth: `${this.target.user}:${this.target.password}`,
          headers: { "content-type": "application/json", ...(payload ? { "content-length": payload.length } : {}) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            const to = typeof res.headers.location === "string" ? ` to ${showUrl(res.headers.location, url.href)}` : "";
            return fail(this.failure("router-redirect", show, `answered ${status}, a redirect${to}: relay6 follows no redirects`, "give the URL the router's REST API answers on itself: https://HOST[:PORT] of its www-ssl service"));
          }
          const tooLarge = () => this.failure("router-answer-too-large", show, `the answer is larger than ${max} bytes: refused`, "check that the URL is the router's REST API (its answers to relay6 are far smaller)");
          if (Number(res.headers["content-length"] ?? 0) > max) return fail(tooLarge());
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > max) fail(tooLarge());
            else chunks.push(c);
          });
          res.on("error", (e) => fail(this.transportError(e, show)));
          res.on("close", () => {
            if (!res.complete) fail(this.failure("router-unreachable", show, "the connection closed before the answer was complete", "check the router and the network path to it, then run again"));
          });
          res.on("end", () =>
            finish(() => {
              const text = Buffer.concat(chunks).toString("utf8");
              let parsed: unknown = undefined;
              let json = true;
              try {
                parsed = text ? JSON.parse(text) : undefined;
              } catch {
                json = false;
                parsed = { message: text };
              }
              if (status >= 400) reject(new RestError(status, this.hideCredentials((parsed ?? {}) as RestError["body"]), show, this.shown));
              else if (!json) reject(this.failure("router-not-rest", show, `answered ${status} with something that is not JSON`, "check that the URL is the router's REST API (RouterOS 7, the www-ssl service)"));
              else resolve(parsed as T);
            }),
          );
        },
      );
      req.on("error", (e) => fail(this.transportError(e, show)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** `what` ends the one line naming the router; `brief` (default: `what`) is the diagnostic's. */
  private failure(code: string, request: string, what: string, fix: string, brief = what): RestFailure {
    return new RestFailure(code, `router ${this.shown}: ${request}: ${what}`, brief, fix);
  }

  private runOut(request: string): RestFailure {
    const budget = this.target.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    return this.failure("router-run-timeout", request, `the run's time budget against the router (${budget} ms) is used up`, "check why the router answers slowly; give the run more time (apply router: --run-timeout MS)");
  }

  /** The router's error text without the credentials relay6 sent (a server that reflects
   *  the Authorization header would show them): the password, `user:password`, and its
   *  Basic base64, each as (secret). */
  private hideCredentials(body: RestError["body"]): RestError["body"] {
    const { user, password } = this.target;
    const pair = `${user}:${password}`;
    const b64 = Buffer.from(pair).toString("base64");
    const secrets = [b64, b64.replace(/=+$/, ""), pair, encodeURIComponent(password), password].filter((x) => x !== "").sort((a, b) => b.length - a.length);
    const hide = (v: unknown) => (typeof v === "string" ? secrets.reduce((t, x) => t.split(x).join("(secret)"), v) : v);
    const b = typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
    return { ...b, message: hide(b.message) as string | undefined, detail: hide(b.detail) as string | undefined };
  }

  /** A socket or TLS error as one line naming the router and the fix. */
  private transportError(e: Error, request: string): RestFailure {
    if (e instanceof RestFailure) return e;
    if (e instanceof PinMismatch)
      return this.failure(
        "router-tls-pin",
        request,
        e.message,
        "if the router's certificate was replaced on purpose, pin the new one (--router-fingerprint, from `openssl x509 -noout -fingerprint -sha256` on the router's certificate); otherwise something else answers on this address",
        "the certificate is not the pinned one: nothing was sent",
      );
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "ECONNREFUSED")
      return this.failure("router-unreachable", request, "connection refused", "check the URL's host and port, and that the router's www-ssl (or www) service is enabled and allowed from here");
    if (code === "ENOTFOUND" || code === "EAI_AGAIN")
      return this.failure("router-dns", request, `the name ${this.base.hostname} does not resolve (${code})`, "check the host name, or give the router's address");
    if (["EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EPIPE"].includes(code) || e.message === "socket hang up")
      return this.failure("router-unreachable", request, `${e.message}${code && !e.message.includes(code) ? ` (${code})` : ""}`, "check the router and the network path to it, then run again");
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|SSL/.test(code) || /certificate|SSL|TLS/i.test(e.message))
      return this.failure(
        "router-tls",
        request,
        `TLS: ${printable(e.message, { oneLine: true })}${code ? ` (${code})` : ""}`,
        "give --router-ca the CA that signed the router's certificate (its name must match the URL's host), or pin it with --router-fingerprint; an https URL to a plain-http service fails like this too",
        "the router's certificate could not be checked: nothing was sent",
      );
    return this.failure("router-unreachable", request, printable(e.message, { oneLine: true }) + (code ? ` (${code})` : ""), "check the router and the network path to it, then run again");
  }

  /** A menu's objects. RouterOS answers a list of objects whose values are all strings;
   *  anything else (a proxy's page, another service) is refused as such (exit 1). */
  async get(menu: string, query: Record<string, string> = {}): Promise<RosObject[]> {
    const qs = new URLSearchParams(query).toString();
    const res = await this.request<unknown>("GET", `${menu}${qs ? `?${qs}` : ""}`);
    if (!isRosList(res))
      throw this.failure(
        "router-not-a-list",
        `GET ${menu}`,
        `the router answered something that is not a RouterOS list: ${menu}`,
        "check that the URL is the RouterOS router's REST API (nothing between: a proxy, another web service), and that its RouterOS is 7.15 or later",
      );
    return res;
  }
  add(menu: string, args: RosObject): Promise<RosObject> {
    return this.request<RosObject>("PUT", menu, args);
  }
  set(menu: string, id: string, args: RosObject): Promise<RosObject> {
    return this.request<RosObject>("PATCH", `${menu}/${encodeURIComponent(id)}`, args);
  }
  remove(menu: string, id: string): Promise<void> {
    return this.request<void>("DELETE", `${menu}/${encodeURIComponent(id)}`);
  }
  command<T = unknown>(path: string, args: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>("POST", path, args);
  }

  /** "7.22.3 (stable)" → "7.22.3" */
  async version(): Promise<string> {
    const res = await this.request<RosObject | RosObject[]>("GET", "/system/resource");
    const obj = Array.isArray(res) ? res[0] : res;
    const v = /^(\d+\.\d+(?:\.\d+)?)/.exec(obj?.version ?? "")?.[1];
    if (!v) throw new UserError(`router ${this.shown} did not report a RouterOS version (${printable(JSON.stringify(obj?.version ?? null), { oneLine: true }).slice(0, 80)})`, [], EXIT.findings, "check that the URL is the RouterOS router's REST API (GET /rest/system/resource)");
    return v;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The router credentials file: a YAML mapping of `user:` and `password:`, nothing else. */
export const RouterCredentialsSchema = z
  .object({
    user: z.string().min(1).describe("the RouterOS user relay6 logs in as"),
    password: z.string().min(1).describe("its password (a number must be quoted)"),
  })
  .strict();

const CREDENTIALS_FILE: YamlFileKind = {
  name: "router credentials file",
  keysReference: "a router credentials file holds only user and password",
  reference: "the router credentials file format in the README",
  shape: '`user: NAME` and `password: "PASSWORD"`',
  secret: true,
};

/** Router credentials: RELAY6_ROUTER_USER / RELAY6_ROUTER_PASSWORD, or a 0600 YAML file
 *  with `user:` and `password:` (validated: exit 2 naming file, line and key, never a value). */
export function routerCredentials(file?: string): { user: string; password: string } {
  if (file) {
    const text = readPrivateFile(file, "router credentials file", CREDENTIALS_FILE);
    if (text === undefined)
      throw new UserError(`no router credentials file ${file}`, [
        { code: "router-credentials", severity: "error", path: "", file, message: "the file does not exist", fix: `write it with \`user:\` and \`password:\` (install -m 600 /dev/null ${file} first), or drop --router-credentials and set RELAY6_ROUTER_PASSWORD` },
      ]);
    return parseYamlFile(text, file, RouterCredentialsSchema, CREDENTIALS_FILE).data;
  }
  const user = process.env.RELAY6_ROUTER_USER ?? "admin";
  const password = process.env.RELAY6_ROUTER_PASSWORD;
  if (password === undefined)
    throw new UserError("no router password", [
      { code: "router-credentials", severity: "error", path: "", message: "relay6 needs the RouterOS REST password", fix: "set RELAY6_ROUTER_PASSWORD (and RELAY6_ROUTER_USER), or pass --router-credentials FILE (mode 0600, user: and password:)" },
    ]);
  return { user, password };
}

function readCa(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readInputFile(file, "--router-ca", MAX_KEY_BYTES);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw new UserError(`cannot read --router-ca ${file}: ${e.why}`, [
      { code: "router-ca", severity: "error", path: "", file, message: "the CA bundle that signed the router's certificate", fix: "give the path of a readable PEM file" },
    ]);
  }
  // A CA bundle holds certificates: a private key (or anything else) given by mistake is
  // refused without a word of it shown.
  const text = pem.toString("latin1");
  if (!/-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----/.test(text) || /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text))
    throw new UserError(`no certificate in ${file} (--router-ca)`, [
      {
        code: "router-ca",
        severity: "error",
        path: "",
        file,
        message: /PRIVATE KEY-----/.test(text) ? "it holds a private key: a CA bundle holds only certificates (nothing of it was sent or shown)" : "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        fix: "give --router-ca the PEM certificate of the CA that signed the router's certificate (never a private key)",
      },
    ]);
  return pem;
}
