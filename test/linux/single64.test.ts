// The Linux router for the single-/64 kinds: BGP to fe80::1 with its interface (FRR's
// numbered link-local form, not the unnumbered one), a deprecated ULA transit, the
// VPS's own address of a routed /64 answered for on the LAN and routed into the tunnel,
// and an old /64 advertised deprecated (radvd) with the router's own old address gone.
// Checked by the real tools where present (radvd --configtest, bgpd --dryrun).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Artifact } from "../../src/render/types.js";
import { linuxTarget } from "../../src/targets/linux/index.js";
import { checkLinuxRouter, linuxRouterScript } from "../../src/targets/linux/verify.js";
import { REPO, renderFile, TEST_SECRETS } from "../helpers.js";

function render(name: string) {
  const { plan } = renderFile(join(REPO, "test/golden/sites", `${name}.yaml`));
  return { plan, files: linuxTarget.render(plan, { secrets: TEST_SECRETS, version: "test" }) };
}
const file = (files: Artifact[], path: string) => {
  const f = files.find((a) => a.path === path);
  if (!f) throw new Error(`no artifact ${path}`);
  return f.content;
};
const hetzner = render("hetzner-routed64");
const moved = render("moved-ula");

describe("link-local transit: BGP + BFD to fe80::1 on wg0", () => {
  const frr = file(hetzner.files, "router/files/etc/frr/frr.conf");

  it("FRR names the peer with its interface, no update-source; wg0 holds fe80::2/64", () => {
    expect(frr).toContain(" neighbor fe80::1 remote-as 65002\n");
    expect(frr).toContain(" neighbor fe80::1 interface wg0\n");
    expect(frr).not.toContain("update-source");
    expect(frr).not.toMatch(/neighbor wg0 interface/); // the unnumbered form stays Idle against bird
    expect(file(hetzner.files, "router/files/etc/wireguard/wg0.conf")).toMatch(/^Address = fe80::2\/64$/m);
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync("sh", ["-c", "test -x /usr/lib/frr/bgpd"]).status !== 0)("bgpd --dryrun accepts the link-local neighbour", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay6-frr-"));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "frr.conf"), frr, { mode: 0o644 });
    const r = spawnSync("/usr/lib/frr/bgpd", ["-C", "-f", join(dir, "frr.conf"), "--log", "stdout"], { encoding: "utf8", timeout: 20_000 });
    const out = `${r.stdout}${r.stderr}`;
    const lines = frr.split("\n");
    const bgpLines = new Set(lines.flatMap((l, i) => (/^ (neighbor|bgp|no bgp|address-family)|^router bgp/.test(l) ? [i + 1] : [])));
    const bad = [...out.matchAll(/config line (\d+)/g)].map((m) => Number(m[1])).filter((n) => bgpLines.has(n));
    expect(bad, out).toEqual([]);
    expect(r.status, out).toBe(0);
  });

  it("the firewall accepts BGP and BFD from fe80::1; smoke test, verify and the gateway check ping fe80::1%wg0 from fe80::2%wg0", () => {
    const net = file(hetzner.files, "router/files/usr/local/sbin/relay6-router-net");
    expect(net).toContain("-A RELAY6-IN -i wg0 -s fe80::1 -p tcp --dport 179 -j ACCEPT");
    // From the router's own transit address: wg0 may hold another link-local (a tun device
    // gets a random one), and the VPS's WireGuard drops a source outside fe80::2/128. The
    // lab's static /64 site lost its ::/0 that way (relay6-gw-check pinged from the other).
    expect(file(hetzner.files, "router/smoke-test.sh")).toContain("ping -6 -c 2 -W 2 -I fe80::2%wg0 fe80::1%wg0");
    expect(linuxRouterScript(hetzner.plan)).toContain("ping -6 -c 2 -i 0.2 -W 1 -I fe80::2%wg0 fe80::1%wg0");
    const { plan: staticLl } = renderFile(join(REPO, "lab/sites/routed64.yaml"));
    const gw = file(linuxTarget.render(staticLl, { secrets: TEST_SECRETS, version: "test" }), "router/files/usr/local/sbin/relay6-gw-check");
    expect(gw).toMatch(/^PING="-I fe80::2%wg0 fe80::1%wg0"$[\s\S]*ping -6 -n -O [^\n]*\$PING 2>&1\)/m);
    // A ULA transit: from the router's ULA (deprecated, so never picked by itself).
    const t = moved.plan.transit;
    expect(linuxRouterScript(moved.plan)).toContain(`ping -6 -c 2 -i 0.2 -W 1 -I ${t.router.address} ${t.vps.address} ;`);
    expect(file(moved.files, "router/files/usr/local/sbin/relay6-gw-check")).toContain(`PING="-I ${t.router.address} ${t.vps.address}"`);
  });
});

describe("routed /64: the VPS's own address from the LAN", () => {
  it("answered for on the LAN (proxy entry, proxy_ndp with no delay) and routed into the tunnel", () => {
    const net = file(hetzner.files, "router/files/usr/local/sbin/relay6-router-net");
    expect(net).toContain("ip -6 neigh replace proxy 2001:db8:4f8:10::2 dev br0");
    const sysctl = file(hetzner.files, "router/files/etc/sysctl.d/99-relay6.conf");
    expect(sysctl).toMatch(/^net\.ipv6\.conf\.all\.proxy_ndp = 1$/m);
    expect(sysctl).toMatch(/^net\.ipv6\.conf\.br0\.proxy_ndp = 1$/m);
    expect(sysctl).toMatch(/^net\.ipv6\.neigh\.br0\.proxy_delay = 0$/m);
    expect(file(hetzner.files, "router/files/etc/wireguard/wg0.conf")).toContain("PostUp = ip -6 route replace 2001:db8:4f8:10::2/128 dev %i");
    // An on-link site's VPS address is in another /64: nothing of this.
    expect(file(moved.files, "router/files/usr/local/sbin/relay6-router-net")).not.toContain("proxy");
  });

  it("verify reads the proxy entry and the route back: router.vps-address, vps-address-unreachable when either is gone", () => {
    const script = linuxRouterScript(hetzner.plan);
    expect(script).toContain("ip -6 neigh show proxy 2001:db8:4f8:10::2");
    expect(script).toContain("ip -6 route get 2001:db8:4f8:10::2");
    expect(linuxRouterScript(moved.plan)).not.toContain("neigh show proxy");
    // What iproute2 prints for each state (the lab test reads the live ones).
    const judge = (proxy: string, route: string) =>
      checkLinuxRouter(hetzner.plan, new Map([["vps-proxy", `${proxy}\nrc=0`], ["vps-route", `${route}\nrc=0`]]), undefined).find((f) => f.check === "router.vps-address");
    const proxied = "2001:db8:4f8:10::2 dev br0 proxy";
    const routed = "2001:db8:4f8:10::2 from :: dev wg0 proto static src 2001:db8:4f8:10::1 metric 1024 pref medium";
    expect(judge(proxied, routed)).toMatchObject({ status: "pass" });
    expect(judge("", routed)).toMatchObject({ status: "fail", fault: "vps-address-unreachable" });
    expect(judge("2001:db8:4f8:10::2 dev lan9 proxy", routed)).toMatchObject({ status: "fail", fault: "vps-address-unreachable" });
    expect(judge(proxied, "2001:db8:4f8:10::2 from :: dev br0 proto kernel metric 256 pref medium")).toMatchObject({ status: "fail", fault: "vps-address-unreachable" });
    expect(checkLinuxRouter(moved.plan, new Map(), undefined).find((f) => f.check === "router.vps-address")).toBeUndefined();
  });
});

describe("ULA transit and previousPrefix", () => {
  it("the router's ULA on wg0 is deprecated at once: its own traffic leaves from the LAN global", () => {
    const wg = file(moved.files, "router/files/etc/wireguard/wg0.conf");
    expect(wg).toMatch(/^Address = fd42:77:2:ffff::2\/64$/m);
    expect(wg).toContain("PostUp = ip -6 addr change fd42:77:2:ffff::2/64 dev %i preferred_lft 0");
    expect(wg.indexOf("preferred_lft 0")).toBeLessThan(wg.indexOf("PostUp = ip -6 route replace default"));
  });

  it("radvd advertises the old /64 with preferred 0, valid 7200, autonomous; radvd --configtest accepts it", () => {
    const radvd = file(moved.files, "router/files/etc/radvd.conf");
    expect(radvd).toMatch(/prefix 2001:db8:99:1::\/64 \{\n\s+AdvOnLink on;\n\s+AdvAutonomous on;\n\s+AdvPreferredLifetime 0;\n\s+AdvValidLifetime 7200;\n\s+\};/);
    const dir = mkdtempSync(join(tmpdir(), "relay6-radvd-"));
    writeFileSync(join(dir, "radvd.conf"), radvd);
    const r = spawnSync("radvd", ["--configtest", "-C", join(dir, "radvd.conf"), "-m", "stderr"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  it("the router's own address in the old /64 goes; without previousPrefix nothing of it is rendered", () => {
    expect(file(moved.files, "router/files/usr/local/sbin/relay6-router-net")).toContain("ip -6 addr del 2001:db8:99:1::1/64 dev br0 2>/dev/null || true");
    expect(file(hetzner.files, "router/files/etc/radvd.conf")).not.toContain("AdvPreferredLifetime");
  });
});
