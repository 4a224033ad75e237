// Sources, on a namespace relay: a router (wg-quick with its rendered wg0.conf), the VPS
// (its rendered setup.sh, run for real: wg-quick, ufw, bird) and the provider's side of
// the VPS's NIC, where a capture shows what leaves the VPS for the internet.
//
//      router ── IPv4 underlay ── inet ── enp3s0  VPS  wg0
//                               (capture on vps0)
//
// 1. WireGuard on the VPS drops what the router sends from outside the peer's AllowedIPs
//    (a ULA, a spoofed address): it never appears on the VPS's wg0. relay6 does not
//    re-implement this; the test proves it.
// 2. The VPS forwards out of its NIC only from the site's global prefixes: with the ULA
//    put into the live AllowedIPs by hand (a misconfiguration), its UDP and ICMPv6 pass
//    wg0 but never leave the NIC, while the segment's global address does.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifacts } from "../src/io/write.js";
import { renderFile, REPO, tmp } from "./helpers.js";
import { NetnsHost, waitUntil } from "./netns-host.js";

const root = process.getuid?.() === 0;
const id = process.pid;
const vps = new NetnsHost(`r6t-srv-${id}`);
const rtr = new NetnsHost(`r6t-srr-${id}`);
const inet = new NetnsHost(`r6t-sri-${id}`);
const work = tmp("relay6-sources-");
const INTERNET = "2001:db8:ffff::100";
const LAN = "2401:4520:110b:1::1"; // the router's address in segment lan
const ULA = "fd12:3456:789a:1::1"; // the router's ULA in segment lan
const SPOOF = "2001:db8:bad::1";

const SITE = readFileSync(join(REPO, "examples/recipe-home.yaml"), "utf8")
  .replace("prefix: 2401:4520:110b::/48", "prefix: 2401:4520:110b::/48\nula: fd12:3456:789a::/48")
  .replace("platform: routeros               # routeros | linux\n  version: \"7.22\"", "platform: linux");

/** A UDP datagram from SRC (an address of the router) to the internet host. */
const udpFrom = (src: string, port: number) =>
  `python3 -c "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('${src}', 0)); s.sendto(b'relay6', ('${INTERNET}', ${port}))"`;

/** Captures on each (host, dev, filter) while `send` runs; returns tcpdump's reading of each. */
async function capture(where: [NetnsHost, string, string][], send: () => void): Promise<string[]> {
  const runs = where.map(([host, dev, filter], i) => {
    const pcap = join(work, `cap-${Date.now()}-${i}.pcap`);
    const p: ChildProcess = host.spawn(["tcpdump", "-Z", "root", "-i", dev, "-n", "-U", "-w", pcap, filter], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    return { p, pcap, dev, ready: () => err.includes("listening on") };
  });
  for (const r of runs) await waitUntil(r.ready, 10_000, `tcpdump on ${r.dev}`);
  send();
  await new Promise((r) => setTimeout(r, 700));
  return Promise.all(
    runs.map(async (r) => {
      r.p.kill("SIGINT");
      await new Promise((res) => r.p.on("close", res));
      return existsSync(r.pcap) ? execFileSync("tcpdump", ["-r", r.pcap, "-n"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) : "";
    }),
  );
}

describe.skipIf(!root)("sources: WireGuard's AllowedIPs and the VPS's forwarding toward the internet", () => {
  let routerKey = "";
  beforeAll(async () => {
    for (const h of [vps, rtr, inet]) {
      h.create();
      h.sh("sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    }
    const veth = (a: NetnsHost, aIf: string, b: NetnsHost, bIf: string) => execFileSync("ip", ["link", "add", `t${id}${aIf}`, "netns", a.ns, "type", "veth", "peer", "name", `u${id}${bIf}`, "netns", b.ns]);
    veth(inet, "v", vps, "e");
    veth(inet, "r", rtr, "w");
    const sh = (h: NetnsHost, s: string) => expect(h.sh(`set -e; ${s}`).code).toBe(0);
    sh(inet, `ip link set t${id}v name vps0; ip link set t${id}r name rtr0; ip link set vps0 up; ip link set rtr0 up
      ip addr add 203.0.113.1/24 dev vps0; ip addr add 100.64.0.1/24 dev rtr0; ip -6 addr add fe80::1/64 dev vps0
      ip -6 addr add ${INTERNET}/128 dev lo; ip -6 route add 2401:4520:110b::a/128 dev vps0; ip -6 route add 2401:4520:110b::/48 via 2401:4520:110b::a dev vps0
      sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1`);
    sh(vps, `ip link set u${id}e name enp3s0; ip link set enp3s0 up; ip addr add 203.0.113.10/24 dev enp3s0
      ip -6 addr add 2401:4520:110b::a/48 dev enp3s0; ip route add default via 203.0.113.1; ip -6 route add default via fe80::1 dev enp3s0`);
    sh(rtr, `ip link set u${id}w name wan0; ip link set wan0 up; ip addr add 100.64.0.2/24 dev wan0; ip route add default via 100.64.0.1
      ip -6 addr add ${LAN}/128 dev lo; ip -6 addr add ${ULA}/128 dev lo; ip -6 addr add ${SPOOF}/128 dev lo`);

    const site = join(work, "home.yaml");
    writeFileSync(site, SITE);
    const out = join(work, "out");
    const r = renderFile(site);
    writeArtifacts(out, r.artifacts, { sites: [{ site: r.plan.site }] });
    const up = vps.sh(`bash ${out}/vps/setup.sh`);
    expect(up.code, up.out).toBe(0);
    copyFileSync(join(out, "router/files/etc/wireguard/wg0.conf"), rtr.path("/etc/wireguard/wg0.conf"));
    copyFileSync(join(out, "router/secrets/wg0.key"), rtr.path("/etc/wireguard/wg0.key"));
    sh(rtr, `wg-quick up wg0; ip -6 route add ${INTERNET}/128 dev wg0`);
    routerKey = rtr.sh("wg show wg0 public-key").stdout.trim();
    await waitUntil(() => rtr.sh("ping -6 -c 1 -W 1 2401:4520:110b::1").code === 0, 20_000, "the tunnel");
  }, 60_000);

  afterAll(() => {
    for (const h of [vps, rtr, inet]) h.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("WireGuard drops what comes from outside the peer's AllowedIPs: the ULA and a spoofed source never appear on the VPS's wg0", async () => {
    expect(vps.sh("wg show wg0 allowed-ips").stdout).not.toContain("fd12");
    const [seen] = await capture([[vps, "wg0", "udp"]], () => {
      for (const [src, port] of [[ULA, 4001], [SPOOF, 4002], [LAN, 4003]] as const) expect(rtr.sh(udpFrom(src, port)).code).toBe(0);
    });
    expect(seen).toContain(`${LAN}.`); // the tunnel carries the allowed source: the capture works
    expect(seen).not.toContain(ULA);
    expect(seen).not.toContain(SPOOF);
  }, 30_000);

  it("the VPS forwards out of its NIC only the site's global sources: a ULA let through AllowedIPs by hand still never leaves", async () => {
    const allowed = vps.sh("wg show wg0 allowed-ips").stdout.trim().split("\t")[1]!.split(" ");
    expect(vps.sh(`wg set wg0 peer ${routerKey} allowed-ips ${[...allowed, "fd12:3456:789a:1::/64"].join(",")}`).code).toBe(0);
    try {
      const [onWg, out] = await capture(
        [
          [vps, "wg0", "udp or icmp6"],
          [inet, "vps0", "ip6 and (udp or (icmp6 and ip6[40] < 133))"], // no neighbour discovery
        ],
        () => {
          for (const [src, port] of [[ULA, 5001], [LAN, 5002]] as const) expect(rtr.sh(udpFrom(src, port)).code).toBe(0);
          // The segment's address: answered, so it went out of the NIC and back.
          const lan = rtr.sh(`ping -6 -c 3 -i 0.2 -W 2 -I ${LAN} ${INTERNET}`);
          expect(lan.code, lan.out).toBe(0);
          rtr.sh(`ping -6 -c 1 -W 1 -I ${ULA} ${INTERNET}`);
        },
      );
      // Through the tunnel: both sources, both protocols (WireGuard let the ULA in now).
      expect(onWg).toContain(`${ULA}.`);
      expect(onWg).toMatch(new RegExp(`${ULA} > ${INTERNET}: ICMP6, echo request`));
      // Out of the NIC: the global source only. ufw's route rules stop the UDP; ufw's own
      // before6.rules would pass ICMPv6 echo from any source: the hook's guard stops it.
      expect(out).toMatch(new RegExp(`${LAN}\\.\\d+ > ${INTERNET}\\.5002: UDP`));
      expect(out).toMatch(new RegExp(`${LAN} > ${INTERNET}: ICMP6, echo request`));
      expect(out).not.toContain(ULA);
    } finally {
      vps.sh(`wg set wg0 peer ${routerKey} allowed-ips ${allowed.join(",")}`);
    }
  }, 30_000);
});
