// What the rendered files mean, read back (not compared with goldens): the VPS keeps its
// own default route with accept_ra = 2 while it forwards; its wg-quick hook clamps TCP MSS
// in both directions and takes the clamp away again, and drops ICMPv6 toward the internet
// from sources not the site's; RouterOS accepts BGP and BFD only
// from the VPS's transit address, only on the tunnel. Each fails when that line is changed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { routerosTarget } from "../src/targets/routeros/index.js";
import { REPO, renderFile, renderInputFile, TEST_SECRETS, tmp } from "./helpers.js";
import { allCommands, parse, type Command } from "./routeros/rsc.js";

const SITES = ["recipe-bgp", "recipe-static", "slash56", "minimal"].map((n) => join(REPO, "test/golden/sites", `${n}.yaml`));
const artifact = (arts: { path: string; content: string }[], p: string) => arts.find((a) => a.path === p)?.content;

/** sysctl.d syntax: `key = value` lines. */
function sysctl(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split("\n")) {
    const kv = /^\s*([^#;\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(l);
    if (kv) m.set(kv[1]!, kv[2]!);
  }
  return m;
}

describe("VPS sysctl: forwarding, and accept_ra = 2 on the NIC", () => {
  it.each(SITES)("%s", (site) => {
    const { plan, artifacts } = renderFile(site);
    const s = sysctl(artifact(artifacts, "vps/files/etc/sysctl.d/99-relay6.conf")!);
    expect(s.get("net.ipv6.conf.all.forwarding")).toBe("1");
    // With forwarding on, the kernel ignores RAs unless accept_ra is 2: the VPS would lose
    // the default route the provider's RA gives it.
    expect(s.get(`net.ipv6.conf.${plan.vps.nic}.accept_ra`)).toBe("2");
  });
  it("a NIC with a dot (eth0.100) is written eth0/100, as sysctl reads it", () => {
    const dir = tmp();
    const site = join(dir, "s.yaml");
    writeFileSync(site, readFileSync(SITES[0]!, "utf8").replace(/nic: \S+/, "nic: eth0.100"));
    expect(sysctl(artifact(renderFile(site).artifacts, "vps/files/etc/sysctl.d/99-relay6.conf")!).get("net.ipv6.conf.eth0/100.accept_ra")).toBe("2");
  });
});

describe("the VPS's wg-quick hook clamps TCP MSS both ways, and undoes it", () => {
  /** Runs the hook with ip6tables, wg and ping replaced by recorders; returns the ip6tables calls. */
  function runHook(hook: string, action: "up" | "down" | "guard", wg0Exists = false): string[] {
    const dir = tmp();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // ip6tables -C (check) answers "no such rule", so -A runs; everything is logged.
    writeFileSync(join(bin, "ip6tables"), `#!/bin/sh\necho "$*" >> ${dir}/calls\ncase " $* " in *" -C "*) exit 1;; esac\nexit 0\n`, { mode: 0o755 });
    for (const t of ["wg", "ping"]) writeFileSync(join(bin, t), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    // `ip link show wg0`: there (exit 0) or not.
    writeFileSync(join(bin, "ip"), `#!/bin/sh\nexit ${wg0Exists ? 0 : 1}\n`, { mode: 0o755 });
    writeFileSync(join(dir, "calls"), "");
    // The hook keeps the router's endpoint in /etc/wireguard: here, in the temp dir.
    const text = hook.replace(/^saved=.*$/m, `saved=${dir}/endpoints`);
    writeFileSync(join(dir, "hook.sh"), text, { mode: 0o755 });
    execFileSync("bash", [join(dir, "hook.sh"), action, "wg0"], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    return readFileSync(join(dir, "calls"), "utf8").split("\n").filter(Boolean);
  }

  it.each(SITES)("%s: up adds the clamp on -i and -o wg0 at the plan's MSS; down deletes both", (site) => {
    const { plan, artifacts } = renderFile(site);
    const hook = artifact(artifacts, "vps/files/etc/wireguard/relay6-hook.sh")!;
    const rule = (dir: "-i" | "-o") => `FORWARD ${dir} wg0 -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss ${plan.wireguard.mss}`;
    const mss = (calls: string[]) => calls.filter((c) => c.includes("TCPMSS") && !c.includes(" -C "));
    const up = mss(runHook(hook, "up"));
    expect(up.sort()).toEqual([`-t mangle -A ${rule("-i")}`, `-t mangle -A ${rule("-o")}`]);
    expect(plan.wireguard.mss).toBe(plan.wireguard.mtu - 60);
    const down = mss(runHook(hook, "down"));
    expect(down.sort()).toEqual([`-t mangle -D ${rule("-i")}`, `-t mangle -D ${rule("-o")}`]);
  });

  it("firewall.clampMss: false adds no clamp", () => {
    const dir = tmp();
    const site = join(dir, "s.yaml");
    writeFileSync(site, readFileSync(SITES[0]!, "utf8") + stringify({ firewall: { clampMss: false } }));
    expect(runHook(artifact(renderFile(site).artifacts, "vps/files/etc/wireguard/relay6-hook.sh")!, "up").filter((c) => c.includes("TCPMSS"))).toEqual([]);
  });

  it.each(SITES)("%s: up drops ICMPv6 from wg0 to the NIC unless its source is the router's or a segment's; down removes it", (site) => {
    const { plan, artifacts } = renderFile(site);
    const hook = artifact(artifacts, "vps/files/etc/wireguard/relay6-hook.sh")!;
    const guard = (calls: string[]) => calls.filter((c) => c.includes("RELAY6-SRC") && !c.includes(" -C "));
    const hooked = `FORWARD -i wg0 -o ${plan.vps.nic} -p ipv6-icmp -j RELAY6-SRC`;
    expect(guard(runHook(hook, "up"))).toEqual([
      "-t mangle -N RELAY6-SRC",
      `-t mangle -A RELAY6-SRC -s ${plan.transit.router.address}/128 -j RETURN`,
      ...plan.segments.map((x) => `-t mangle -A RELAY6-SRC -s ${x.prefix} -j RETURN`),
      "-t mangle -A RELAY6-SRC -j DROP",
      `-t mangle -A ${hooked}`,
    ]);
    expect(guard(runHook(hook, "down"))).toEqual([`-t mangle -D ${hooked}`, "-t mangle -F RELAY6-SRC", "-t mangle -X RELAY6-SRC"]);
  });

  it("a relay: the guard holds every site's router /128 and segments; `guard` refills it (after a live sync), only while wg0 exists", () => {
    const { relay, artifacts } = renderInputFile(join(REPO, "test/golden/sites/sg1.yaml"));
    const hook = artifact(artifacts, "vps/files/etc/wireguard/relay6-hook.sh")!;
    const guard = (calls: string[]) => calls.filter((c) => c.includes("RELAY6-SRC") && !c.includes(" -C "));
    const sources = relay.sites.flatMap((p) => [`${p.transit.router.address}/128`, ...p.segments.map((x) => x.prefix)]);
    const filled = [
      "-t mangle -N RELAY6-SRC",
      ...sources.map((src) => `-t mangle -A RELAY6-SRC -s ${src} -j RETURN`),
      "-t mangle -A RELAY6-SRC -j DROP",
      `-t mangle -A FORWARD -i wg0 -o ${relay.vps.nic} -p ipv6-icmp -j RELAY6-SRC`,
    ];
    expect(guard(runHook(hook, "up"))).toEqual(filled);
    expect(guard(runHook(hook, "guard", true))).toEqual(filled);
    expect(guard(runHook(hook, "guard", false))).toEqual([]);
    // setup.sh refills it after every live wg syncconf.
    const setup = artifact(artifacts, "vps/setup.sh")!;
    const sync = setup.slice(setup.indexOf("wg_live_sync() {"), setup.indexOf("\n}\n", setup.indexOf("wg_live_sync() {")));
    expect(sync).toContain("run /etc/wireguard/relay6-hook.sh guard wg0");
  });
});

describe("RouterOS accepts BGP and BFD only from the VPS, only on the tunnel", () => {
  const arg = (c: Command, name: string) => {
    const v = c.args.find((a) => a.name === name)?.value;
    return v && (v.kind === "word" || v.kind === "str") ? v.text : undefined;
  };
  it.each(["7.15", "7.18.2", "7.20.8", "7.22.3", "7.24"])("RouterOS %s", (version) => {
    const { plan: p0 } = renderFile(SITES[0]!);
    const plan = { ...p0, router: { ...p0.router, version } };
    const setup = routerosTarget.render(plan, { secrets: TEST_SECRETS, version: "test" }).find((a) => a.path.endsWith(`relay6-${plan.site}.rsc`))!.content;
    const accepts = allCommands(parse(setup)).filter((c) => c.menu.join("/") === "ipv6/firewall/filter" && c.verb === "add" && arg(c, "chain") === "input" && arg(c, "action") === "accept");
    for (const [proto, port] of [["tcp", "179"], ["udp", "3784"]] as const) {
      // Every accept that lets this port in (a rule without protocol or port lets it in too).
      const letIn = accepts.filter((c) => (arg(c, "protocol") ?? proto) === proto && (arg(c, "dst-port") ?? port).split(",").includes(port));
      expect(letIn.length, `${proto}/${port}`).toBeGreaterThan(0);
      for (const c of letIn) {
        expect(arg(c, "src-address"), `${proto}/${port} from any source`).toBe(plan.transit.vps.address);
        expect(arg(c, "in-interface"), `${proto}/${port} from any interface`).toBe(plan.router.tunnelInterface);
      }
    }
  });
});
