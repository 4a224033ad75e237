// The README's exit-status table, one case (or more) per row, each run through the real CLI
// in-process: the exit status of its row, one `relay6:` line naming the thing with a
// `fix:`, no stack trace, and JSON on stdout with --json. Every row of the table has a case;
// every command that takes --json is run failing with it. Everything here stays on loopback
// (servers and an sshd on 127.0.0.1) except the one name in .invalid that no resolver
// may resolve (RFC 6761).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/main.js";
import { registerTestTarget } from "../src/targets/index.js";
import { makeCert } from "./fixtures/routeros-model/index.js";
import { flagsOf } from "./doctor/fixtures.js";
import { tableUnder } from "./docs.test.js";
import { REPO, runCli, tmp } from "./helpers.js";

const ROOT = process.getuid?.() === 0;
const readme = readFileSync(join(REPO, "README.md"), "utf8");
const ROWS = tableUnder(readme, "### Exit status").map(([exit, when]) => ({ exit: Number(exit), label: /^\*\*(.+?)\*\*/.exec(when!)?.[1] ?? "" }));

type Shape = "error" | "report" | "ok" | "bug";
interface Case {
  row: string;
  args: () => string[];
  /** What the one `relay6:` line names (made when the case runs: ports are known then). */
  thing?: () => string;
  shape?: Shape;
  /** With --json the command prints its own JSON (verify's findings) before it fails. */
  ownJson?: boolean;
}

const w = tmp("relay6-exit-");
const cleanups: (() => void | Promise<void>)[] = [];
const site = join(w, "home.yaml");
const port = { closed: 0, silent: 0, unauthorized: 0, tls: 0, ssh: 0 };
let fingerprintOther = "";
const keys = { user: join(w, "ssh/user"), knownHosts: join(w, "ssh/known_hosts"), empty: join(w, "ssh/empty_known_hosts") };

function unwritable(): string {
  const d = join(w, `locked-${readdirSync(w).length}`);
  mkdirSync(d);
  if (ROOT) {
    execFileSync("chattr", ["+i", d]);
    cleanups.push(() => void execFileSync("chattr", ["-i", d]));
  } else chmodSync(d, 0o555);
  return d;
}

async function listen(server: Server | ReturnType<typeof createTcpServer>, sockets?: Set<Socket>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        sockets?.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  );
  return (server.address() as { port: number }).port;
}

async function startSshd(): Promise<void> {
  mkdirSync(join(w, "ssh"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(w, "ssh/host")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keys.user]);
  const free = createTcpServer();
  await new Promise<void>((r) => free.listen(0, "127.0.0.1", () => r()));
  port.ssh = (free.address() as { port: number }).port;
  await new Promise<void>((r) => free.close(() => r()));
  const cfg = join(w, "ssh/sshd_config");
  // No authorized key at all: every login is refused.
  writeFileSync(cfg, `ListenAddress 127.0.0.1:${port.ssh}\nHostKey ${join(w, "ssh/host")}\nPidFile none\nAuthorizedKeysFile ${join(w, "ssh/none")}\nStrictModes no\nUsePAM no\n`);
  const sshd: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  cleanups.push(() => void sshd.kill());
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error("sshd did not start")), 5000);
    sshd.stderr!.on("data", (c: Buffer) => {
      if (c.toString().includes("Server listening")) {
        clearTimeout(t);
        res();
      }
    });
  });
  writeFileSync(keys.knownHosts, `[127.0.0.1]:${port.ssh} ${readFileSync(join(w, "ssh/host.pub"), "utf8")}`);
  writeFileSync(keys.empty, "");
}

beforeAll(async () => {
  copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
  expect((await runCli("keys", site)).code).toBe(0);
  copyFileSync(join(REPO, "test/errors/lint-errors.yaml"), join(w, "lint.yaml"));
  writeFileSync(join(w, "bad.secrets.yaml"), "vps: {}\n", { mode: 0o600 });
  writeFileSync(join(w, "open.secrets.yaml"), readFileSync(join(w, "home.secrets.yaml")), { mode: 0o644 });
  chmodSync(join(w, "open.secrets.yaml"), 0o644);
  writeFileSync(join(w, "creds.yaml"), "user: relay6\n", { mode: 0o600 });
  writeFileSync(join(w, "a-file"), "x");
  mkdirSync(join(w, "theirs"));
  writeFileSync(join(w, "theirs/notes.txt"), "mine");
  mkdirSync(join(w, "a-folder"));
  process.env.RELAY6_ROUTER_PASSWORD = "exit-status-test";
  port.closed = await listen(createTcpServer()).then(async (p) => {
    await cleanups.pop()!();
    return p;
  });
  const sockets = new Set<Socket>();
  const silent = createTcpServer((s) => sockets.add(s));
  port.silent = await listen(silent, sockets);
  port.unauthorized = await listen(
    createHttpServer((_q, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: 401, message: "Unauthorized" }));
    }),
  );
  const cert = makeCert();
  fingerprintOther = new X509Certificate(makeCert().cert).fingerprint256.replace(/:/g, "").toLowerCase();
  port.tls = await listen(createHttpsServer({ key: cert.key, cert: cert.cert }, (_q, res) => res.end("[]")));
  await startSshd();
  // A bug: a target whose render throws what no user could cause.
  const unregister = registerTestTarget({
    id: "exitbug",
    role: "router",
    platform: { id: "exitbug", tunnelInterface: "eb0", sshUser: "root" },
    check: () => [],
    render: () => {
      throw new Error("a renderer fell over");
    },
    next: () => "",
    apply: async () => ({ apply: async () => ({ text: "", json: {}, failed: false }) }),
    verify: async () => ({ verify: async () => [] }),
  });
  cleanups.push(unregister);
  writeFileSync(join(w, "bug.yaml"), readFileSync(site, "utf8").replace("platform: routeros", "platform: exitbug").replace(/^\s+version: .*\n/m, ""));
}, 60_000);

afterAll(async () => {
  delete process.env.RELAY6_ROUTER_PASSWORD;
  for (const c of cleanups.reverse()) await c();
  rmSync(w, { recursive: true, force: true });
});

const ssh = (...more: string[]) => ["apply", "vps", site, "--vps-host", "127.0.0.1", "--vps-port", String(port.ssh), "-i", keys.user, "--dry-run", ...more];
const rest = (url: string, ...more: string[]) => ["apply", "router", site, "--router-url", url, "--dry-run", ...more];
const initFlags = ["--site", "x", "--endpoint", "203.0.113.5", "--platform", "linux", "--failover", "static"];

const CASES: Case[] = [
  { row: "fine", args: () => ["plan", site], shape: "ok" },
  { row: "a site file", args: () => ["lint", join(w, "nope.yaml")], thing: () => `cannot read site file ${join(w, "nope.yaml")}: no such file` },
  { row: "a site file", args: () => ["plan", join(w, "a-folder")], thing: () => "it is a folder" },
  { row: "a site file", args: () => ["render", join(REPO, "test/errors/schema-many.yaml"), "-o", join(w, "o1")], thing: () => "problems in the site file" },
  { row: "a site file", args: () => ["lint", join(REPO, "test/errors/alias-bomb.yaml")], thing: () => "1 problem in the site file" },
  { row: "a secrets or router credentials file", args: () => ["keys", site, "--secrets", join(w, "bad.secrets.yaml")], thing: () => "1 problem in the secrets file" },
  { row: "a secrets or router credentials file", args: () => ["render", site, "-o", join(w, "o2"), "--secrets", join(w, "open.secrets.yaml")], thing: () => "is readable by others" },
  { row: "a secrets or router credentials file", args: () => ["verify", site, "--no-vps", "--no-router", "--secrets", join(w, "none.yaml")], thing: () => `no secrets file ${join(w, "none.yaml")}` },
  { row: "a secrets or router credentials file", args: () => rest(`http://127.0.0.1:${port.closed}`, "--router-credentials", join(w, "creds.yaml")), thing: () => "1 problem in the router credentials file" },
  { row: "an output path", args: () => ["render", site, "-o", join(w, "a-file", "out")], thing: () => `output folder ${join(w, "a-file", "out")}` },
  { row: "an output path", args: () => ["render", site, "-o", join(w, "theirs")], thing: () => `output folder ${join(w, "theirs")}: holds an entry relay6 did not write (no relay6-output.json): notes.txt` },
  { row: "an argument", args: () => ["lint", site, "--bogus"], thing: () => "unknown option '--bogus'" },
  { row: "an argument", args: () => ["frobnicate"], thing: () => "unknown command 'frobnicate'" },
  { row: "an argument", args: () => ["lint"], thing: () => "missing required argument 'input'" },
  { row: "an argument", args: () => ["render", site], thing: () => "required option '-o, --out <dir>' not specified" },
  { row: "an argument", args: () => rest(`http://127.0.0.1:${port.closed}`, "--timeout", "abc"), thing: () => "--timeout abc" },
  { row: "an argument", args: () => rest("https://admin:pw@192.0.2.1"), thing: () => "holds a user name or password" },
  { row: "an argument", args: () => rest("http://192.0.2.1"), thing: () => "the router URL http://192.0.2.1" },
  { row: "an argument", args: () => ["apply", "vps", site, "--vps-port", "0", "--dry-run"], thing: () => "SSH port 0: not a port number" },
  { row: "an argument", args: () => ["status", site, "--interval", "0", "--watch"], thing: () => "--interval 0: not a number of at least 1" },
  { row: "an argument", args: () => ["init", "-o", join(w, "new.yaml"), "--prefix", "2001:db8:1:2::/64", "--on-link", "maybe", ...initFlags], thing: () => "--on-link maybe" },
  { row: "an argument", args: () => ["doctor", "--router-platform", "junos", "--wg-conf", join(REPO, "test/doctor/fixtures/recipe-as-written/wg0.conf")], thing: () => "--router-platform junos" },
  { row: "an SSH option", args: () => ssh("-i", join(w, "no-such-key")), thing: () => `cannot read SSH key ${join(w, "no-such-key")}` },
  { row: "an SSH option", args: () => ssh("--known-hosts", join(w, "a-folder")), thing: () => join(w, "a-folder") },
  { row: "lint errors", args: () => ["render", join(w, "lint.yaml"), "-o", join(w, "o3")], thing: () => "lint errors: nothing rendered" },
  { row: "lint errors", args: () => ["apply", "vps", join(w, "lint.yaml"), "--dry-run"], thing: () => "has lint errors: nothing applied" },
  { row: "failed checks", args: () => ["verify", site, "--no-vps", "--no-router"], thing: () => "nothing was checked", ownJson: true },
  { row: "failed checks", args: () => ["doctor", ...flagsOf("recipe-as-written", { routeros: "routeros-7.18.2.rsc" })], shape: "report" },
  { row: "cannot write", args: () => ["render", site, "-o", join(unwritable(), "out")], thing: () => "cannot write output folder" },
  { row: "cannot write", args: () => ["keys", site, "--secrets", join(unwritable(), "s.yaml")], thing: () => "cannot write secrets file" },
  { row: "cannot write", args: () => ["init", "-o", join(unwritable(), "site.yaml"), "--prefix", "2401:4520:110b::/48", ...initFlags], thing: () => "cannot write secrets file" },
  { row: "cannot reach", args: () => rest(`http://127.0.0.1:${port.closed}`), thing: () => `router http://127.0.0.1:${port.closed}` },
  { row: "cannot reach", args: () => ["verify", site, "--no-vps", "--router-url", `http://127.0.0.1:${port.closed}`], thing: () => "connection refused" },
  { row: "cannot reach", args: () => ["apply", "vps", site, "--vps-host", "127.0.0.1", "--vps-port", String(port.closed), "--dry-run"], thing: () => `cannot reach 127.0.0.1 port ${port.closed} over SSH: connection refused` },
  { row: "cannot reach", args: () => ["status", site, "--vps-host", "127.0.0.1", "--vps-port", String(port.closed)], thing: () => `cannot reach 127.0.0.1 port ${port.closed} over SSH: connection refused` },
  { row: "cannot reach", args: () => rest("https://relay6-no-such-router.invalid", "--router-fingerprint", "ab".repeat(32), "--timeout", "3000"), thing: () => "router https://relay6-no-such-router.invalid" },
  { row: "a deadline", args: () => rest(`http://127.0.0.1:${port.silent}`, "--timeout", "300"), thing: () => `router http://127.0.0.1:${port.silent}` },
  { row: "TLS", args: () => rest(`https://127.0.0.1:${port.tls}`, "--router-fingerprint", fingerprintOther), thing: () => `router https://127.0.0.1:${port.tls}` },
  { row: "the router refused", args: () => rest(`http://127.0.0.1:${port.unauthorized}`), thing: () => `router http://127.0.0.1:${port.unauthorized}` },
  { row: "SSH trust or login", args: () => ssh("--known-hosts", keys.knownHosts), thing: () => "127.0.0.1" },
  { row: "SSH trust or login", args: () => ssh("--known-hosts", keys.empty), thing: () => "127.0.0.1" },
  { row: "the machine", args: () => ["lab", "test", "--name", "r6exitnone"], thing: () => ROOT ? 'no lab "r6exitnone" is up' : "it needs root" },
  { row: "the machine", args: () => ["lab", "failover", "--name", "r6exitnone"], thing: () => ROOT ? 'no lab "r6exitnone" is up' : "it needs root" },
  { row: ROOT ? "a site file" : "the machine", args: () => ["lab", "up", join(w, "nope.yaml"), "--name", "r6exitnone"], thing: () => ROOT ? "cannot read site file" : "it needs root" },
  { row: ROOT ? "an argument" : "the machine", args: () => ["lab", "down", "--name", "Not_A_Name!"], thing: () => ROOT ? 'lab name "Not_A_Name!" is not usable' : "it needs root" },
  { row: "a bug in relay6", args: () => ["render", join(w, "bug.yaml"), "-o", join(w, "o4")], shape: "bug" },
];

const rowOf = (c: Case) => {
  const r = ROWS.find((x) => x.label === c.row);
  if (!r) throw new Error(`no README row "${c.row}"`);
  return r;
};

/** The commands that take --json, as "apply vps". */
function jsonCommands(): string[] {
  const out: string[] = [];
  const walk = (cmd: Command, path: string[]) => {
    for (const c of cmd.commands) {
      const p = [...path, c.name()];
      if (c.options.some((o) => o.long === "--json")) out.push(p.join(" "));
      walk(c, p);
    }
  };
  walk(buildProgram(), []);
  return out;
}
const takesJson = (args: string[]) => jsonCommands().some((c) => args.join(" ").startsWith(c + " ") || args.join(" ") === c);

describe("the README's exit-status table", () => {
  it("has a case for every row, and every row is one the README has", () => {
    expect(ROWS.length).toBeGreaterThan(10);
    const covered = new Set(CASES.map((c) => rowOf(c).label));
    expect(ROWS.map((r) => r.label).filter((l) => !covered.has(l)), "rows without a case").toEqual([]);
  });

  it("every command that takes --json is run failing with --json", () => {
    const failing = CASES.filter((c) => rowOf(c).exit !== 0).map((c) => c.args().join(" "));
    const missing = jsonCommands().filter((cmd) => !failing.some((a) => a.startsWith(cmd + " ")));
    expect(missing).toEqual([]);
    expect(jsonCommands()).toEqual(expect.arrayContaining(["plan", "lint", "render", "keys", "init", "apply vps", "apply router", "verify", "status", "doctor", "lab up", "lab test", "lab failover", "lab down"]));
  });

  it.each(CASES.map((c, i) => [`${rowOf(c).exit} ${c.row}: relay6 ${c.args().map((a) => a.replace(w, "…")).join(" ")}`, i] as const))("%s", async (_name, i) => {
    const c = CASES[i]!;
    const { exit } = rowOf(c);
    const shape = c.shape ?? "error";
    const runs = [c.args(), ...(takesJson(c.args()) ? [[...c.args(), "--json"]] : [])];
    for (const args of runs) {
      const json = args.includes("--json");
      const r = await runCli(...args);
      const all = r.stdout + r.stderr;
      expect(r.code, `${args.join(" ")}\n${all}`).toBe(exit);
      if (shape === "bug") {
        expect(r.stderr).toContain("This is a bug in relay6");
      } else {
        expect(all, "no stack trace").not.toMatch(/\n\s+at .*:\d+:\d+/);
        expect(all).not.toMatch(/internal error|This is a bug/);
      }
      if (shape === "error") {
        const lines = r.stderr.split("\n").filter((l) => l.startsWith("relay6: ") && !l.startsWith("relay6: note:"));
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toContain(c.thing!());
        expect(r.stderr, "a fix").toMatch(/\n {4}fix: \S/);
      }
      if (shape === "report") expect(r.stdout).toMatch(/fix|hint/);
      if (json) {
        let parsed: { error?: { exit: number; message: string } };
        try {
          parsed = JSON.parse(r.stdout);
        } catch {
          throw new Error(`--json printed no JSON: ${r.stdout}`);
        }
        if (c.ownJson) expect(parsed.error).toBeUndefined();
        else if (shape === "error" || shape === "bug") expect(parsed.error, r.stdout).toMatchObject({ exit });
        if (shape === "error" && !c.ownJson) expect(parsed.error!.message).toContain(c.thing!());
      }
    }
  });
});

/** The top-level arguments of each `new UserError(...)` in a TypeScript source. */
function userErrorCalls(src: string): { line: number; args: string[] }[] {
  const out: { line: number; args: string[] }[] = [];
  let at = src.indexOf("new UserError(");
  while (at >= 0) {
    let i = at + "new UserError(".length;
    const args: string[] = [];
    let cur = "";
    const stack: string[] = [")"];
    while (i < src.length && stack.length > 0) {
      const ch = src[i]!;
      const top = stack[stack.length - 1]!;
      if (top === '"' || top === "'" || top === "`") {
        if (ch === "\\") {
          cur += ch + src[i + 1];
          i += 2;
          continue;
        }
        if (ch === top) stack.pop();
        else if (top === "`" && ch === "$" && src[i + 1] === "{") {
          stack.push("}");
          cur += "${";
          i += 2;
          continue;
        }
      } else if (ch === '"' || ch === "'" || ch === "`") stack.push(ch);
      else if (ch === "(" || ch === "[" || ch === "{") stack.push(ch === "(" ? ")" : ch === "[" ? "]" : "}");
      else if (ch === top) {
        stack.pop();
        if (stack.length === 0) break;
      } else if (ch === "," && stack.length === 1) {
        args.push(cur.trim());
        cur = "";
        i++;
        continue;
      }
      cur += ch;
      i++;
    }
    if (cur.trim()) args.push(cur.trim());
    out.push({ line: src.slice(0, at).split("\n").length, args });
    at = src.indexOf("new UserError(", i);
  }
  return out;
}

describe("every error says what to do", () => {
  it("each `new UserError` in src/ carries diagnostics (each with a fix) or a fix of its own", () => {
    const files = readdirSync(join(REPO, "src"), { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
    const bare: string[] = [];
    let n = 0;
    for (const f of files) {
      const rel = `src/${f}`;
      for (const call of userErrorCalls(readFileSync(join(REPO, rel), "utf8"))) {
        n++;
        const [, diagnostics, , fix] = call.args;
        const hasDiagnostics = diagnostics !== undefined && diagnostics !== "[]";
        if (!hasDiagnostics && fix === undefined) bare.push(`${rel}:${call.line}: ${call.args[0]!.slice(0, 60)}`);
      }
    }
    expect(n).toBeGreaterThan(40);
    expect(bare).toEqual([]);
    // the reader is no formality
    expect(userErrorCalls('throw new UserError(`a ${f(1, 2)}`, [], 2);\nnew UserError("x", [], 1, "do y")')).toEqual([
      { line: 1, args: ["`a ${f(1, 2)}`", "[]", "2"] },
      { line: 2, args: ['"x"', "[]", "1", '"do y"'] },
    ]);
  });
});
