// relay6 replaces only what it wrote: the render output's marker (relay6-output.json)
// names the site and lists every path; a folder holding anything else is refused before
// anything is written (the secrets file included), and what was there stays as it was.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MARKER } from "../src/io/write.js";
import { REPO, runCli, tmp } from "./helpers.js";

const RECIPE = join(REPO, "examples/recipe-home.yaml");

function siteCopy(): { dir: string; site: string } {
  const dir = tmp();
  const site = join(dir, "site.yaml");
  copyFileSync(RECIPE, site);
  return { dir, site };
}

/** Every file under dir with its content: what a refusal must leave exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(d.parentPath, d.name);
    out[p.slice(dir.length + 1)] = d.isFile() ? readFileSync(p, "base64") : d.isDirectory() ? "<dir>" : "<other>";
  }
  return out;
}

/** A refusal as the user reads it: exit 2, one `relay6:` line naming the folder, a fix, no trace. */
function expectRefused(r: { code: number; stderr: string }, out: string, code: string): string {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("relay6: "));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`output folder ${out}`);
  expect(r.stderr).toContain(`error ${code}: `);
  expect(r.stderr).toMatch(/\n {4}fix: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error|bug/);
  return lines[0]!;
}

const undo: (() => void)[] = [];
afterAll(() => undo.forEach((u) => u()));

/** A folder nobody may create anything in, root included (chattr +i; chmod for others). */
function unwritableDir(): string {
  const d = tmp();
  if (process.getuid?.() === 0) {
    execFileSync("chattr", ["+i", d]);
    undo.push(() => execFileSync("chattr", ["-i", d]));
  } else {
    execFileSync("chmod", ["555", d]);
    undo.push(() => execFileSync("chmod", ["755", d]));
  }
  return d;
}

describe("render -o DIR replaces only what relay6 wrote", () => {
  it("`plan --json > plan.json` then `render -o .`: refused, naming the files; site, secrets and plan.json untouched", async () => {
    const { dir, site } = siteCopy();
    expect((await runCli("keys", site)).code).toBe(0);
    writeFileSync(join(dir, "plan.json"), (await runCli("plan", site, "--json")).stdout);
    const before = snapshot(dir);
    const prev = process.cwd();
    process.chdir(dir);
    try {
      const r = await runCli("render", "site.yaml", "-o", ".");
      const line = expectRefused(r, ".", "out-not-relay6");
      expect(line).toContain("holds 3 entries relay6 did not write (no relay6-output.json): plan.json, site.secrets.yaml and site.yaml");
    } finally {
      process.chdir(prev);
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it("the marker names the site and lists every path written, each file with its sha256; a second render replaces the first", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    const marker = JSON.parse(readFileSync(join(out, MARKER), "utf8"));
    expect(marker).toMatchObject({ format: "relay6-output/1", sites: [{ site: "home", file: site }] });
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).map((d) => ({ path: join(d.parentPath, d.name).slice(out.length + 1), dir: d.isDirectory() }));
    const listed = marker.entries.map((e: { path: string; type: string }) => ({ path: e.path, dir: e.type === "dir" }));
    expect(listed.sort((a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path))).toEqual(
      files.filter((f) => f.path !== MARKER).sort((a, b) => a.path.localeCompare(b.path)),
    );
    const wg = marker.entries.find((e: { path: string }) => e.path === "vps/files/etc/wireguard/wg0.conf");
    expect(wg.sha256).toBe(execFileSync("sha256sum", [join(out, wg.path)], { encoding: "utf8" }).split(" ")[0]);
    writeFileSync(site, readFileSync(site, "utf8").replace("index: 0x11", "index: 0x12"));
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toContain("2401:4520:110b:12::/64");
    expect(readdirSync(dir).sort()).toEqual(["out", "site.secrets.yaml", "site.yaml"]); // no temp dir left
  });

  it("a file added afterwards, one changed since, a folder or a link: refused, naming a few; nothing replaced", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    writeFileSync(join(out, "notes.txt"), "mine");
    let before = snapshot(dir);
    let r = await runCli("render", site, "-o", out);
    expect(expectRefused(r, out, "out-unexpected-entries")).toBe(`relay6: output folder ${out}: holds an entry relay6 did not write: notes.txt`);
    expect(r.stderr).toContain(`fix: move them out of ${out} (or delete them), or render into a new or empty folder with -o`);
    expect(snapshot(dir)).toEqual(before);

    rmSync(join(out, "notes.txt"));
    writeFileSync(join(out, "vps/firewall.sh"), readFileSync(join(out, "vps/firewall.sh"), "utf8") + "ufw allow 8080/tcp\n");
    mkdirSync(join(out, "vps/mine"));
    writeFileSync(join(out, "vps/mine/x"), "x");
    execFileSync("ln", ["-s", "/etc/passwd", join(out, "client/link")]);
    writeFileSync(join(out, "router/extra.rsc"), "");
    before = snapshot(dir);
    r = await runCli("render", site, "-o", out, "--json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`holds 4 entries relay6 did not write: client/link (a symbolic link), router/extra.rsc, vps/firewall.sh (changed since relay6 wrote it) and 1 more`);
    expect(JSON.parse(r.stdout).error).toMatchObject({ exit: 2, diagnostics: [{ code: "out-unexpected-entries", file: out }] });
    expect(snapshot(dir)).toEqual(before);
  });

  it("an empty folder is filled in place (the same folder: a mount point or the shell's folder keeps working)", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "empty");
    mkdirSync(out);
    const ino = statSync(out).ino;
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    expect(statSync(out).ino).toBe(ino);
    expect(readdirSync(out).sort()).toEqual(["client", "plan.json", "relay6-output.json", "router", "vps"]);
    expect(statSync(join(out, "vps/secrets")).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, "vps/secrets/wg0.key")).mode & 0o777).toBe(0o600);
    expect((await runCli("render", site, "-o", out)).code).toBe(0); // now relay6's: replaced
  });

  it("another site's render is refused", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    expect((await runCli("render", site, "-o", out)).code).toBe(0);
    const other = join(dir, "cabin.yaml");
    writeFileSync(other, readFileSync(site, "utf8").replace("site: home", "site: cabin"));
    const before = snapshot(dir);
    const r = await runCli("render", other, "-o", out);
    expect(expectRefused(r, out, "out-other-owner")).toBe(`relay6: output folder ${out}: holds the render of site home, not of site cabin`);
    expect(snapshot(dir)).toEqual(before);
  });

  it("a marker that is not one, or a secrets file inside the output: refused", async () => {
    const { dir, site } = siteCopy();
    const out = join(dir, "out");
    mkdirSync(out);
    writeFileSync(join(out, MARKER), '{"entries": [{"path": "../site.yaml", "type": "file"}]}');
    expectRefused(await runCli("render", site, "-o", out), out, "out-not-relay6");
    rmSync(out, { recursive: true });
    const r = await runCli("render", site, "-o", dir + "/k", "--secrets", join(dir, "k/keys.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error secrets-in-output");
    expect(readdirSync(dir).sort()).toEqual(["site.yaml"]);
  });

  it("-o a regular file, or under one: exit 2; an unwritable parent: exit 1; never 70, nothing written", async () => {
    const { dir, site } = siteCopy();
    writeFileSync(join(dir, "file"), "x");
    expect(expectRefused(await runCli("render", site, "-o", join(dir, "file")), join(dir, "file"), "out-path")).toContain("is a file, not a folder");
    const under = join(dir, "file", "out");
    expect(expectRefused(await runCli("render", site, "-o", under), under, "out-path")).toContain(`${join(dir, "file")} is a file, not a folder`);
    const json = await runCli("render", site, "-o", under, "--json");
    expect(JSON.parse(json.stdout).error.exit).toBe(2);
    const locked = join(unwritableDir(), "out");
    const r = await runCli("render", site, "-o", locked);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^relay6: cannot write output folder ${locked}: permission denied`, "m"));
    expect(r.stderr).toContain("fix: run relay6 as a user that may write there");
    expect(r.stderr).not.toMatch(/\n\s+at |internal error|bug/);
    expect(readdirSync(dir).sort()).toEqual(["file", "site.yaml"]); // no secrets file either
  });
});
