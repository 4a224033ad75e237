// `npm run test:unit` runs every test that needs neither root nor network namespaces nor
// a network beyond loopback (an unprivileged user can run it): the files it leaves out are
// exactly those that make namespaces (NetnsHost, the lab) and the package test (npm
// install may ask the registry). A new namespace test that is not left out fails here.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers.js";

const script: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts["test:unit"];
const excluded = [...script.matchAll(/--exclude '?([^' ]+)'?/g)].map((m) => m[1]!);
// What makes namespaces: NetnsHost, the lab's modules, `ip netns ...` run by the test.
const NEEDS_ROOT = /from "[^"]*netns-host\.js"|from "[^"]*\/src\/lab\/(up|down|daemons|nodes|topology)\.js"|"netns", "(exec|add)"|\["netns"/;

const isExcluded = (file: string) => excluded.some((e) => (e.endsWith("/**") ? file.startsWith(e.slice(0, -2)) : file === e));

describe("npm run test:unit", () => {
  const files = readdirSync(join(REPO, "test"), { recursive: true })
    .map((f) => `test/${String(f)}`)
    .filter((f) => f.endsWith(".test.ts"));

  it("leaves out every test that makes namespaces, and nothing else but the package test", () => {
    const ns = files.filter((f) => NEEDS_ROOT.test(readFileSync(join(REPO, f), "utf8")) && !f.startsWith("test/unit-split"));
    expect(ns.filter((f) => !isExcluded(f)), "namespace tests that test:unit would run").toEqual([]);
    const extra = files.filter((f) => isExcluded(f) && !ns.includes(f));
    expect(extra).toEqual(["test/pack.test.ts"]);
    expect(files.filter((f) => !isExcluded(f)).length).toBeGreaterThan(30);
  });
});
