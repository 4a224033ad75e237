// vps/setup.sh installs its rollback before it changes anything: bash itself runs the
// script's opening (everything before its first state-changing command, with the root check
// answered) and reports the traps it set: one on EXIT that restores from the backup, one on
// ERR. Pure (no root, nothing installed); the real rollback runs are the scripts branch's
// namespace tests. Kept in its own file so that both can change without meeting.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, renderFile } from "./helpers.js";

const SITES = ["recipe-bgp", "recipe-static", "slash56", "minimal"].map((n) => join(REPO, "test/golden/sites", `${n}.yaml`));

/** Where the script starts changing the host: its first top-level install, package step or run. */
const FIRST_CHANGE = /^(install_file |run |apt-get |step |wg_start|bird_start)/;

/** Runs the script up to (not including) its first change and prints `trap -p` for EXIT and
 *  ERR and the EXIT handler's definition. */
function trapsBeforeFirstChange(setup: string): { exit: string; err: string; handler: string; opening: string } {
  const lines = setup.split("\n");
  const first = lines.findIndex((l) => FIRST_CHANGE.test(l));
  expect(first, "setup.sh has a first change").toBeGreaterThan(0);
  const opening = lines.slice(0, first).join("\n");
  const probe = `
id() { echo 0; }   # the root check passes; nothing else of the host is touched
${opening}
printf 'EXIT=%s\\n' "$(trap -p EXIT)"
printf 'ERR=%s\\n' "$(trap -p ERR)"
h=$(trap -p EXIT | sed -E "s/^trap -- '([^' ]+).*/\\1/")
printf 'HANDLER<<\\n%s\\n>>\\n' "$(declare -f "$h")"
trap - EXIT ERR; rm -rf "\${backup:-/nonexistent}"; exit 0
`;
  const out = execFileSync("bash", ["-c", probe], { encoding: "utf8", env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" } });
  return {
    exit: /^EXIT=(.*)$/m.exec(out)![1]!,
    err: /^ERR=(.*)$/m.exec(out)![1]!,
    handler: /HANDLER<<\n([\s\S]*)\n>>/.exec(out)![1]!,
    opening,
  };
}

describe("vps/setup.sh: the rollback trap is set before the first change", () => {
  it.each(SITES)("%s", (site) => {
    const setup = renderFile(site).artifacts.find((a) => a.path === "vps/setup.sh")!.content;
    const t = trapsBeforeFirstChange(setup);
    expect(t.opening).toMatch(/^set -[a-z]*e[a-z]*( |$)|^set -euo pipefail/m); // errexit: a failing step ends the run
    expect(t.exit, "a trap on EXIT").toMatch(/^trap -- '.+' EXIT$/);
    expect(t.err, "a trap on ERR").toMatch(/^trap -- '.+' ERR$/);
    // The EXIT handler is a function of the script that puts the backed-up files back.
    expect(t.handler, "the EXIT handler is a function").toMatch(/^\S+ \(\)\s*\{/);
    expect(t.handler).toMatch(/\$backup/);
    expect(t.handler).toMatch(/cp -p|mv |restore/);
  });

  it("the probe has teeth: a script whose trap comes after its first change fails it", () => {
    const setup = renderFile(SITES[0]!).artifacts.find((a) => a.path === "vps/setup.sh")!.content;
    const trap = /^trap .*\bEXIT\b.*$/m.exec(setup)![0];
    const lines = setup.replace(`${trap}\n`, "").split("\n");
    const first = lines.findIndex((l) => FIRST_CHANGE.test(l));
    lines.splice(first + 1, 0, trap); // the same trap, one step too late
    const late = lines.join("\n");
    expect(late).not.toBe(setup);
    expect(trapsBeforeFirstChange(late).exit).toBe("");
  });
});
