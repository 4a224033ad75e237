// The relay model without root: transit addresses from site names (stable, pinned,
// collisions found), what the VPS's files mean for several sites (one peer each with only
// its own prefixes, one BGP session per bgp-bfd site, per-site firewall rules), that adding
// or removing a site leaves every other site's rendered parts as they were, the commands on
// a relay file, and the RouterOS sites of a relay against their releases' command trees
// and the REST model.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { publicKeyOf, readSecrets } from "../src/keys/wireguard.js";
import { contains, parsePrefix6 } from "../src/net/ipv6.js";
import { checkRelay } from "../src/lint/relay.js";
import { buildRelayPlan, type RelayPlan } from "../src/plan/relay.js";
import { ufwRules, ufwTag } from "../src/targets/vps/firewall.js";
import { isReservedInterfaceId, parseTransitPin, transitInterfaceId } from "../src/plan/transit.js";
import { loadInput, platformOf, renderInput } from "../src/pipeline.js";
import type { RelayInput } from "../src/site/relay.js";
import { parse as parseIni } from "./ini.js";
import { startRouterOsModel, type RunningModel } from "./fixtures/routeros-model/index.js";
import { allCommands, parse as parseRsc } from "./routeros/rsc.js";
import { checkScript } from "./routeros/tree.js";
import { REPO, renderInputFile, runCli, testSecretsOf, tmp } from "./helpers.js";

const SG1 = join(REPO, "test/golden/sites/sg1.yaml");
const TRANSIT = { network: 0x24014520110b0000n << 64n, length: 64 };

/** sg1's input with its sites edited (order, removal, a new one): pure, no files. */
function relayWith(edit: (sites: RelayInput["sites"]) => RelayInput["sites"]): RelayPlan {
  const input = loadInput(SG1).input;
  return buildRelayPlan({ ...input, sites: edit([...input.sites]) }, platformOf);
}

const routerAddresses = (r: RelayPlan) => Object.fromEntries(r.sites.map((p) => [p.site, p.transit.router.address]));

function render(r: RelayPlan) {
  const secrets = testSecretsOf("relay", r.sites.map((p) => p.site));
  return new Map(renderInput(r, { secrets, version: "test" }).map((a) => [a.path, a.content]));
}

describe("transit addresses", () => {
  it("come from the site's name alone: the same when sites are added, removed or reordered", () => {
    const all = routerAddresses(relayWith((s) => s));
    expect(all).toEqual({
      home: "2401:4520:110b:0:128c:a3d5:44c0:721e",
      parents: "2401:4520:110b::100", // pinned
      cabin: "2401:4520:110b:0:6547:7430:a811:b5d4",
    });
    expect(routerAddresses(relayWith((s) => s.reverse()))).toEqual(all);
    expect(routerAddresses(relayWith((s) => s.filter((e) => e.site.site !== "home")))).toEqual({ parents: all.parents, cabin: all.cabin });
    const more = relayWith((s) => [{ ...s[0]!, site: { ...s[0]!.site, site: "office", prefix: "2401:4520:110b:400::/56" } }, ...s]);
    expect(routerAddresses(more)).toMatchObject(all);
    expect(routerAddresses(more).office).not.toBe(all.home);
  });

  it("the interface id is sha256's first 64 bits, never a reserved one, and the same on every run", () => {
    expect(transitInterfaceId("home")).toBe(0x128ca3d544c0721en);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/), (name) => {
        const iid = transitInterfaceId(name);
        return iid === transitInterfaceId(name) && !isReservedInterfaceId(iid) && iid > 2n && iid < 1n << 64n;
      }),
      { numRuns: 2000 },
    );
    for (const reserved of [0n, 1n, 2n, 0x02005efffe000000n, 0x02005efffe005213n, 0x02005efffeffffffn, 0xfdffffffffffff80n, 0xfdffffffffffffffn]) expect(isReservedInterfaceId(reserved), reserved.toString(16)).toBe(true);
    for (const fine of [3n, 0x100n, 0x02005efffdffffffn, 0xfdffffffffffff7fn, 0xfe00000000000000n]) expect(isReservedInterfaceId(fine), fine.toString(16)).toBe(false);
  });

  it("a pin is an interface id or an address of the transit /64; ::0, ::1 and RFC 5453's ids are refused", () => {
    expect(parseTransitPin("::100", TRANSIT)).toEqual({ ok: true, iid: 0x100n });
    expect(parseTransitPin("2401:4520:110b::abcd", TRANSIT)).toEqual({ ok: true, iid: 0xabcdn });
    expect(parseTransitPin("::2", TRANSIT)).toEqual({ ok: true, iid: 2n }); // what a standalone site's router keeps
    for (const bad of ["::1", "::", "::200:5eff:fe00:5213", "2001:db8::100", "not-an-address"]) expect(parseTransitPin(bad, TRANSIT).ok, bad).toBe(false);
    // The pin wins over the name.
    expect(routerAddresses(relayWith((s) => s.map((e) => (e.site.site === "home" ? { ...e, transit: "::42" } : e)))).home).toBe("2401:4520:110b::42");
  });

  it("two sites on one /128 are a lint error naming both; a pin that fixes it is accepted", () => {
    const loaded = loadInput(SG1);
    const clash = { ...loaded.input, sites: loaded.input.sites.map((e) => (e.site.site === "cabin" ? { ...e, transit: "::128c:a3d5:44c0:721e" } : e)) };
    const docs = { relay: loaded.relayDoc, sites: loaded.siteDocs };
    const found = checkRelay(clash, docs, platformOf).filter((d) => d.code === "transit-collision");
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('site "cabin" and site "home"');
    expect(found[0]!.message).toContain("2401:4520:110b:0:128c:a3d5:44c0:721e");
    expect(found[0]!.file).toBe(loaded.file);
    expect(checkRelay(loaded.input, docs, platformOf).filter((d) => d.severity === "error")).toEqual([]);
  });

  it("a standalone site keeps its router at ::2 and fe80::2, as it always had", () => {
    const r = renderInputFile(join(REPO, "test/golden/sites/recipe-bgp.yaml")).relay;
    expect(r.kind).toBe("site");
    expect(r.sites[0]!.transit.router.address).toBe("2401:4520:110b::2");
    expect(r.sites[0]!.transit.routerLinkLocal?.address).toBe("fe80::2");
  });
});

describe("the VPS of a relay", () => {
  const { relay, artifacts } = renderInputFile(SG1);
  const file = (p: string) => artifacts.find((a) => a.path === p)!.content;

  it("one wg0 on one port; each [Peer] holds only its own /64s and transit /128, none overlaps another", () => {
    const conf = parseIni(file("vps/files/etc/wireguard/wg0.conf"));
    expect(conf.filter((s) => s.name === "Interface")).toHaveLength(1);
    expect(conf.find((s) => s.name === "Interface")!.values.ListenPort).toEqual(["51820"]);
    const peers = conf.filter((s) => s.name === "Peer");
    expect(peers).toHaveLength(3);
    const secrets = testSecretsOf("relay", ["home", "parents", "cabin"]);
    relay.sites.forEach((plan, i) => {
      const allowed = peers[i]!.values.AllowedIPs![0]!.split(/,\s*/);
      expect(peers[i]!.values.PublicKey).toEqual([publicKeyOf(secrets.routers[plan.site]!)]);
      expect(allowed).toEqual([`${plan.transit.router.address}/128`, ...plan.segments.map((s) => s.prefix)]);
      const own = parsePrefix6(plan.prefix);
      for (const a of allowed.slice(1)) {
        const p = parsePrefix6(a);
        expect(own.ok && p.ok && contains(own.prefix, p.prefix), `${plan.site}: ${a} inside ${plan.prefix}`).toBe(true);
      }
    });
    const every = peers.flatMap((p) => p.values.AllowedIPs![0]!.split(/,\s*/));
    expect(new Set(every).size).toBe(every.length);
    expect(every).not.toContain(relay.prefix);
  });

  it("bird: one BGP session and BFD neighbour per bgp-bfd site, none for the static site; bird -p accepts it", () => {
    const bird = file("vps/files/etc/bird/bird.conf");
    const sessions = [...bird.matchAll(/protocol bgp (\w+) \{[\s\S]*?neighbor (\S+) as (\d+);/g)].map((m) => [m[1], m[2], m[3]]);
    expect(sessions).toEqual([
      ["router_home", "2401:4520:110b:0:128c:a3d5:44c0:721e", "65001"],
      ["router_cabin", "2401:4520:110b:0:6547:7430:a811:b5d4", "65003"],
    ]);
    expect([...bird.matchAll(/neighbor (\S+) dev "wg0";/g)].map((m) => m[1])).toEqual(sessions.map((s) => s[1]));
    expect(bird).not.toContain("2401:4520:110b::100");
    expect(bird.match(/local 2401:4520:110b::1 as 65002;/g)).toHaveLength(2);
    const dir = tmp();
    writeFileSync(join(dir, "bird.conf"), bird);
    const r = spawnSync("bird", ["-p", "-c", join(dir, "bird.conf")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  it("ufw: BGP and BFD from each bgp-bfd router's /128 only; from wg0 back into wg0 only a site's named inbound services", () => {
    const fw = file("vps/firewall.sh");
    for (const plan of relay.sites) {
      const n = (fw.match(new RegExp(`from ${plan.transit.router.address} to 2401:4520:110b::1 port (179|3784)`, "g")) ?? []).length;
      expect(n, plan.site).toBe(plan.failover.mode === "bgp-bfd" ? 2 : 0);
    }
    const intoWg0 = fw.split("\n").filter((l) => /^rule '[^']*' route allow in on wg0 out on wg0/.test(l));
    expect(intoWg0).toEqual(["rule 'home: inbound web (iot) from the other sites' route allow in on wg0 out on wg0 to 2401:4520:110b:111::80 port 443 proto tcp"]);
    // And nothing else forwards into wg0 but the internet's named services (default routed deny).
    expect(fw.split("\n").filter((l) => /^rule '[^']*' route allow .*out on wg0/.test(l))).toHaveLength(2);
    // Out of the NIC: exactly each site's own transit /128 and global /64s, each rule named
    // after its site (never a ULA, never the relay's prefix or another site's).
    const toNic = fw.split("\n").flatMap((l) => {
      const m = /^rule '([^:']+): to internet from [^']*' route allow in on wg0 out on enp3s0 from (\S+)$/.exec(l);
      return m ? [[m[1], m[2]]] : [];
    });
    expect(toNic).toEqual(relay.sites.flatMap((p) => [[p.site, p.transit.router.address], ...p.segments.map((s) => [p.site, s.prefix])]));
    expect(fw.split("\n").filter((l) => /^rule .*out on enp3s0/.test(l))).toHaveLength(toNic.length);
    // Every rule carries the relay's tag: pruning (that tag only) removes a removed site's rules.
    expect(fw).toContain("tag='relay6 sg1: '");
    expect(fw).toMatch(/DEFAULT_FORWARD_POLICY="DROP"' \/etc\/default\/ufw \|\| run ufw default deny routed/);
  });

  it("every script parses (bash -n); the smoke test checks each peer by its own key; failover-test.sh takes a site", () => {
    for (const a of artifacts.filter((x) => x.path.endsWith(".sh") || x.path.endsWith("relay6-router-net")))
      expect(() => execFileSync("bash", ["-n"], { input: a.content }), a.path).not.toThrow();
    const smoke = file("vps/smoke-test.sh");
    const secrets = testSecretsOf("relay", ["home", "parents", "cabin"]);
    for (const p of relay.sites) expect(smoke).toContain(`awk -v k=${publicKeyOf(secrets.routers[p.site]!)} '$1 == k {print $2}'`);
    const fo = file("vps/failover-test.sh");
    expect(fo).toContain("home) key=");
    expect(fo).toContain("cabin) key=");
    expect(fo).not.toContain("parents) key="); // static: no BGP to fail over
    expect(fo).toMatch(/-s "\$host" -p udp --dport 51820 -j DROP/);
  });

  it("each site's router files sit under sites/<site>/: the RouterOS scripts pass their release's command tree", () => {
    const trees: Record<string, string> = { home: "7.22.3", parents: "7.15" };
    for (const [site, tree] of Object.entries(trees)) {
      for (const kind of ["", "-undo", "-verify"]) {
        const text = file(`sites/${site}/router/relay6-${site}${kind}.rsc`);
        const stmts = parseRsc(text);
        expect(allCommands(stmts).length).toBeGreaterThan(0);
        expect(checkScript(stmts, tree), `${site}${kind} on ${tree}`).toEqual([]);
      }
      // The BGP session of home names the relay's VPS address and its own transit /128.
    }
    const home = file("sites/home/router/relay6-home.rsc").replace(/ \\\n\s+/g, " ");
    expect(home).toMatch(/remote\.address=2401:4520:110b::1 remote\.as=65002 local\.address=2401:4520:110b:0:128c:a3d5:44c0:721e /);
    expect(file("sites/cabin/router/files/etc/wireguard/wg0.conf")).toContain("Address = 2401:4520:110b:0:6547:7430:a811:b5d4/64");
    expect(artifacts.filter((a) => a.path.startsWith("router/") || a.path.startsWith("client/"))).toEqual([]);
  });

  it("plan.json is the relay's plan: it names the relay and every site", () => {
    const j = JSON.parse(file("plan.json"));
    expect(j.relay).toBe("sg1");
    expect(j.sites.map((s: { site: string }) => s.site)).toEqual(["home", "parents", "cabin"]);
    expect(j.totals.bfdBytesPerMonth).toBe(j.sites[0].failover.bfd.bytesPerMonth + j.sites[2].failover.bfd.bytesPerMonth);
  });
});

describe("adding or removing a site changes nothing of the others", () => {
  /** The blocks of the VPS's files that belong to one site. */
  function siteParts(files: Map<string, string>, site: string): string[] {
    const wg = files.get("vps/files/etc/wireguard/wg0.conf")!.split("\n\n").filter((b) => b.includes(`# router of site ${site} `));
    const bird = files.get("vps/files/etc/bird/bird.conf")?.split("\n\n").filter((b) => b.startsWith(`protocol bgp router_${site} `)) ?? [];
    const fw = files.get("vps/firewall.sh")!.split("\n").filter((l) => l.startsWith(`rule '${site}: `));
    const router = [...files].filter(([p]) => p.startsWith(`sites/${site}/`)).map(([p, c]) => `${p}\n${c}`);
    // (the file's last block ends with its final newline: not a difference)
    return [...wg, ...bird, ...fw, ...router].map((b) => b.trimEnd());
  }

  it("the other sites' peers, BGP protocols, firewall rules and router files stay byte for byte", () => {
    const all = render(relayWith((s) => s));
    const without = render(relayWith((s) => s.filter((e) => e.site.site !== "cabin")));
    const reordered = render(relayWith((s) => [...s].reverse()));
    for (const site of ["home", "parents"]) {
      expect(siteParts(without, site).join("\n"), site).toBe(siteParts(all, site).join("\n"));
      expect(siteParts(reordered, site).join("\n"), site).toBe(siteParts(all, site).join("\n"));
      expect(siteParts(all, site).length).toBeGreaterThan(1);
    }
    expect(siteParts(without, "cabin")).toEqual([]);
    expect(siteParts(all, "cabin").filter((b) => b.startsWith("rule "))).toHaveLength(4); // BGP, BFD, router, lan
    // The BFD neighbours: cabin's goes, home's stays (birdc configure reconfigures bfd in place).
    expect(without.get("vps/files/etc/bird/bird.conf")).not.toContain("2401:4520:110b:0:6547:7430:a811:b5d4");
    expect(without.get("vps/files/etc/bird/bird.conf")).toContain('neighbor 2401:4520:110b:0:128c:a3d5:44c0:721e dev "wg0";');
  });
});

describe("firewall.sh when a site comes or goes (bash, with ufw and sshd recorded)", () => {
  /** Runs a relay's firewall.sh against a ufw that holds `held` (as `ufw show added` prints
   *  rules); returns the ufw commands that change something. The recorded ufw reads its
   *  stdin to the end, as the real one's children do (in the lab a prune loop fed from a
   *  here-string lost its other lines to the first `ufw delete`). */
  function runFirewall(relay: RelayPlan, held: string[]): string[] {
    const dir = tmp();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(dir, "added"), ["Added user rules (see 'ufw status' for running firewall):", ...held].join("\n") + "\n");
    writeFileSync(join(bin, "ufw"), `#!/bin/bash\ncase "$1" in show) cat ${dir}/added ;; status) echo "Status: active" ;; *) echo "$*" >> ${dir}/calls; cat > /dev/null ;; esac\n`, { mode: 0o755 });
    writeFileSync(join(bin, "sshd"), "#!/bin/sh\necho 'port 22'\n", { mode: 0o755 });
    writeFileSync(join(dir, "calls"), "");
    // The policies as ufw keeps them: already relay6's (no default changes).
    const fw = render(relay).get("vps/firewall.sh")!.replaceAll("/etc/default/ufw", join(dir, "default-ufw"));
    writeFileSync(join(dir, "default-ufw"), 'DEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n');
    writeFileSync(join(dir, "firewall.sh"), fw);
    execFileSync("bash", [join(dir, "firewall.sh")], { env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: ["ignore", "ignore", "ignore"] });
    return readFileSync(join(dir, "calls"), "utf8").split("\n").filter(Boolean);
  }
  /** What ufw holds after a relay's firewall.sh ran: its rules with their comments. */
  const heldBy = (relay: RelayPlan) => [
    "ufw allow 22/tcp comment 'relay6 sg1: ssh'",
    ...ufwRules(relay).map((r) => `ufw ${r.args.join(" ")} comment '${ufwTag(relay)}${r.tag}'`),
  ];
  const others = ["ufw allow 8080/tcp comment 'relay6 sg10: web'", "ufw allow 8443/tcp comment 'relay6 home: web'", "ufw allow 25/tcp"];
  const all = relayWith((s) => s);
  const without = relayWith((s) => s.filter((e) => e.site.site !== "cabin"));

  it("removing cabin deletes exactly cabin's rules; the other sites', another relay's and the user's stay", () => {
    const calls = runFirewall(without, [...heldBy(all), ...others]);
    const cabin = ufwRules(all).filter((r) => r.tag.startsWith("cabin: "));
    expect(cabin).toHaveLength(4);
    expect(calls.sort()).toEqual(cabin.map((r) => (r.args[0] === "route" ? `route delete ${r.args.slice(1).join(" ")}` : `delete ${r.args.join(" ")}`)).sort());
  });

  it("adding cabin adds exactly cabin's rules and deletes nothing", () => {
    const calls = runFirewall(all, [...heldBy(without), ...others]);
    expect(calls.sort()).toEqual(ufwRules(all).filter((r) => r.tag.startsWith("cabin: ")).map((r) => `${r.args.join(" ")} comment relay6 sg1: ${r.tag}`).sort());
    expect(runFirewall(all, [...heldBy(all), ...others])).toEqual([]); // and a second run: nothing
  });
});

describe("relay6 on a relay file", () => {
  /** sg1 and its site files in a temp dir (render makes secrets beside them). */
  function copy(): string {
    const dir = tmp();
    cpSync(join(REPO, "test/golden/sites/sg1.yaml"), join(dir, "sg1.yaml"));
    cpSync(join(REPO, "test/golden/sites/sg1"), join(dir, "sg1"), { recursive: true });
    return join(dir, "sg1.yaml");
  }

  it("render: vps/ once, sites/<site>/router and client; the relay's secrets hold only the VPS key, each site's only its router key (0600); no key printed", async () => {
    const input = copy();
    const dir = join(input, "..");
    const out = join(dir, "out");
    const r = await runCli("render", input, "-o", out);
    expect(r.code, r.stderr).toBe(0);
    for (const p of ["vps/setup.sh", "vps/files/etc/wireguard/wg0.conf", "sites/home/router/relay6-home.rsc", "sites/parents/router/relay6-parents.rsc", "sites/cabin/router/setup.sh", "sites/cabin/client/smoke-test.sh", "plan.json"]) expect(existsSync(join(out, p)), p).toBe(true);
    expect(existsSync(join(out, "router"))).toBe(false);
    const relaySecrets = readSecrets(join(dir, "sg1.secrets.yaml"))!;
    expect(Object.keys(relaySecrets)).toEqual(["vps"]);
    for (const site of ["home", "parents", "cabin"]) {
      const f = join(dir, "sg1", `${site}.secrets.yaml`);
      expect(Object.keys(readSecrets(f)!), site).toEqual(["router"]);
      expect(statSync(f).mode & 0o777).toBe(0o600);
      expect(r.stdout + r.stderr).not.toContain(readSecrets(f)!.router!.privateKey);
    }
    expect(statSync(join(dir, "sg1.secrets.yaml")).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(relaySecrets.vps!.privateKey);
    expect(r.stdout).toContain(`relay6 apply vps ${input}`);
    expect(r.stdout).toContain(`site home: upload ${out}/sites/home/router/relay6-home.rsc`);
    expect(r.stdout).toContain(`relay6 apply router ${input} --site cabin --router-ssh HOST`);
    // A second render with the same keys: the same files.
    const wg = readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8");
    expect((await runCli("render", input, "-o", out)).code).toBe(0);
    expect(readFileSync(join(out, "vps/files/etc/wireguard/wg0.conf"), "utf8")).toBe(wg);
  });

  it("plan and lint take the relay file; --json gives the relay's plan", async () => {
    const input = copy();
    const p = await runCli("plan", input, "--json");
    expect(p.code).toBe(0);
    const j = JSON.parse(p.stdout);
    expect(j.relay.sites.map((s: { site: string }) => s.site)).toEqual(["home", "parents", "cabin"]);
    expect(j.findings.filter((d: { site?: string }) => d.site === "parents").map((d: { code: string }) => d.code)).toContain("static-failover-slow");
    const text = await runCli("plan", input);
    expect(text.stdout).toContain("relay sg1: 2401:4520:110b::/48 routed to the VPS");
    expect(text.stdout).toContain("site parents of relay sg1: 2401:4520:110b:200::/60, a /60 of 2401:4520:110b::/48");
    expect(text.stdout).toMatch(/BFD traffic\s+7\.3 GB\/month on the underlay, all sites together/);
    expect((await runCli("lint", input)).code).toBe(0);
  });

  it("apply router and verify's router need --site on a relay of several sites; an unknown site is named", async () => {
    const input = copy();
    // Read-only commands make no keys: with none, they name the relay's secrets file.
    const none = await runCli("apply", "router", input, "--site", "home", "--dry-run");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no secrets file ${join(input, "..", "sg1.secrets.yaml")}`);
    expect(existsSync(join(input, "..", "sg1.secrets.yaml"))).toBe(false);
    expect((await runCli("keys", input)).code).toBe(0);
    const a = await runCli("apply", "router", input, "--dry-run");
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("relay sg1 has 3 sites: name one with --site (home, parents, cabin)");
    const b = await runCli("apply", "router", input, "--site", "office", "--dry-run");
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("relay sg1 has no such site (its sites: home, parents, cabin)");
    const v = await runCli("verify", input, "--no-vps", "--router-ssh", "127.0.0.1");
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("name the router's site with --site");
  });

  it("keys --rotate --site: only that site's key is new; the VPS's wg0.conf changes that peer's key only", async () => {
    const input = copy();
    const dir = join(input, "..");
    expect((await runCli("render", input, "-o", join(dir, "before"))).code).toBe(0);
    const keyFile = (s: string) => join(dir, "sg1", `${s}.secrets.yaml`);
    const before = Object.fromEntries(["home", "parents", "cabin"].map((s) => [s, readSecrets(keyFile(s))!.router!.privateKey]));
    const vpsBefore = readSecrets(join(dir, "sg1.secrets.yaml"))!.vps!.privateKey;
    expect((await runCli("keys", input, "--rotate")).stderr).toContain("name the site whose router gets a new key with --site");
    const r = await runCli("keys", input, "--rotate", "--site", "parents", "--json");
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).keys as { end: string; publicKey: string; rotated: boolean }[];
    expect(rows.filter((x) => x.rotated).map((x) => x.end)).toEqual(["router of parents"]);
    expect(r.stdout).not.toContain(readSecrets(keyFile("parents"))!.router!.privateKey);
    expect(readSecrets(keyFile("parents"))!.router!.privateKey).not.toBe(before.parents);
    expect(readSecrets(keyFile("home"))!.router!.privateKey).toBe(before.home);
    expect(readSecrets(keyFile("cabin"))!.router!.privateKey).toBe(before.cabin);
    expect(readSecrets(join(dir, "sg1.secrets.yaml"))!.vps!.privateKey).toBe(vpsBefore);
    expect((await runCli("render", input, "-o", join(dir, "after"))).code).toBe(0);
    const changed = (p: string) => readFileSync(join(dir, "before", p), "utf8") !== readFileSync(join(dir, "after", p), "utf8");
    const wgBefore = readFileSync(join(dir, "before/vps/files/etc/wireguard/wg0.conf"), "utf8").split("\n");
    const wgAfter = readFileSync(join(dir, "after/vps/files/etc/wireguard/wg0.conf"), "utf8").split("\n");
    const diff = wgAfter.filter((l, i) => l !== wgBefore[i]);
    expect(diff).toEqual([`PublicKey = ${rows.find((x) => x.end === "router of parents")!.publicKey}`]);
    expect(changed("sites/parents/router/relay6-parents.rsc")).toBe(true);
    for (const p of ["sites/home/router/relay6-home.rsc", "sites/cabin/router/files/etc/wireguard/wg0.conf", "sites/cabin/router/secrets/wg0.key", "vps/files/etc/bird/bird.conf", "vps/firewall.sh"]) expect(changed(p), p).toBe(false);
  });

  it("a standalone site file keeps its secrets file with both keys; keys --rotate gives its router a new key", async () => {
    const dir = tmp();
    const site = join(dir, "home.yaml");
    cpSync(join(REPO, "examples/recipe-home.yaml"), site);
    const first = await runCli("keys", site, "--json");
    const k1 = JSON.parse(first.stdout);
    const r = await runCli("keys", site, "--rotate", "--json");
    const k2 = JSON.parse(r.stdout);
    expect(k2.vps).toBe(k1.vps);
    expect(k2.router).not.toBe(k1.router);
    expect(Object.keys(readSecrets(join(dir, "home.secrets.yaml"))!).sort()).toEqual(["router", "vps"]);
  });
});

describe("the RouterOS sites of a relay against the REST model", () => {
  let m: RunningModel | undefined;
  afterEach(async () => {
    await m?.stop();
    m = undefined;
    delete process.env.RELAY6_ROUTER_PASSWORD;
  });
  const PASSWORD = "model-pw-relay";

  function relayDir(): string {
    const dir = tmp();
    cpSync(join(REPO, "test/golden/sites/sg1.yaml"), join(dir, "sg1.yaml"));
    cpSync(join(REPO, "test/golden/sites/sg1"), join(dir, "sg1"), { recursive: true });
    return join(dir, "sg1.yaml");
  }

  for (const [site, version] of [["home", "7.22.3"], ["parents", "7.15"]] as const)
    it(`apply router --site ${site} (RouterOS ${version}): its own objects, tagged relay6:${site}:, the relay's VPS as peer; a second run changes nothing`, async () => {
      m = await startRouterOsModel({ version, state: "defconf", auth: { user: "admin", password: PASSWORD } });
      m.runScript("/interface/vlan/add name=vlan10 interface=bridge vlan-id=10\n/interface/vlan/add name=vlan11 interface=bridge vlan-id=11\n");
      process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
      const input = relayDir();
      expect((await runCli("keys", input)).code).toBe(0); // apply makes no keys
      const r = await runCli("apply", "router", input, "--site", site, "--router-url", m.url, "--json");
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ site, outcome: "applied" });
      const vps = readSecrets(join(input, "..", "sg1.secrets.yaml"))!.vps!.privateKey;
      const peer = m.state.list("interface/wireguard/peers").find((p) => p.comment?.startsWith(`relay6:${site}:peer;`))!;
      expect(peer["public-key"]).toBe(publicKeyOf(vps));
      const transit = m.state.list("ipv6/address").find((a) => a.comment?.startsWith(`relay6:${site}:addr:transit;`))!;
      expect(transit.address).toBe(site === "home" ? "2401:4520:110b:0:128c:a3d5:44c0:721e/64" : "2401:4520:110b::100/64");
      const lan = m.state.list("ipv6/address").find((a) => a.comment?.startsWith(`relay6:${site}:addr:lan;`))!;
      expect(lan.address).toBe(site === "home" ? "2401:4520:110b:100::1/64" : "2401:4520:110b:200::1/64");
      expect(m.state.list("ipv6/address").some((a) => (a.comment ?? "").startsWith("relay6:") && !(a.comment ?? "").startsWith(`relay6:${site}:`))).toBe(false);
      const again = await runCli("apply", "router", input, "--site", site, "--router-url", m.url);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("no changes: the router already matches the plan");
      expect(r.stdout + r.stderr + again.stdout).not.toContain(readSecrets(join(input, "..", "sg1", `${site}.secrets.yaml`))!.router!.privateKey);
    });

  it("verify --site home --no-vps: the router of home as a working relay shows it", async () => {
    const input = relayDir();
    expect((await runCli("keys", input)).code).toBe(0);
    const vps = publicKeyOf(readSecrets(join(input, "..", "sg1.secrets.yaml"))!.vps!.privateKey);
    m = await startRouterOsModel({
      version: "7.22.3",
      state: {
        "interface/wireguard": [{ name: "wg-host", "listen-port": "51820", mtu: "1420" }],
        "interface/wireguard/peers": [{ interface: "wg-host", "public-key": vps, "endpoint-address": "203.0.113.10", "endpoint-port": "51820", "allowed-address": "::/0", "last-handshake": "12s" }],
        "ipv6/route": [{ "dst-address": "::/0", gateway: "fe80::1%wg-host", "immediate-gw": "fe80::1%wg-host", active: "true", bgp: "true", dynamic: "true" }],
        "routing/bgp/session": [{ name: "relay6-home-1", "remote.address": "2401:4520:110b::1", established: "true" }],
        "routing/bfd/session": [{ "remote-address": "2401:4520:110b::1%wg-host", state: "up", "hold-time": "600ms" }],
        "ip/dns": [{ "allow-remote-requests": "true" }],
        // home's RA drain, as its setup installs it, and its segments advertising the router.
        "ipv6/nd": ["bridge", "vlan10", "vlan11"].map((i) => ({ interface: i, "ra-lifetime": "30m", comment: `relay6:home:nd:${i}; RA` })),
        "system/script": [{ name: "relay6-home-drain", source: "", comment: "relay6:home:drain; RA drain" }],
        "tool/netwatch": [{ name: "relay6-home-drain", host: "127.0.0.1", type: "simple", interval: "1s", disabled: "false", comment: "relay6:home:drain-tick; tick" }],
      },
      auth: { user: "admin", password: PASSWORD },
    });
    process.env.RELAY6_ROUTER_PASSWORD = PASSWORD;
    const r = await runCli("verify", input, "--site", "home", "--no-vps", "--router-url", m.url, "--json");
    const findings = JSON.parse(r.stdout).findings as { check: string; status: string }[];
    expect(findings.filter((f) => f.status !== "pass"), JSON.stringify(findings)).toEqual([]);
    expect(r.code).toBe(0);
    // The same router against parents' plan: another site's VPS session address and key would not match.
    const wrong = await runCli("verify", input, "--site", "parents", "--no-vps", "--router-url", m.url, "--json");
    expect(wrong.code).toBe(1);
  });
});

describe("loading a relay", () => {
  it("a site file of a relay alone is refused (exit 2) with the way out; with its relay it loads", async () => {
    const r = await runCli("lint", join(REPO, "test/golden/sites/sg1/home.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("belongs under a relay file (give the relay file instead)");
    expect((await runCli("lint", SG1)).code).toBe(0);
  });

  it("a standalone site's file listed by a relay: its vps block belongs to the relay file", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "r.yaml"), stringify({ relay: "r", prefix: "2401:4520:110b::/48", vps: { endpoint: "203.0.113.10", nic: "eth0" }, sites: ["home.yaml"] }));
    const home = parse(readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8"));
    writeFileSync(join(dir, "home.yaml"), stringify({ ...home, prefix: "2401:4520:110b:100::/56" }));
    const r = await runCli("lint", join(dir, "r.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error relay-key-in-site at vps: "vps" belongs to the relay file');
  });
});
