// The input parsers, one by one: the shapes real files take.
import { describe, expect, it } from "vitest";
import { parseBirdConf, readBirdConf, BirdParseError } from "../../src/doctor/bird.js";
import { parseIpAddr, parseIpRoute } from "../../src/doctor/iproute.js";
import { parseRouterOS } from "../../src/targets/routeros/doctor/export.js";
import { parseUfwStatus, portIncludes } from "../../src/doctor/ufw.js";
import { parseWgConf } from "../../src/doctor/wgconf.js";
import { formatPrefix6 } from "../../src/net/ipv6.js";

const SECRET = "PYMyN3ObYIY44ULcYBVmCKs7kXINjfcQomuko+mmq+M=";

describe("wg-quick INI", () => {
  const conf = parseWgConf(
    [
      "# a comment",
      "[Interface]",
      `PrivateKey = ${SECRET}`,
      "Address = 2001:db8::1/64, 10.0.0.1/24 # trailing comment",
      "ListenPort=51820",
      "[Peer]",
      "# router",
      "PublicKey = KsdaAUibD4E7d4q0fLJ3Kn+kPwFYkDmMtoSYUvy43Is=",
      "PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "AllowedIPs = 2001:db8::2/128,2001:db8:0:1::/64",
      "AllowedIPs = 2001:db8:0:10::/64",
      "this is not ini",
      "[Interface]",
      "Address = fe80::1/64",
    ].join("\n"),
  );
  it("merges repeated [Interface] sections and splits comma lists, with lines", () => {
    expect(conf.interfaceAddresses).toEqual([
      { value: "2001:db8::1/64", line: 4 },
      { value: "10.0.0.1/24", line: 4 },
      { value: "fe80::1/64", line: 14 },
    ]);
    expect(conf.listenPort).toBe(51820);
    expect(conf.peers).toHaveLength(1);
    expect(conf.peers[0]!.allowedIps.map((a) => [a.value, a.line])).toEqual([
      ["2001:db8::2/128", 10],
      ["2001:db8:0:1::/64", 10],
      ["2001:db8:0:10::/64", 11],
    ]);
    expect(conf.peers[0]!.comment).toBe("router");
    expect(conf.unparsed).toEqual([12]);
  });
  it("keeps no secret: PrivateKey and PresharedKey are dropped at parse time", () => {
    expect(conf.hasPrivateKey).toBe(true);
    expect(JSON.stringify(conf)).not.toContain(SECRET);
    expect(JSON.stringify(conf)).not.toContain("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  });
});

describe("bird2 config", () => {
  const text = `
log syslog all; # comment
router id 10.0.0.1;
/* a block comment
   protocol bgp ghost { } */
protocol device { scan time 1; }
protocol bfd b1 {
  interface "wg*" { min rx interval 200 ms; min tx interval 200 ms; idle tx interval 1 s; multiplier 3; };
  neighbor 2001:db8::2 dev "wg0";
}
template bgp t { bfd on; error wait time 1, 2; }
protocol bgp peer1 from t {
  local 2001:db8::1 as 65002;
  neighbor 2001:db8::2 port 179 as 65001;
  connect delay time 0;
  ipv6 { import filter { if net = ::/0 then accept; reject; }; export where net = ::/0; next hop self; };
}
protocol bgp peer2 { neighbor 2001:db8::3 as 65003; bfd off; ipv6 { next hop self off; }; }
`;
  const conf = readBirdConf(parseBirdConf(text));
  it("finds protocols through comments, nested braces and templates", () => {
    expect(conf.routerId).toBe("10.0.0.1");
    expect(conf.protocols.map((p) => `${p.type} ${p.name ?? ""}`.trim())).toEqual(["device", "bfd b1", "bgp peer1", "bgp peer2"]);
    const [p1, p2] = conf.bgp;
    expect(p1).toMatchObject({ name: "peer1", localAddress: "2001:db8::1", localAs: 65002, neighbor: "2001:db8::2", neighborAs: 65001 });
    expect(p1!.bfd?.on).toBe(true);
    expect(p1!.errorWait).toMatchObject({ min: 1, max: 2 });
    expect(p1!.connectDelay?.value).toBe(0);
    expect(p1!.nextHopSelf?.line).toBe(16);
    expect(p2!.bfd?.on).toBe(false);
    expect(p2!.nextHopSelf).toBeUndefined();
  });
  it("reads BFD interface timers (units) and explicit neighbors", () => {
    expect(conf.bfd[0]!.interfaces[0]).toMatchObject({ pattern: "wg*", minRxMs: 200, minTxMs: 200, idleTxMs: 1000, multiplier: 3 });
    expect(conf.bfd[0]!.neighbors).toEqual([{ address: "2001:db8::2", dev: "wg0", line: 9 }]);
  });
  it("refuses unbalanced braces with the line", () => {
    expect(() => parseBirdConf("protocol bgp x {\n  bfd on;\n")).toThrow(BirdParseError);
    try {
      parseBirdConf("protocol device { }\n}\n");
    } catch (e) {
      expect((e as BirdParseError).line).toBe(2);
    }
    expect(() => parseBirdConf("/* never closed")).toThrow(/unterminated/);
  });
});

describe("ip -6 route / ip -6 addr", () => {
  it("reads connected routes with dev, proto and metric; skips multipath continuation lines", () => {
    const r = parseIpRoute(
      [
        "2001:db8::/48 dev enp3s0 proto kernel metric 256 pref medium",
        "2001:db8::2 dev wg0 metric 1024 pref medium",
        "unreachable 2001:db8:ffff::/64 dev lo metric 1024 pref medium",
        "default proto ra metric 1024 expires 1789sec pref medium",
        "\tnexthop via fe80::1 dev enp3s0 weight 1",
      ].join("\n"),
    );
    expect(r.map((x) => [x.type, formatPrefix6(x.prefix), x.dev, x.proto, x.metric, x.line])).toEqual([
      ["unicast", "2001:db8::/48", "enp3s0", "kernel", 256, 1],
      ["unicast", "2001:db8::2/128", "wg0", undefined, 1024, 2],
      ["unreachable", "2001:db8:ffff::/64", "lo", undefined, 1024, 3],
      ["unicast", "::/0", undefined, "ra", 1024, 4],
    ]);
  });
  it("reads addresses per interface, in the long and the -o forms", () => {
    const long = parseIpAddr(
      "2: enp3s0: <UP> mtu 1500\n    inet6 2001:db8::a/48 scope global \n       valid_lft forever\n5: vlan10@enp3s0: <UP>\n    inet6 fe80::1/64 scope link\n",
    );
    expect(long.map((a) => [a.dev, a.cidr, a.scope, a.line])).toEqual([
      ["enp3s0", "2001:db8::a/48", "global", 2],
      ["vlan10", "fe80::1/64", "link", 5],
    ]);
    const oneLine = parseIpAddr("2: enp3s0    inet6 2001:db8::a/48 scope global \\       valid_lft forever preferred_lft forever\n");
    expect(oneLine.map((a) => [a.dev, a.cidr])).toEqual([["enp3s0", "2001:db8::a/48"]]);
  });
});

describe("RouterOS export", () => {
  it("reads the header's version, menu headers, continuations and quoted values", () => {
    const s = parseRouterOS(
      [
        "# 2026-01-01 00:00:00 by RouterOS 7.18.2",
        "# software id = ABCD-EFGH",
        "/interface wireguard peers",
        "add allowed-address=::/0 endpoint-address=203.0.113.10 \\",
        '    interface=wg-host public-key=\\',
        '    "xiNL7zdV3I/c9N6gC9Yt4kDLarW561g7+5rNRXZsu3Y="',
        "/ipv6 address",
        'add address=2001:db8:0:1::1/64 comment="a \\"quoted\\" \\$name and caf\\C3\\A9" interface=bridge',
        "/routing bgp connection",
        "add local.address=2001:db8::2 .role=ebgp remote.address=2001:db8::1 .as=65002 \\",
        "    templates=t",
      ].join("\n"),
    );
    expect(s.version).toBe("7.18.2");
    expect(s.versionLine).toBe(1);
    expect(s.isExport).toBe(true);
    const [peer, addr, conn] = s.commands;
    expect(peer).toMatchObject({ menu: "/interface/wireguard/peers", verb: "add", line: 4 });
    // the argument starts where its name is, even when its value is on the next line
    expect(peer!.args.get("public-key")).toEqual({ value: "xiNL7zdV3I/c9N6gC9Yt4kDLarW561g7+5rNRXZsu3Y=", line: 5 });
    expect(peer!.args.get("interface")?.line).toBe(5);
    expect(addr!.args.get("comment")?.value).toBe('a "quoted" $name and café');
    expect(Object.fromEntries([...conn!.args].map(([k, v]) => [k, v.value]))).toEqual({
      "local.address": "2001:db8::2",
      "local.role": "ebgp",
      "remote.address": "2001:db8::1",
      "remote.as": "65002",
      templates: "t",
    });
  });
  it("reads terse exports and slash-form scripts; a script has no version", () => {
    const terse = parseRouterOS("/ipv6 address add address=2001:db8::2/64 advertise=no interface=wg-host\n/ip address add address=192.168.88.1/24 interface=bridge\n");
    expect(terse.commands.map((c) => `${c.menu} ${c.verb} ${c.args.get("address")?.value}`)).toEqual([
      "/ipv6/address add 2001:db8::2/64",
      "/ip/address add 192.168.88.1/24",
    ]);
    const script = parseRouterOS(
      [
        "/interface/wireguard add name=wg-host listen-port=51820",
        "/ipv6/firewall/filter add chain=input action=accept in-interface=wg-host \\",
        '    place-before=[find where chain=input and comment="defconf: drop everything else not coming from LAN"]',
        ":delay 1s",
      ].join("\n"),
    );
    expect(script.version).toBeUndefined();
    expect(script.isExport).toBe(false);
    expect(script.commands.map((c) => `${c.menu} ${c.verb}`)).toEqual(["/interface/wireguard add", "/ipv6/firewall/filter add"]);
    expect(script.commands[1]!.args.get("place-before")?.value).toContain("defconf: drop everything else");
  });
  it("applies `remove [find comment=...]` to the earlier add, as the recipe's 4b.4 does", () => {
    const s = parseRouterOS(
      [
        '/ipv6/route add dst-address=::/0 gateway=2001:db8::1%wg-host check-gateway=ping comment="webhorizon primary"',
        '/ipv6/route add dst-address=2001:db8:ffff::/48 gateway=2001:db8::1%wg-host comment="other"',
        '/ipv6/route/remove [find comment="webhorizon primary"]',
      ].join("\n"),
    );
    expect(s.commands.map((c) => c.args.get("comment")?.value)).toEqual(["other"]);
  });
});

describe("ufw status verbose", () => {
  const st = parseUfwStatus(
    [
      "Status: active",
      "Logging: on (low)",
      "Default: deny (incoming), allow (outgoing), disabled (routed)",
      "New profiles: skip",
      "",
      "To                         Action      From",
      "--                         ------      ----",
      "22/tcp                     ALLOW IN    Anywhere                   # ssh",
      "2001:db8::1 179/tcp on wg0 ALLOW IN    2001:db8::2",
      "Anywhere on wg0            ALLOW FWD   Anywhere",
      "Anywhere (v6) on wg0       ALLOW FWD   Anywhere (v6)",
      "OpenSSH (v6)               ALLOW IN    Anywhere (v6)",
    ].join("\n"),
  );
  it("reads state, defaults and rules with interfaces, ports and (v6)", () => {
    expect(st.active).toBe(true);
    expect(st.defaults).toMatchObject({ incoming: "deny", outgoing: "allow", routed: "disabled", line: 3 });
    expect(st.rules.map((r) => [r.to, r.action, r.direction, r.from, r.v6, r.line])).toEqual([
      [{ address: "Anywhere", port: "22", proto: "tcp" }, "ALLOW", "IN", { address: "Anywhere" }, false, 8],
      [{ address: "2001:db8::1", port: "179", proto: "tcp", iface: "wg0" }, "ALLOW", "IN", { address: "2001:db8::2" }, false, 9],
      [{ address: "Anywhere", iface: "wg0" }, "ALLOW", "FWD", { address: "Anywhere" }, false, 10],
      [{ address: "Anywhere", iface: "wg0" }, "ALLOW", "FWD", { address: "Anywhere" }, true, 11],
      [{ address: "OpenSSH" }, "ALLOW", "IN", { address: "Anywhere" }, true, 12],
    ]);
    expect(st.rules[0]!.comment).toBe("ssh");
  });
  it("inactive ufw and port ranges", () => {
    expect(parseUfwStatus("Status: inactive\n").active).toBe(false);
    expect(portIncludes("170:180", 179)).toBe(true);
    expect(portIncludes("22,3784", 3784)).toBe(true);
    expect(portIncludes("22", 179)).toBe(false);
  });
});
