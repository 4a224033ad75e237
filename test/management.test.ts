// router.management.fromVps on a Linux router, for real (root, two namespaces): the
// router's rendered RELAY6-IN rules loaded into ip6tables, an SSH port listening on its
// transit address, and connections through its tunnel interface from the VPS's transit
// address (accepted) and from another address of the tunnel (dropped); without the
// opt-in, the VPS's address is dropped too.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderFirewall, type FirewallRules } from "../src/targets/linux/firewall.js";
import { buildPlan, parseSite } from "../src/pipeline.js";
import { REPO, tmp } from "./helpers.js";

const root = process.getuid?.() === 0;
const RTR = `r6t-mg-r-${process.pid}`;
const VPS = `r6t-mg-v-${process.pid}`;
const work = tmp("relay6-mgmt-");

function plan(management?: Record<string, unknown>) {
  const doc = parse(readFileSync(join(REPO, "lab/sites/lab.yaml"), "utf8")) as Record<string, Record<string, unknown>>;
  return buildPlan(parseSite(stringify({ ...doc, router: { ...doc.router, ...(management ? { management } : {}) } }), "lab.yaml").site);
}

const inNs = (ns: string, ...cmd: string[]) => spawnSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8" });

/** TCP connect from `src` to the router's transit address, port `port`: "open" or "dropped". */
function connect(src: string, dst: string, port: number): string {
  const py = `import socket\ns = socket.socket(socket.AF_INET6)\ns.bind(("${src}", 0))\ns.settimeout(1.5)\ntry:\n    s.connect(("${dst}", ${port})); print("open")\nexcept socket.timeout:\n    print("dropped")\nexcept OSError as e:\n    print("error", e)\n`;
  return inNs(VPS, "python3", "-c", py).stdout.trim();
}

describe.skipIf(!root)("router.management.fromVps on a Linux router (namespaces, ip6tables)", () => {
  let listener: ChildProcess | undefined;
  const p = plan({ fromVps: true });
  const wg = p.router.tunnelInterface;
  const other = "2001:db8:4600::99"; // another address of the transit /64 on the VPS's side

  beforeAll(() => {
    execFileSync("ip", ["netns", "add", RTR]);
    execFileSync("ip", ["netns", "add", VPS]);
    // A veth pair stands in for the tunnel: the router's end has the tunnel's name.
    execFileSync("ip", ["link", "add", wg, "netns", RTR, "type", "veth", "peer", "name", "wg0", "netns", VPS]);
    for (const [ns, dev, addrs] of [[RTR, wg, [p.transit.router.cidr]], [VPS, "wg0", [p.transit.vps.cidr, `${other}/64`]]] as const) {
      for (const a of addrs) execFileSync("ip", ["-n", ns, "addr", "add", a, "dev", dev, "nodad"]);
      execFileSync("ip", ["-n", ns, "link", "set", dev, "up"]);
      execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    listener = spawn("ip", ["netns", "exec", RTR, "python3", "-c", `import socket\ns = socket.socket(socket.AF_INET6)\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("${p.transit.router.address}", 22))\ns.listen(16)\nwhile True:\n    c, _ = s.accept(); c.close()\n`], { stdio: "ignore" });
  });

  afterAll(() => {
    listener?.kill("SIGKILL");
    for (const ns of [RTR, VPS]) {
      spawnSync("bash", ["-c", `ip netns pids ${ns} | xargs -r kill -9`]);
      spawnSync("ip", ["netns", "del", ns]);
    }
    rmSync(work, { recursive: true, force: true });
  });

  /** The rendered RELAY6-IN rules of a plan, loaded as relay6-router-net loads them. */
  function load(rules: FirewallRules): void {
    const script = join(work, "fw.sh");
    writeFileSync(script, ["set -e", "ip6tables -N RELAY6-IN 2>/dev/null || ip6tables -F RELAY6-IN", "ip6tables -C INPUT -j RELAY6-IN 2>/dev/null || ip6tables -I INPUT -j RELAY6-IN", ...rules.filter.filter((l) => l.startsWith("-A RELAY6-IN ")).map((l) => `ip6tables ${l}`)].join("\n"));
    const r = inNs(RTR, "bash", script);
    expect(r.status, r.stderr).toBe(0);
  }

  it("SSH through the tunnel from the VPS's transit address only", async () => {
    expect(p.router.management).toEqual({ port: 22, service: "SSH", from: p.transit.vps.address });
    load(renderFirewall(p));
    for (let i = 0; i < 50 && connect(p.transit.vps.address, p.transit.router.address, 22) !== "open"; i++) await new Promise((r) => setTimeout(r, 100));
    expect(connect(p.transit.vps.address, p.transit.router.address, 22)).toBe("open");
    expect(connect(other, p.transit.router.address, 22)).toBe("dropped");
  }, 30_000);

  it("without the opt-in, the VPS's address is dropped too", () => {
    load(renderFirewall(plan()));
    expect(connect(p.transit.vps.address, p.transit.router.address, 22)).toBe("dropped");
  }, 30_000);

  it("a chosen port", () => {
    expect(renderFirewall(plan({ fromVps: true, port: 2222 })).filter).toContain(`-A RELAY6-IN -i ${wg} -s ${p.transit.vps.address} -p tcp --dport 2222 -m comment --comment "relay6 management from the VPS" -j ACCEPT`);
  });
});
