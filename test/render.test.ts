// What the VPS artifacts mean, read back from the rendered text; real tools check syntax.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseIni } from "./ini.js";
import { REPO, renderFile, tmp } from "./helpers.js";
import { shQuote } from "../src/render/quote.js";
import { publicKeyOf } from "../src/keys/wireguard.js";

const SITES = ["recipe-bgp", "recipe-static", "slash56", "minimal"].map((n) => join(REPO, "test/golden/sites", `${n}.yaml`));
const get = (arts: { path: string; content: string }[], p: string) => {
  const a = arts.find((x) => x.path === p);
  if (!a) throw new Error(`no artifact ${p}`);
  return a.content;
};

describe("wg0.conf read back", () => {
  it("the recipe: transit address, link-local for BGP, AllowedIPs = transit /128 + each /64, router's public key", () => {
    const { plan, artifacts } = renderFile(SITES[0]!);
    const conf = parseIni(get(artifacts, "vps/files/etc/wireguard/wg0.conf"));
    const iface = conf.find((s) => s.name === "Interface")!;
    expect(iface.values.Address).toEqual(["2401:4520:110b::1/64", "fe80::1/64"]);
    expect(iface.values.ListenPort).toEqual(["51820"]);
    expect(iface.values.MTU).toEqual(["1420"]);
    expect(iface.values.PrivateKey).toBeUndefined(); // the key stays in its 0600 file
    const peer = conf.find((s) => s.name === "Peer")!;
    const allowed = peer.values.AllowedIPs![0]!.split(/,\s*/);
    expect(allowed).toEqual(["2401:4520:110b::2/128", "2401:4520:110b:1::/64", "2401:4520:110b:10::/64", "2401:4520:110b:11::/64"]);
    expect(allowed).not.toContain(plan.prefix);
    expect(peer.values.PublicKey).toEqual([publicKeyOf("4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=")]);
  });

  it("static failover has no link-local; an IPv6 /56 site keeps every AllowedIP longer than the NIC's /56", () => {
    const stat = parseIni(get(renderFile(SITES[1]!).artifacts, "vps/files/etc/wireguard/wg0.conf"));
    expect(stat.find((s) => s.name === "Interface")!.values.Address).toEqual(["2401:4520:110b::1/64"]);
    const s56 = parseIni(get(renderFile(SITES[2]!).artifacts, "vps/files/etc/wireguard/wg0.conf"));
    const allowed = s56.find((s) => s.name === "Peer")!.values.AllowedIPs![0]!.split(/,\s*/);
    expect(allowed).toEqual(["2001:db8:abcd:1200::2/128", "2001:db8:abcd:1210::/64", "2001:db8:abcd:1220::/64"]);
  });
});

describe("bird.conf read back and checked by bird", () => {
  it("explicit BFD neighbour, bfd on in BGP, fast error wait, only ::/0 exported", () => {
    const { artifacts } = renderFile(SITES[0]!);
    const bird = get(artifacts, "vps/files/etc/bird/bird.conf");
    const bgp = /protocol bgp (\w+) \{([\s\S]*?)\n\}/.exec(bird)!;
    expect(bgp[2]).toMatch(/^\s*bfd on;/m);
    expect(bgp[2]).toMatch(/local 2401:4520:110b::1 as 65002;/);
    expect(bgp[2]).toMatch(/neighbor 2401:4520:110b::2 as 65001;/);
    expect(bgp[2]).toMatch(/error wait time 0, 0;/);
    expect(bgp[2]).toMatch(/export where net = ::\/0;/);
    const bfd = /protocol bfd \w+ \{([\s\S]*?)\n\}/.exec(bird)!;
    expect(bfd[1]).toMatch(/neighbor 2401:4520:110b::2 dev "wg0";/);
    expect(bfd[1]).toMatch(/min rx interval 200 ms;[\s\S]*multiplier 3;/);
    expect(bird).toMatch(/protocol kernel[\s\S]*learn;/);
  });

  it("bird -p accepts every rendered bird.conf", () => {
    for (const site of SITES) {
      const { artifacts } = renderFile(site);
      const a = artifacts.find((x) => x.path === "vps/files/etc/bird/bird.conf");
      if (!a) continue;
      const dir = tmp();
      writeFileSync(join(dir, "bird.conf"), a.content);
      const r = spawnSync("bird", ["-p", "-c", join(dir, "bird.conf")], { encoding: "utf8" });
      expect(r.error, "bird2 must be installed (.ci/run installs it)").toBeUndefined();
      expect(r.status, `${site}: ${r.stderr}`).toBe(0);
    }
  });
});

describe("scripts", () => {
  it("bash -n accepts every rendered script", () => {
    let n = 0;
    for (const site of SITES)
      for (const a of renderFile(site).artifacts.filter((x) => x.path.endsWith(".sh"))) {
        const r = spawnSync("bash", ["-n"], { input: a.content, encoding: "utf8" });
        expect(r.status, `${a.path}: ${r.stderr}`).toBe(0);
        n++;
      }
    expect(n).toBeGreaterThan(8);
  });

  it("the firewall opens BGP and BFD only from the router's transit address, and never forwards new inbound except named services", () => {
    const fw = get(renderFile(SITES[2]!).artifacts, "vps/firewall.sh");
    expect(fw).toContain("rule 'BGP from the router' allow in on wg0 from 2001:db8:abcd:1200::2 to 2001:db8:abcd:1200::1 port 179 proto tcp");
    expect(fw).toContain("rule 'BFD from the router' allow in on wg0 from 2001:db8:abcd:1200::2 to 2001:db8:abcd:1200::1 port 3784 proto udp");
    // Out of the NIC only from the router's transit address and each segment's /64.
    const out = fw.split("\n").filter((l) => /route allow in on wg0 out on ens3/.test(l));
    const plan = renderFile(SITES[2]!).plan;
    expect(out.map((l) => l.split(" from ").at(-1))).toEqual(["2001:db8:abcd:1200::2", ...plan.segments.map((x) => x.prefix)]);
    const intoWg = fw.split("\n").filter((l) => /route allow in on ens3 out on wg0/.test(l));
    expect(intoWg).toEqual([expect.stringContaining("to 2001:db8:abcd:1210::80 port 443 proto tcp")]);
    expect(fw).not.toMatch(/route allow out on wg0/); // the recipe's hole
    // SSH (the ports sshd -T names, this session's) before any default changes or ufw goes active.
    const ssh = fw.indexOf('rule ssh allow "$p/tcp"');
    expect(ssh).toBeGreaterThan(fw.indexOf('"$sshd" -T'));
    expect(ssh).toBeGreaterThan(fw.indexOf("SSH_CONNECTION"));
    expect(ssh).toBeLessThan(fw.indexOf("run ufw default"));
    expect(ssh).toBeLessThan(fw.indexOf("--force enable"));
  });

  it("the setup script changes AllowedIPs live (syncconf + routes), never with wg-quick down", () => {
    const setup = get(renderFile(SITES[0]!).artifacts, "vps/setup.sh");
    expect(setup).toMatch(/wg syncconf wg0/);
    expect(setup).toMatch(/\|\| run ip -6 route replace "\$net" dev wg0/);
    // wg-quick down exists only to undo a failed first `up`; the wg0 step never stops wg0.
    const wgStep = setup.slice(setup.indexOf("step 'wg0'"), setup.indexOf("step 'bird'"));
    expect(wgStep).toMatch(/if \[ "\$wg_changed" = 1 \]; then wg_live_sync\n\s+elif wg_drifted; then/);
    expect(wgStep).not.toMatch(/wg-quick down|wg_stop/);
    expect(setup).toMatch(/if \[ "\$wg_was_up" = 0 \] && ip link show wg0 >\/dev\/null 2>&1; then wg_stop/);
  });

  it("shQuote keeps hostile strings inside one shell word", () => {
    for (const s of [`a'b`, `$(touch /tmp/x)`, "`id`", `a;b`, `"q"`, `$[x]`, "new\nline", `\\`, "", `--x`, `a b`]) {
      const out = execFileSync("bash", ["-c", `printf %s ${shQuote(s)}`], { encoding: "utf8" });
      expect(out).toBe(s);
    }
  });
});

describe("client smoke test", () => {
  it("finds the segment of an address by its /64, whatever its textual form", () => {
    const script = get(renderFile(SITES[0]!).artifacts, "client/smoke-test.sh");
    // Run only the expand6 function and the segment matcher against sample addresses.
    const fn = script.slice(script.indexOf("expand6() {"), script.indexOf("segment=''"));
    const matcher = script.slice(script.indexOf("  case \"${x:0:16}\" in"), script.indexOf("done < <(ip"));
    const probe = (addr: string) =>
      execFileSync("bash", ["-c", `${fn}\nsegment=''\nfor addr in ${addr}; do\n  x=$(expand6 "$addr")\n${matcher}done\necho "$segment"`], { encoding: "utf8" }).trim();
    expect(probe("2401:4520:110b:10:a00:27ff:fe00:1/64")).toBe("guest 2401:4520:110b:10::/64");
    expect(probe("2401:4520:110b:1::1234/64")).toBe("lan 2401:4520:110b:1::/64");
    expect(probe("2401:4520:110b:12::1/64")).toBe("");
  });
});

