// relay6 installs without a clone: `npm pack` in a copy of the sources without dist/ builds
// dist/ (prepack) into a tarball,
// `npm install --prefix` puts it in a directory of its own (never -g here), and the
// installed bin, run with PATH holding only node's own directory and its working directory
// outside the clone, renders the example the package ships.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, tmp } from "./helpers.js";

describe("the npm package", () => {
  it("packs, installs with --prefix, and renders the bundled example outside the clone", () => {
    const work = tmp("relay6-pack-");
    const npm = (args: string[], cwd: string) => {
      const r = spawnSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
      expect(r.status, `npm ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    // What a fresh clone has after `npm ci`: the tracked sources and node_modules, no dist/.
    const clone = join(work, "clone");
    for (const p of ["package.json", "package-lock.json", "tsconfig.json", "README.md", "bin", "src", "schema", "examples", "lab/sites"]) cpSync(join(REPO, p), join(clone, p), { recursive: true });
    symlinkSync(join(REPO, "node_modules"), join(clone, "node_modules"));
    const tarball = join(work, npm(["pack", "--silent", "--pack-destination", work], clone).trim().split("\n").pop()!);
    expect(existsSync(tarball)).toBe(true);
    const prefix = join(work, "install");
    // The tarball's own dependencies come from npm's cache when it has them.
    npm(["install", "--prefix", prefix, "--prefer-offline", "--no-package-lock", tarball], work);
    const pkg = join(prefix, "node_modules/relay6");
    const bin = join(prefix, "node_modules/.bin/relay6");
    expect(realpathSync(bin).startsWith(realpathSync(pkg))).toBe(true); // a copy, not a link to the clone

    const cwd = tmp("relay6-user-");
    const run = (...args: string[]) =>
      spawnSync(bin, args, { cwd, encoding: "utf8", env: { PATH: dirname(process.execPath), HOME: cwd } });
    const version = run("--version");
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
    const site = join(pkg, "examples/recipe-home.yaml");
    const r = run("render", site, "-o", "out", "--secrets", join(cwd, "home.secrets.yaml"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("rendered");
    const plan = JSON.parse(readFileSync(join(cwd, "out/plan.json"), "utf8"));
    expect(plan).toMatchObject({ site: "home", prefix: "2401:4520:110b::/48", router: { platform: "routeros" } });
    for (const f of ["vps/setup.sh", "vps/files/etc/wireguard/wg0.conf", "router/relay6-home.rsc", "client/smoke-test.sh"]) expect(existsSync(join(cwd, "out", f)), f).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(REPO);
    // The JSON Schema and the lab's site ship too.
    expect(JSON.parse(readFileSync(join(pkg, "schema/site.schema.json"), "utf8")).title).toBe("relay6 site file");
    expect(existsSync(join(pkg, "lab/sites/lab.yaml"))).toBe(true);
    // init names the installed relay6's own schema, by absolute path, and it exists.
    const init = run("init", "-o", "new.yaml", "--prefix", "2401:4520:110b::/48", "--endpoint", "203.0.113.10");
    expect(init.status, init.stderr).toBe(0);
    const line = /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(join(cwd, "new.yaml"), "utf8"))![1]!;
    expect(realpathSync(line)).toBe(realpathSync(join(pkg, "schema/site.schema.json")));
  }, 120_000);
});
