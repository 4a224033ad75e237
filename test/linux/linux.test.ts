// The linux target: golden files of its artifacts, the files parsed back for what they
// mean, and checked by the real tools (bash -n, radvd -c, FRR's --dryrun) where present.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { publicKeyOf } from "../../src/keys/wireguard.js";
import type { Plan } from "../../src/plan/plan.js";
import { MANAGED_MARK, type Artifact } from "../../src/render/types.js";
import { linuxTarget } from "../../src/targets/linux/index.js";
import { checkLinuxRouter } from "../../src/targets/linux/verify.js";
import { parseSections } from "../../src/verify/findings.js";
import { REPO, renderFile, TEST_SECRETS } from "../helpers.js";

const SITES = join(REPO, "test/linux/sites");
const GOLDEN = join(REPO, "test/linux/golden");
const UPDATE = process.env.RELAY6_UPDATE_GOLDEN === "1";

function render(site: string): { plan: Plan; files: Artifact[] } {
  const { plan } = renderFile(join(SITES, site));
  return { plan, files: linuxTarget.render(plan, { secrets: TEST_SECRETS, version: "test" }) };
}
const file = (files: Artifact[], path: string) => {
  const f = files.find((a) => a.path === path);
  if (!f) throw new Error(`no artifact ${path}; have ${files.map((a) => a.path).join(", ")}`);
  return f.content;
};
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** wg-quick's INI: [Interface] and [Peer] sections of key = value lines (keys repeat). */
function parseWg(text: string): { section: string; entries: [string, string][] }[] {
  const out: { section: string; entries: [string, string][] }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) out.push({ section: sec[1]!, entries: [] });
    else {
      const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (!m || out.length === 0) throw new Error(`not wg-quick syntax: ${line}`);
      out[out.length - 1]!.entries.push([m[1]!, m[2]!]);
    }
  }
  return out;
}
const values = (sec: { entries: [string, string][] }, key: string) => sec.entries.filter(([k]) => k === key).map(([, v]) => v);

/** radvd.conf → interface → its prefixes, MTU and RDNSS. */
function parseRadvd(text: string): Map<string, { prefixes: string[]; mtu?: number; rdnss: string[] }> {
  const ifs = new Map<string, { prefixes: string[]; mtu?: number; rdnss: string[] }>();
  const body = text.replace(/#.*$/gm, "");
  for (const m of body.matchAll(/interface\s+(\S+)\s*\{([\s\S]*?)\n\};/g)) {
    const block = m[2]!;
    ifs.set(m[1]!, {
      prefixes: [...block.matchAll(/prefix\s+(\S+)\s*\{/g)].map((x) => x[1]!),
      ...(/AdvLinkMTU\s+(\d+);/.exec(block) ? { mtu: Number(/AdvLinkMTU\s+(\d+);/.exec(block)![1]) } : {}),
      rdnss: [...block.matchAll(/RDNSS\s+([^{]+)\{/g)].flatMap((x) => x[1]!.trim().split(/\s+/)),
    });
  }
  return ifs;
}

describe("linux target: golden files", () => {
  for (const site of readdirSync(SITES).filter((f) => f.endsWith(".yaml"))) {
    it(site, () => {
      const { files } = render(site);
      const dir = join(GOLDEN, site.replace(/\.yaml$/, ""));
      if (UPDATE) {
        rmSync(dir, { recursive: true, force: true });
        for (const f of files) {
          mkdirSync(dirname(join(dir, f.path)), { recursive: true });
          writeFileSync(join(dir, f.path), f.content);
        }
      }
      const want = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => relative(dir, join(d.parentPath, d.name)))
        .sort();
      expect(files.map((f) => f.path).sort()).toEqual(want);
      for (const f of files) expect(f.content, f.path).toBe(readFileSync(join(dir, f.path), "utf8"));
    });
  }
});

describe("linux target: what the files mean (recipe site, bgp-bfd)", () => {
  const { plan, files } = render("recipe-linux.yaml");

  it("every file but the key carries the managed-by-relay6 header in its first lines", () => {
    for (const f of files.filter((a) => !a.path.includes("/secrets/")))
      expect(f.content.split("\n").slice(0, 3).join("\n"), f.path).toContain(MANAGED_MARK);
  });

  it("wg0.conf: transit and link-local addresses, Table = off, the VPS as peer with ::/0", () => {
    const wg = parseWg(file(files, "router/files/etc/wireguard/wg0.conf"));
    const iface = wg.find((s) => s.section === "Interface")!;
    const peer = wg.find((s) => s.section === "Peer")!;
    expect(values(iface, "Address")).toEqual(["2401:4520:110b::2/64", "fe80::2/64"]);
    expect(values(iface, "Table")).toEqual(["off"]);
    expect(values(iface, "MTU")).toEqual([String(plan.wireguard.mtu)]);
    expect(values(iface, "PrivateKey")).toEqual([]);
    expect(values(iface, "PostUp")).toEqual(["wg set %i private-key /etc/wireguard/%i.key"]);
    expect(values(peer, "PublicKey")).toEqual([publicKeyOf(TEST_SECRETS.vpsPrivateKey)]);
    expect(values(peer, "Endpoint")).toEqual(["203.0.113.10:51820"]);
    expect(values(peer, "AllowedIPs")).toEqual(["::/0"]);
    expect(file(files, "router/secrets/wg0.key")).toBe(`${TEST_SECRETS.routerPrivateKey}\n`);
    expect(files.find((f) => f.path === "router/secrets/wg0.key")!.mode).toBe(0o600);
  });

  it("frr.conf: eBGP to the VPS's transit ::1 with BFD at the plan's timers, ::/0 in, the transit /64 out", () => {
    const frr = file(files, "router/files/etc/frr/frr.conf");
    const f = plan.failover.mode === "bgp-bfd" ? plan.failover : undefined;
    expect(f).toBeDefined();
    const lines = frr.split("\n").map((l) => l.trim());
    const peer = "2401:4520:110b::1";
    expect(lines).toContain(`router bgp ${f!.routerAs}`);
    expect(lines).toContain(`neighbor ${peer} remote-as ${f!.vpsAs}`);
    expect(lines).toContain("no bgp ebgp-requires-policy");
    expect(lines).toContain(`neighbor ${peer} timers connect 1`);
    expect(lines).toContain(`neighbor ${peer} bfd profile relay6`);
    const profile = frr.slice(frr.indexOf("profile relay6"));
    expect(profile).toMatch(new RegExp(`detect-multiplier ${f!.bfd.multiplier}\\b`));
    expect(profile).toMatch(new RegExp(`receive-interval ${f!.bfd.intervalMs}\\b`));
    expect(profile).toMatch(new RegExp(`transmit-interval ${f!.bfd.intervalMs}\\b`));
    const af = frr.slice(frr.indexOf("address-family ipv6 unicast"), frr.indexOf("exit-address-family"));
    expect(af).toContain(`neighbor ${peer} activate`);
    expect(af).toContain(`neighbor ${peer} prefix-list relay6-default-only in`);
    const permits = lines.filter((l) => l.startsWith("ipv6 prefix-list relay6-default-only") && l.includes(" permit "));
    expect(permits).toEqual(["ipv6 prefix-list relay6-default-only seq 5 permit ::/0"]);
    // The restore (docs/lab.md): BFD answers the VPS's first packet at once (passive), and
    // the transit /64 goes out as soon as the session is up, so that bird before 2.14 sends
    // its ::/0 at once (bird drops the /64: import none). Nothing else goes out.
    expect(profile.slice(0, profile.indexOf("!"))).toMatch(/^\s*passive-mode$/m);
    expect(lines).toContain("coalesce-time 0");
    expect(af).toContain(`network ${plan.transit.prefix}`);
    expect(af).toContain(`neighbor ${peer} prefix-list relay6-transit-only out`);
    expect(lines.filter((l) => l.startsWith("ipv6 prefix-list relay6-transit-only") && l.includes(" permit "))).toEqual([`ipv6 prefix-list relay6-transit-only seq 5 permit ${plan.transit.prefix}`]);
    // No `exit` lines: each hand-started daemon reads the whole file (see frr.ts).
    expect(lines.filter((l) => l === "exit")).toEqual([]);
  });

  it("radvd.conf: each segment's /64, the tunnel MTU, RDNSS = the router itself, an explicit router lifetime", () => {
    const text = file(files, "router/files/etc/radvd.conf");
    const r = parseRadvd(text);
    expect([...r.keys()]).toEqual(plan.segments.map((s) => s.interface));
    for (const s of plan.segments) {
      const b = r.get(s.interface)!;
      expect(b.prefixes).toEqual([s.prefix]);
      expect(b.mtu).toBe(plan.wireguard.mtu);
      expect(b.rdnss).toEqual([s.router.address]);
    }
    // The value the RA drain restores; no ULA here, so no route information option.
    expect(text.match(/^\s*AdvDefaultLifetime 300;$/gm)).toHaveLength(plan.segments.length);
    expect(text).not.toMatch(/^\s*route /m);
  });

  it("the RA drain: watcher, its unit, and radvd.service run from the drain's copy", () => {
    const d = file(files, "router/files/usr/local/sbin/relay6-ra-drain");
    expect(d).toContain('own_default() { [ -n "$(ip -6 route show default proto bgp dev wg0 2>/dev/null)" ]; }');
    expect(d).toContain('radvd -c -C "$tmp"');
    expect(file(files, "router/files/etc/systemd/system/relay6-ra-drain.service")).toContain("ExecStart=/usr/local/sbin/relay6-ra-drain watch");
    const dropIn = file(files, "router/files/etc/systemd/system/radvd.service.d/relay6.conf");
    expect(dropIn).toContain("ExecStartPre=/usr/local/sbin/relay6-ra-drain render");
    expect(dropIn).toContain("ExecStart=/usr/sbin/radvd --logmethod stderr_clean -C /run/relay6/radvd.conf");
    // setup.sh converges the watcher like the other units; a new radvd.conf reloads radvd,
    // a new drop-in restarts it; undo.sh stops and disables the watcher (its units list).
    const setup = file(files, "router/setup.sh");
    expect(setup).toMatch(/^units=\(relay6-router-net wg-quick@wg0 radvd relay6-ra-drain frr\)$/m);
    expect(setup).toContain('if [ "$drain_changed$drain_unit_changed" != 00 ]; then converge relay6-ra-drain 1 multi-user.target; else converge relay6-ra-drain 0 multi-user.target; fi');
    expect(setup).toContain('if [ "$radvd_unit_changed" = 1 ]; then converge radvd 1 multi-user.target; elif [ "$radvd_conf_changed" = 1 ]; then converge radvd reload multi-user.target; else converge radvd 0 multi-user.target; fi');
    expect(setup).toContain("install_file files/etc/systemd/system/radvd.service.d/relay6.conf /etc/systemd/system/radvd.service.d/relay6.conf 644 root:root radvd_unit_changed");
    expect(file(files, "router/undo.sh")).toMatch(/^units=\(relay6-router-net wg-quick@wg0 radvd relay6-ra-drain frr\)$/m);
  });

  it("sysctl: forwarding on; no WAN line when the site names no WAN", () => {
    const s = file(files, "router/files/etc/sysctl.d/99-relay6.conf");
    expect(s).toMatch(/^net\.ipv6\.conf\.all\.forwarding = 1$/m);
    expect(s).not.toMatch(/accept_ra/);
  });

  it("firewall: only BGP/BFD/ICMPv6 in from the tunnel, no unsolicited forwarding to the LAN, into the tunnel only from the segments, MSS both ways", () => {
    const net = file(files, "router/files/usr/local/sbin/relay6-router-net");
    // The ip6tables-restore input: one transaction per table.
    const rules = net.split("\n").filter((l) => l.startsWith("-A "));
    expect(rules).toContain("-A RELAY6-IN -i wg0 -s 2401:4520:110b::1 -p tcp --dport 179 -j ACCEPT");
    expect(rules).toContain("-A RELAY6-IN -i wg0 -s 2401:4520:110b::1 -p udp -m multiport --dports 3784,3785 -j ACCEPT");
    expect(rules[rules.findIndex((l) => l.includes("RELAY6-IN")) + 0]).toContain("ESTABLISHED,RELATED");
    expect(rules.filter((l) => l.startsWith("-A RELAY6-IN")).at(-1)).toBe("-A RELAY6-IN -i wg0 -j DROP");
    expect(rules.filter((l) => l.startsWith("-A RELAY6-FWD")).at(-1)).toBe("-A RELAY6-FWD -i wg0 -j DROP");
    expect(rules.filter((l) => l.startsWith("-A RELAY6-FWD"))[0]).toBe("-A RELAY6-FWD -o wg0 -j RELAY6-SRC");
    expect(rules.filter((l) => l.startsWith("-A RELAY6-SRC"))).toEqual([...plan.segments.map((s) => `-A RELAY6-SRC -s ${s.prefix} -j RETURN`), "-A RELAY6-SRC -j REJECT --reject-with icmp6-policy-fail"]);
    expect(rules.filter((l) => l.includes("RELAY6-MSS") && l.includes("--set-mss 1360")).length).toBe(2);
    expect(net).toMatch(/^ip6tables-restore --noflush <<RULES\n\*filter\n:RELAY6-IN - \[0:0\]\n:RELAY6-FWD - \[0:0\]\n:RELAY6-SRC - \[0:0\]\n/m);
    for (const s of plan.segments) expect(net).toContain(`"${s.router.cidr} dev ${s.interface}"`);
  });

  it("no gateway check in bgp-bfd mode; FRR files present", () => {
    expect(files.some((f) => f.path.includes("relay6-gw-check"))).toBe(false);
    expect(file(files, "router/files/etc/relay6/frr-daemons")).toMatch(/^bfdd=yes$/m);
  });
});

describe("linux target: static failover, DNS-name endpoint, named WAN, RDNSS list", () => {
  const { plan, files } = render("static-linux.yaml");

  it("wgvps.conf: default route via the VPS's transit address in PostUp, name:port endpoint", () => {
    const wg = parseWg(file(files, "router/files/etc/wireguard/wgvps.conf"));
    const iface = wg.find((s) => s.section === "Interface")!;
    expect(values(iface, "Address")).toEqual([plan.transit.router.cidr]);
    expect(values(iface, "PostUp")).toContain(`ip -6 route replace default via ${plan.transit.vps.address} dev %i metric 1024`);
    expect(values(wg.find((s) => s.section === "Peer")!, "Endpoint")).toEqual(["vps.cabin.example:51820"]);
    expect(files.some((f) => f.path.includes("frr"))).toBe(false);
  });

  it("relay6-gw-check pings the VPS's transit address every second, 3 misses in a row (the plan's probe)", () => {
    const g = file(files, "router/files/usr/local/sbin/relay6-gw-check");
    expect(plan.failover.mode === "static" && plan.failover.probe).toMatchObject({ intervalMs: 1000, misses: 3, detectMs: 3000 });
    expect(g).toContain(`GW=${plan.transit.vps.address}`);
    expect(g).toContain("DEV=wgvps");
    expect(g).toContain("INTERVAL=${RELAY6_CHECK_INTERVAL:-1}");
    expect(g).toContain("MISSES=${RELAY6_CHECK_MISSES:-3}");
    // One ping a second, each unanswered probe reported before the next (-O).
    expect(g).toMatch(/ping -6 -n -O -i "\$INTERVAL" -W "\$INTERVAL" -I "\$DEV" "\$GW"/);
    expect(file(files, "router/files/etc/systemd/system/relay6-gw-check.service")).toContain("ExecStart=/usr/local/sbin/relay6-gw-check");
  });

  it("radvd: ULA only where the segment keeps it; RDNSS from the list; the ULA /48's RIO where there is a ULA", () => {
    const text = file(files, "router/files/etc/radvd.conf");
    const r = parseRadvd(text);
    expect(r.get("br0")!.prefixes).toEqual(["2001:db8:77:1::/64", "fd12:3456:789a:1::/64"]);
    expect(r.get("br0.20")!.prefixes).toEqual(["2001:db8:77:2::/64"]);
    expect(r.get("br0")!.rdnss).toEqual(["2001:db8:77:1::53"]);
    const blocks = [...text.matchAll(/interface\s+(\S+)\s*\{([\s\S]*?)\n\};/g)].map((m) => [m[1], m[2]] as const);
    expect(blocks.map(([i, b]) => [i, [...b!.matchAll(/route (\S+) \{/g)].map((x) => x[1])])).toEqual([
      ["br0", ["fd12:3456:789a::/48"]],
      ["br0.20", []],
    ]);
  });

  it("the RA drain follows the static route via the VPS's transit address", () => {
    expect(file(files, "router/files/usr/local/sbin/relay6-ra-drain")).toContain(`own_default() { [ -n "$(ip -6 route show default via ${plan.transit.vps.address} dev wgvps 2>/dev/null)" ]; }`);
  });

  it("sysctl: accept_ra = 2 on the WAN, dots in the name written as /", () => {
    expect(file(files, "router/files/etc/sysctl.d/99-relay6.conf")).toMatch(/^net\.ipv6\.conf\.eth0\/100\.accept_ra = 2$/m);
  });

  it("firewall: the inbound service is the only new flow allowed in", () => {
    const net = file(files, "router/files/usr/local/sbin/relay6-router-net");
    const accepts = net.split("\n").filter((l) => l.startsWith("-A RELAY6-FWD") && l.includes("ACCEPT") && !l.includes("ctstate") && !l.includes("ipv6-icmp"));
    expect(accepts).toEqual(['-A RELAY6-FWD -i wgvps -o br0 -d 2001:db8:77:1::80/128 -p tcp --dport 443 -m comment --comment "inbound lan/web" -j ACCEPT']);
    expect(net).not.toContain("--dport 179");
  });
});

describe("linux target: keys made on the devices", () => {
  it("without the VPS's public key: step 1 only, a setup.sh that makes and prints the router's key", () => {
    const { plan } = renderFile(join(SITES, "recipe-linux.yaml"));
    const device = { ...plan, wireguard: { ...plan.wireguard, keys: "device" as const } };
    const files = linuxTarget.render(device, { secrets: {}, version: "test" });
    expect(files.map((f) => f.path)).toEqual(["router/setup.sh"]);
    expect(files[0]!.content).toContain("(umask 077; wg genkey > /etc/wireguard/wg0.key)");
    expect(files[0]!.content).toContain("step 1 done");
    expect(linuxTarget.check(device).map((d) => d.code)).toContain("linux-keys-step1");
    expect(() => execFileSync("bash", ["-n"], { input: files[0]!.content })).not.toThrow();
  });

  it("with both public keys: the full set, no private key file, the VPS's key as peer", () => {
    const { plan } = renderFile(join(SITES, "recipe-linux.yaml"));
    const vpsKey = publicKeyOf(TEST_SECRETS.vpsPrivateKey);
    const device = { ...plan, wireguard: { ...plan.wireguard, keys: "device" as const }, vps: { ...plan.vps, publicKey: vpsKey } };
    const files = linuxTarget.render(device, { secrets: {}, version: "test" });
    expect(files.some((f) => f.path.includes("secrets"))).toBe(false);
    expect(file(files, "router/files/etc/wireguard/wg0.conf")).toContain(`PublicKey = ${vpsKey}`);
    expect(file(files, "router/setup.sh")).toContain("making this router's WireGuard key");
  });
});

describe("linux target: the real tools accept the files", () => {
  const dir = mkdtempSync(join(tmpdir(), "relay6-linux-"));
  const all = [...render("recipe-linux.yaml").files, ...render("static-linux.yaml").files.map((f) => ({ ...f, path: `static/${f.path}` }))];
  for (const f of all) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }

  it("bash -n on every script", () => {
    const scripts = all.filter((f) => f.content.startsWith("#!/bin/bash"));
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const s of scripts) expect(() => execFileSync("bash", ["-n", join(dir, s.path)]), s.path).not.toThrow();
  });

  it.skipIf(!has("radvd"))("radvd --configtest", () => {
    for (const p of ["router/files/etc/radvd.conf", "static/router/files/etc/radvd.conf"]) {
      const r = spawnSync("radvd", ["--configtest", "-C", join(dir, p), "-m", "stderr"], { encoding: "utf8" });
      expect(r.status, `${p}: ${r.stderr}`).toBe(0);
    }
  });

  it.skipIf(!existsSync("/usr/lib/frr/bgpd") || process.getuid?.() !== 0)("bgpd and bfdd --dryrun accept frr.conf", () => {
    // FRR drops to user frr before reading its config: a copy it can read.
    const conf = join(mkdtempSync(join(tmpdir(), "relay6-frr-")), "frr.conf");
    writeFileSync(conf, file(render("recipe-linux.yaml").files, "router/files/etc/frr/frr.conf"), { mode: 0o644 });
    chmodSync(dirname(conf), 0o755);
    const lines = readFileSync(conf, "utf8").split("\n");
    const blockOf = (start: (l: string) => boolean): Set<number> => {
      const first = lines.findIndex(start);
      const set = new Set<number>();
      for (let i = first; i >= 0 && i < lines.length && !(i > first && lines[i] === "!"); i++) set.add(i + 1);
      return set;
    };
    const own: Record<string, Set<number>> = {
      bgpd: new Set([...blockOf((l) => l.startsWith("router bgp")), ...lines.flatMap((l, i) => (l.startsWith("ipv6 prefix-list") ? [i + 1] : []))]),
      bfdd: blockOf((l) => l === "bfd"),
    };
    for (const d of ["bgpd", "bfdd"]) {
      expect(own[d]!.size, d).toBeGreaterThan(3);
      const r = spawnSync(`/usr/lib/frr/${d}`, ["-C", "-f", conf, "--log", "stdout"], { encoding: "utf8", timeout: 20_000 });
      const out = `${r.stdout}${r.stderr}`;
      // Each daemon reports the other's commands as unknown; its own must all parse.
      const bad = [...out.matchAll(/config line (\d+)/g)].map((m) => Number(m[1])).filter((n) => own[d]!.has(n));
      expect(bad, `${d}: ${out}`).toEqual([]);
      expect(r.status, `${d}: ${out}`).toBe(0);
    }
  });
});

describe.skipIf(!has("radvd"))("linux target: relay6-ra-drain render, run for real (a stand-in `ip` on PATH)", () => {
  const { files } = render("recipe-linux.yaml");
  const dir = mkdtempSync(join(tmpdir(), "relay6-drain-"));
  const drain = join(dir, "relay6-ra-drain");
  const conf = join(dir, "radvd.conf");
  const runtime = join(dir, "run", "radvd.conf");
  writeFileSync(drain, file(files, "router/files/usr/local/sbin/relay6-ra-drain"), { mode: 0o755 });
  writeFileSync(conf, file(files, "router/files/etc/radvd.conf"));
  // `ip -6 route show default FILTERS...`: prints $ROUTE when every filter word is in it,
  // as the kernel's filtering would.
  mkdirSync(join(dir, "bin"));
  writeFileSync(
    join(dir, "bin", "ip"),
    '#!/bin/bash\nshift 4\nfor w in "$@"; do case " $ROUTE " in *" $w "*) ;; *) exit 0 ;; esac; done\n[ -n "$ROUTE" ] && echo "$ROUTE"\nexit 0\n',
    { mode: 0o755 },
  );
  const run = (route: string, confFile = conf) =>
    spawnSync("bash", [drain, "render"], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, ROUTE: route, RELAY6_RADVD_CONF: confFile, RELAY6_RADVD_RUNTIME: runtime, RELAY6_RADVD_PIDFILE: join(dir, "none.pid") },
    });
  const rendered = readFileSync(conf, "utf8");
  const bgp = "default nhid 20 via fe80::1 dev wg0 proto bgp metric 20 pref medium";

  it("relay6's ::/0 there: radvd runs the rendered file as it is", () => {
    expect(run(bgp).status).toBe(0);
    expect(readFileSync(runtime, "utf8")).toBe(rendered);
  });

  it("relay6's ::/0 gone: every router lifetime 0, nothing else changed", () => {
    expect(run("").status).toBe(0);
    const drained = readFileSync(runtime, "utf8");
    expect(drained.match(/^\s*AdvDefaultLifetime 0;$/gm)).toHaveLength(3);
    expect(drained).not.toMatch(/AdvDefaultLifetime [1-9]/);
    expect(drained.replace(/AdvDefaultLifetime 0;/g, "AdvDefaultLifetime 300;")).toBe(rendered);
  });

  it("not any ::/0: a native default (not BGP through the tunnel) does not count", () => {
    expect(run(bgp).status).toBe(0);
    expect(run("default via fe80::99 dev eth0 proto ra metric 1024").status).toBe(0);
    expect(readFileSync(runtime, "utf8")).toMatch(/AdvDefaultLifetime 0;/);
  });

  it("a file radvd -c refuses never replaces the running one", () => {
    expect(run(bgp).status).toBe(0);
    const bad = join(dir, "bad.conf");
    writeFileSync(bad, rendered.replace("AdvSendAdvert on;", "AdvSendAdvert maybe;"));
    const r = run("", bad);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain("radvd -c refuses");
    expect(readFileSync(runtime, "utf8")).toBe(rendered);
  });
});

describe("linux verify: the RA drain is judged against the route", () => {
  const { plan } = render("recipe-linux.yaml");
  const bgp = "default nhid 20 via fe80::1 dev wg0 proto bgp metric 20 pref medium";
  const finding = (def: string, drain: string) =>
    checkLinuxRouter(plan, parseSections(`=== relay6:default\n${def}\nrc=0\n=== relay6:ra-drain\n${drain}\nrc=0\n`), undefined).find((x) => x.check === "router.ra-drain")!;
  const conf = (n: number) => `watcher=running\nconf=/run/relay6/radvd.conf\n  AdvDefaultLifetime ${n};\n  AdvDefaultLifetime ${n};\n  AdvDefaultLifetime ${n};`;

  it("route there and lifetime as rendered, or route gone and lifetime 0: pass", () => {
    expect(finding(bgp, conf(300))).toMatchObject({ status: "pass" });
    expect(finding("", conf(0))).toMatchObject({ status: "pass", detail: expect.stringMatching(/drained/) });
  });

  it("route gone but still advertised as default router, or route there and drained, or no watcher: fail", () => {
    expect(finding("", conf(300))).toMatchObject({ status: "fail", fault: "ra-drain" });
    expect(finding(bgp, conf(0))).toMatchObject({ status: "fail", fault: "ra-drain" });
    expect(finding(bgp, conf(300).replace("watcher=running", "watcher="))).toMatchObject({ status: "fail", detail: expect.stringMatching(/not running/) });
    // Not any ::/0: a native default is not relay6's.
    expect(finding("default via fe80::99 dev eth0 proto ra metric 1024", conf(300))).toMatchObject({ status: "fail" });
  });
});
