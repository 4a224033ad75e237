// RouterOS v7 REST API client (/rest over HTTPS, HTTP basic auth). The router's
// certificate is checked against a CA file or a pinned SHA-256 fingerprint; credentials
// come from the environment or a 0600 file, never from the site file.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import { parse } from "yaml";
import { UserError } from "../errors.js";

export interface RestTarget {
  /** Base URL, e.g. https://192.168.88.1 (the /rest prefix is added). */
  url: string;
  user: string;
  password: string;
  /** PEM CA bundle that signed the router's certificate. */
  caFile?: string;
  /** SHA-256 fingerprint of the router's certificate (hex, with or without colons). */
  fingerprint?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export type RosObject = Record<string, string>;

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: number; message?: string; detail?: string },
    readonly request: string,
  ) {
    super(`${request}: ${status} ${body.message ?? ""}${body.detail ? ` (${body.detail})` : ""}`);
  }
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
  constructor(private readonly pin: string) {
    super({ keepAlive: true, maxCachedSessions: 0 });
  }

  override createConnection(options: tls.ConnectionOptions, done: (err: Error | null, socket?: Duplex) => void): undefined {
    let called = false;
    const once = (err: Error | null, s?: Duplex) => {
      if (called) return;
      called = true;
      done(err, s);
    };
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate()?.raw;
      const got = raw ? createHash("sha256").update(raw).digest("hex") : "(none)";
      if (got === this.pin) return once(null, socket);
      socket.destroy();
      once(new Error(`router certificate fingerprint ${got} is not the pinned ${this.pin}`));
    });
    socket.once("error", (e) => once(e));
    return undefined;
  }
}

export class RouterOsRest {
  private readonly base: URL;
  private readonly agent: http.Agent;

  constructor(readonly target: RestTarget) {
    this.base = new URL(target.url);
    if (this.base.protocol === "https:") {
      const ca = target.caFile ? readFileSync(target.caFile) : undefined;
      const pin = target.fingerprint ? normaliseFingerprint(target.fingerprint) : undefined;
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
      if (!/^(127\.|localhost$|\[::1\]$)/.test(this.base.hostname))
        throw new UserError(`plain http to ${this.base.hostname} would send the router password in the clear; use https`);
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  async request<T = unknown>(method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST", path: string, body?: unknown): Promise<T> {
    const url = new URL(`/rest${path}`, this.base);
    const show = `${method} ${url.pathname}${url.search}`;
    if (method !== "GET") this.target.log?.(`[${this.base.host}]# ${show}${body !== undefined ? ` ${JSON.stringify(redactBody(body))}` : ""}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const lib = url.protocol === "https:" ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          agent: this.agent,
          auth: `${this.target.user}:${this.target.password}`,
          headers: { "content-type": "application/json", ...(payload ? { "content-length": payload.length } : {}) },
          timeout: this.target.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = undefined;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = { message: text };
            }
            if ((res.statusCode ?? 500) >= 400) reject(new RestError(res.statusCode ?? 500, (parsed ?? {}) as RestError["body"], show));
            else resolve(parsed as T);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${show}: no answer within ${this.target.timeoutMs ?? 10_000} ms`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  get(menu: string, query: Record<string, string> = {}): Promise<RosObject[]> {
    const qs = new URLSearchParams(query).toString();
    return this.request<RosObject[]>("GET", `${menu}${qs ? `?${qs}` : ""}`);
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
    if (!v) throw new UserError(`the router did not report a RouterOS version (${JSON.stringify(obj?.version)})`, [], 1);
    return v;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Router credentials: RELAY6_ROUTER_USER / RELAY6_ROUTER_PASSWORD, or a 0600 YAML file
 *  with `user:` and `password:`. */
export function routerCredentials(file?: string): { user: string; password: string } {
  if (file) {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0)
      throw new UserError(`${file} is readable by others`, [
        { code: "secrets-mode", severity: "error", path: "", file, message: "the router password must not be readable by group or others", fix: `chmod 600 ${file}` },
      ]);
    const data = (parse(readFileSync(file, "utf8")) ?? {}) as { user?: unknown; password?: unknown };
    if (typeof data.user !== "string" || typeof data.password !== "string")
      throw new UserError(`${file}: expected \`user:\` and \`password:\``);
    return { user: data.user, password: data.password };
  }
  const user = process.env.RELAY6_ROUTER_USER ?? "admin";
  const password = process.env.RELAY6_ROUTER_PASSWORD;
  if (password === undefined)
    throw new UserError("no router password", [
      { code: "router-credentials", severity: "error", path: "", message: "relay6 needs the RouterOS REST password", fix: "set RELAY6_ROUTER_PASSWORD (and RELAY6_ROUTER_USER), or pass --router-credentials FILE (mode 0600, user: and password:)" },
    ]);
  return { user, password };
}
