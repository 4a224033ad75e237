// Defects a hostile reviewer found through the CLI, by class: files written or read where
// the user pointed, secrets in what is shown, remote answers of the wrong shape.
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { REPO, renderFile, runCli, tmp } from "./helpers.js";
import { linuxRouterScript } from "../src/targets/linux/verify.js";
import { readInputFile } from "../src/io/read.js";
import { splitVtyshArgs } from "../src/cli/commands/verify.js";
import { HIDDEN_URL, showUrl } from "../src/site/router-url.js";

describe("schema -o FILE", () => {
  it("refuses an existing file that is not a relay6 schema, and leaves it as it was", async () => {
    const dir = tmp();
    const f = join(dir, "notes.txt");
    writeFileSync(f, "my notes\n");
    const r = await runCli("schema", "-o", f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`-o ${f}: exists and is not a schema file relay6 wrote`);
    expect(r.stderr).toContain("fix:");
    expect(readFileSync(f, "utf8")).toBe("my notes\n");
  });

  it("refuses a symbolic link at -o without writing through it", async () => {
    const dir = tmp();
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep\n");
    const link = join(dir, "site.schema.json");
    symlinkSync(victim, link);
    const r = await runCli("schema", "-o", link);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("symbolic link");
    expect(readFileSync(victim, "utf8")).toBe("keep\n");
    expect(readlinkSync(link)).toBe(victim);
  });

  it("writes a new file, and replaces one that holds a relay6 schema", async () => {
    const dir = tmp();
    const f = join(dir, "site.schema.json");
    expect((await runCli("schema", "-o", f)).code).toBe(0);
    const first = readFileSync(f, "utf8");
    expect(JSON.parse(first).$id).toMatch(/relay6/);
    writeFileSync(f, first.replace('"title"', '"description": "old", "title"'));
    expect((await runCli("schema", "-o", f)).code).toBe(0);
    expect(readFileSync(f, "utf8")).toBe(first);
    expect(lstatSync(f).isFile()).toBe(true);
  });
});

describe("a router URL that is refused is shown without user info, path or query", () => {
  const bad = ["https://admin:hunter2/x@192.168.88.1", "admin:hunter2@192.168.88.1", "https://127.0.0.1/hunter2", "https://192.168.88.1/?token=hunter2", "hunter2", "ftp://admin:hunter2@h"];
  it.each(bad)("showUrl(%s)", (raw) => {
    expect(showUrl(raw)).not.toContain("hunter2");
    expect(showUrl(raw)).not.toContain("admin");
  });
  it("shows scheme://host, or only that it is not a URL", () => {
    expect(showUrl("https://127.0.0.1/hunter2")).toBe("https://127.0.0.1/…");
    expect(showUrl("https://admin:hunter2/x@192.168.88.1")).toBe("https://192.168.88.1…");
    expect(showUrl("hunter2:x")).toBe(HIDDEN_URL);
    expect(showUrl("https://192.168.88.1")).toBe("https://192.168.88.1/");
  });
  it("through --router-url, RELAY6_ROUTER_URL and doctor --router-url, text and --json", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    expect((await runCli("keys", site)).code).toBe(0);
    for (const raw of bad.slice(0, 3)) {
      const runs = [
        await runCli("apply", "router", site, "--router-url", raw, "--dry-run"),
        await runCli("verify", site, "--no-vps", "--router-url", raw),
        await runCli("doctor", "--router-url", raw),
        await runCli("doctor", "--router-url", raw, "--json"),
      ];
      process.env.RELAY6_ROUTER_URL = raw;
      process.env.RELAY6_ROUTER_PASSWORD = "x";
      try {
        runs.push(await runCli("apply", "router", site, "--dry-run"));
      } finally {
        delete process.env.RELAY6_ROUTER_URL;
        delete process.env.RELAY6_ROUTER_PASSWORD;
      }
      for (const r of runs) {
        expect(r.code, raw).toBe(2);
        expect(r.stderr, raw).toContain("the router URL");
        expect(r.stdout + r.stderr, raw).not.toContain("hunter2");
      }
    }
  });
});

describe("verify --vtysh-args", () => {
  const LINUX = join(REPO, "test/linux/sites/recipe-linux.yaml");
  it("each word is one quoted argument of vtysh in the router's script", () => {
    const { plan } = renderFile(LINUX);
    expect(plan.failover.mode).toBe("bgp-bfd");
    const script = linuxRouterScript(plan, ["--vty_socket", "/run/frr x", "$(reboot)"]);
    expect(script).toContain(`vtysh --vty_socket '/run/frr x' '$(reboot)' -c 'show bgp ipv6 summary json'`);
    expect(script).not.toMatch(/vtysh [^\n]*[^']\$\(reboot\)/);
  });
  it.each(["--vty_socket /run/frr; reboot", "$(reboot)", "'a b'", "a`id`", "a|b", "a\nb"])("refuses %j with exit 2 before connecting", async (raw) => {
    const dir = tmp();
    const site = join(dir, "l.yaml");
    copyFileSync(LINUX, site);
    expect((await runCli("keys", site)).code).toBe(0);
    const r = await runCli("verify", site, "--no-vps", "--router-ssh", "127.0.0.1", "--vtysh-args", raw);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--vtysh-args");
    expect(r.stderr).toContain("fix:");
  });
  it("plain words pass", () => {
    expect(splitVtyshArgs(" --vty_socket  /run/frr ")).toEqual(["--vty_socket", "/run/frr"]);
    expect(splitVtyshArgs("")).toEqual([]);
  });
});

describe("a RouterOS REST answer of the wrong shape", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));
    delete process.env.RELAY6_ROUTER_PASSWORD;
  });
  async function router(body: string): Promise<string> {
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.url === "/rest/system/resource" ? JSON.stringify({ version: "7.22.3 (stable)", "board-name": "CHR", "architecture-name": "x86_64" }) : body);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  it.each(['"hello"', '[1,"x",null]', '[{"comment":5}]', "{}", "[[]]"])("%s: exit 1 naming the menu, for apply router --dry-run, verify and doctor", async (body) => {
    const url = await router(body);
    const dir = tmp();
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    expect((await runCli("keys", site)).code).toBe(0);
    process.env.RELAY6_ROUTER_PASSWORD = "pw";
    const runs = {
      apply: await runCli("apply", "router", site, "--router-url", url, "--dry-run"),
      verify: await runCli("verify", site, "--no-vps", "--router-url", url),
      doctor: await runCli("doctor", "--router-url", url),
      doctorJson: await runCli("doctor", "--router-url", url, "--json"),
    };
    for (const [how, r] of Object.entries(runs)) {
      expect(r.code, `${how}: ${r.stderr}`).toBe(1);
      expect(r.stdout + r.stderr, how).toMatch(/the router answered something that is not a RouterOS list: \/[a-z]/);
      expect(r.stderr, how).not.toContain("internal error");
    }
  });
});

describe("files the user names are read only as regular files of a bounded size", () => {
  const big = () => {
    const f = join(tmp(), "big");
    writeFileSync(f, Buffer.alloc(4 * 1024 * 1024 + 1, 0x61));
    return f;
  };
  it.each([
    ["--wg-conf", "/dev/zero"],
    ["--ip-route", "/dev/zero"],
    ["--routeros-export", "/dev/zero"],
    ["--wg-conf", "big"],
    ["--bird-conf", "/nonexistent/x"],
  ])("doctor %s %s: exit 2 naming the flag and the file", async (flag, file) => {
    const path = file === "big" ? big() : file;
    const r = await runCli("doctor", flag, path);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${flag} ${path}`);
  });
  it("readInputFile: a FIFO, a device, a folder and a file over the cap are refused; a small file is read", () => {
    const dir = tmp();
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    for (const p of [fifo, "/dev/zero", dir]) expect(() => readInputFile(p, "--x"), p).toThrow(/--x/);
    writeFileSync(join(dir, "f"), "x".repeat(100));
    expect(() => readInputFile(join(dir, "f"), "--x", 99)).toThrow(/larger than/);
    expect(readInputFile(join(dir, "f"), "--x", 100).length).toBe(100);
  });
  it("apply vps -i /dev/zero: exit 2 before connecting", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    expect((await runCli("keys", site)).code).toBe(0);
    const r = await runCli("apply", "vps", site, "--vps-host", "127.0.0.1", "-i", "/dev/zero", "--dry-run");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/dev/zero");
  });
  it("--router-ca must hold a certificate; a private key is refused without a word of it shown", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    expect((await runCli("keys", site)).code).toBe(0);
    const { privateKey } = generateKeyPairSync("ed25519");
    const keyPem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, keyPem);
    const notPem = join(dir, "notes.txt");
    writeFileSync(notPem, "hello\n");
    process.env.RELAY6_ROUTER_PASSWORD = "pw";
    try {
      for (const [ca, want] of [["/dev/zero", "cannot read --router-ca /dev/zero"], [keyFile, `no certificate in ${keyFile}`], [notPem, `no certificate in ${notPem}`]] as const) {
        const r = await runCli("apply", "router", site, "--router-url", "https://127.0.0.1:9", "--router-ca", ca, "--dry-run");
        expect(r.code, ca).toBe(2);
        expect(r.stderr, ca).toContain(want);
        expect(r.stdout + r.stderr).not.toContain(keyPem.split("\n")[1]!.slice(0, 20));
      }
    } finally {
      delete process.env.RELAY6_ROUTER_PASSWORD;
    }
  });
});

describe("the command line", () => {
  it("an unknown option's value is not echoed (it may be a password)", async () => {
    for (const args of [["plan", "x.yaml", "--router-password=hunter2"], ["plan", "x.yaml", "--router-password=hunter2", "--json"], ["--pw=hunter2"]]) {
      const r = await runCli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("unknown option '--");
      expect(r.stdout + r.stderr).not.toContain("hunter2");
    }
  });
  it.each([["render", "s.yaml", "-o", ""], ["schema", "-o", ""], ["render", "s.yaml", "-o", "x", "--secrets", " "], ["init", "-o", ""]])("an empty path option is refused: %j", async (...args) => {
    const r = await runCli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/relay6: (-o|--out|--secrets) is empty/);
    expect(r.stdout).toBe("");
  });
});

describe("init -o in a folder that does not exist", () => {
  it("names the site file's folder and a real fix, not --secrets (init has none)", async () => {
    const dir = join(tmp(), "nonexistent-dir");
    const r = await runCli("init", "-o", join(dir, "s5.yaml"), "--prefix", "2001:db8:1::/48", "--endpoint", "vps.example.net", "--nic", "eth0", "--platform", "routeros", "--router-version", "7.22", "--bridge", "bridge", "--failover", "static");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`its folder ${dir} does not exist`);
    expect(r.stderr).toContain(`mkdir -p ${dir}`);
    expect(r.stderr).not.toContain("--secrets");
    expect(existsSync(dir)).toBe(false);
  });
});

describe("an alias without its anchor", () => {
  it("is reported as an unresolved alias with line and YAML path, not as an alias bomb (exit 2)", async () => {
    const dir = tmp();
    const site = join(dir, "s.yaml");
    writeFileSync(site, readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8").replace(/^site: .*$/m, "site: *b"));
    const line = readFileSync(site, "utf8").split("\n").findIndex((l) => l === "site: *b") + 1;
    const r = await runCli("plan", site);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`s.yaml:${line}:7: error yaml-unresolved-alias at site: the alias *b has no anchor &b before it`);
    expect(r.stderr).not.toMatch(/expand|too-large/);
  });
});

describe("the secrets file", () => {
  const siteIn = (dir: string) => {
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    return site;
  };
  it("a symbolic link is written through: the link stays, the file it names gets the keys", async () => {
    const dir = tmp();
    const site = siteIn(dir);
    const real = join(tmp(), "vault.yaml");
    const link = join(dir, "home.secrets.yaml");
    symlinkSync(real, link);
    // a link to nothing is refused
    let r = await runCli("keys", site);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("symbolic link to nothing");
    // a link to a secrets file: written there
    expect((await runCli("keys", site, "--secrets", real)).code).toBe(0);
    const before = readFileSync(real, "utf8");
    writeFileSync(real, before.replace(/^router:[\s\S]*$/m, ""), { mode: 0o600 });
    r = await runCli("keys", site);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toMatch(/router:\n {2}privateKey:/);
  });
  it.each(["", "# nothing here\n\n"])("a 0600 file that is empty or only comments is refused, never replaced (%j)", async (content) => {
    const dir = tmp();
    const site = siteIn(dir);
    const f = join(dir, "mine.yaml");
    writeFileSync(f, content, { mode: 0o600 });
    for (const args of [["keys", site, "--secrets", f], ["render", site, "-o", join(dir, "out"), "--secrets", f]]) {
      const r = await runCli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`secrets file ${f} is empty (or only comments)`);
      expect(readFileSync(f, "utf8")).toBe(content);
    }
  });
});

describe("the router's error text never shows the credentials relay6 sent", () => {
  it("a server that reflects the Authorization header: password, user:password and its base64 hidden, text and --json", async () => {
    const server = createServer((req, res) => {
      const auth = String(req.headers.authorization ?? "");
      const pair = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString();
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: 400, message: `bad header ${auth}`, detail: `you are ${pair}, password ${pair.split(":")[1]}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const dir = tmp();
    const site = join(dir, "home.yaml");
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    expect((await runCli("keys", site)).code).toBe(0);
    process.env.RELAY6_ROUTER_PASSWORD = "Hunter2-pw";
    try {
      const b64 = Buffer.from("admin:Hunter2-pw").toString("base64");
      for (const json of [false, true]) {
        const r = await runCli("apply", "router", site, "--router-url", url, "--dry-run", ...(json ? ["--json"] : []));
        expect(r.code).toBe(1);
        expect(r.stdout + r.stderr).toContain("bad header Basic (secret)");
        for (const secret of ["Hunter2-pw", b64, b64.replace(/=+$/, "")]) expect(r.stdout + r.stderr).not.toContain(secret);
      }
    } finally {
      delete process.env.RELAY6_ROUTER_PASSWORD;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("render -o: links and owners", () => {
  const siteIn = (dir: string, name = "home.yaml") => {
    const site = join(dir, name);
    copyFileSync(join(REPO, "examples/recipe-home.yaml"), site);
    return site;
  };
  it("a symbolic link to nothing as -o is refused, naming it (not a temp path)", async () => {
    const dir = tmp();
    const site = siteIn(dir);
    const link = join(dir, "out");
    symlinkSync(join(dir, "gone"), link);
    const r = await runCli("render", site, "-o", link);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`output folder ${link}: is a symbolic link to nothing`);
    expect(r.stderr).not.toContain(".relay6-");
    expect(existsSync(join(dir, "gone"))).toBe(false);
  });
  it("a secrets file inside the output through a symbolic link is secrets-in-output, before anything is staged", async () => {
    const dir = tmp();
    const site = siteIn(dir);
    const real = tmp(); // empty: render could fill it
    const link = join(dir, "out");
    symlinkSync(real, link);
    const secrets = join(real, "home.secrets.yaml");
    const r = await runCli("render", site, "-o", link, "--secrets", secrets);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("secrets-in-output");
    expect(existsSync(secrets)).toBe(false);
    expect(readdirSync(real)).toEqual([]);
  });
  it("another site file with the same site: name is another owner: refused, naming both", async () => {
    const dir = tmp();
    const a = siteIn(join(dir), "a.yaml");
    const bDir = join(dir, "b");
    execFileSync("mkdir", [bDir]);
    const b = siteIn(bDir, "a.yaml");
    const out = join(dir, "out");
    expect((await runCli("render", a, "-o", out)).code).toBe(0);
    const r = await runCli("render", b, "-o", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("out-other-owner");
    expect(r.stderr).toContain(a);
    expect(r.stderr).toContain(b);
    expect((await runCli("render", a, "-o", out)).code).toBe(0);
  });
});

describe("a failed write to standard output", () => {
  const run = (args: string[], stdout: number | "pipe") =>
    spawnSync(process.execPath, ["--import", "tsx", join(REPO, "test/run-cli.ts"), ...args], { cwd: REPO, stdio: ["ignore", stdout, "pipe"], encoding: "utf8" });
  it.each([["schema"], ["plan", "examples/recipe-home.yaml", "--json"]])("relay6 %s > /dev/full: exit 1, one line on stderr", (...args) => {
    const full = openSync("/dev/full", "w");
    const r = run(args, full);
    closeSync(full);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["relay6: cannot write to standard output: ENOSPC"]);
  });
  it("EPIPE (| head) stays quiet: exit 0", () => {
    const r = spawnSync("sh", ["-c", `node --import tsx test/run-cli.ts schema | head -c 1 >/dev/null; echo "rc=\${PIPESTATUS:-}"`], { cwd: REPO, encoding: "utf8" });
    expect(r.stderr).not.toContain("cannot write");
  });
}, 60_000);
