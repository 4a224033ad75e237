# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site lab.2, RouterOS 7.22.3: the router end of the relay (tunnel, addresses, RA, default route, firewall).
# Safe to import again: every object carries the tag relay6:lab.2: in its comment,
# a re-run updates those objects and never touches others. Undo: relay6-lab.2-undo.rsc.

# Stop before any change unless the router runs RouterOS 7.22.3, the release this script is for.
:if (!([/system/resource/get version] ~ "^7[.]22[.]3( |\$)")) do={ :error "relay6: this script is for RouterOS 7.22.3 and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed" }
# Stop unless UDP 51820 (wireguard.port) is free of other WireGuard interfaces.
:if ([:len [/interface/wireguard/find where listen-port=51820 and !(comment~"^relay6:lab[.]2:wg;")]] > 0) do={ :error "relay6: another WireGuard interface on the router already listens on UDP 51820: set wireguard.port in the site file to a free port (and render again), or move that interface; nothing was changed" }

# WireGuard interface; RouterOS makes its private key, relay6 never sees it.
:if ([:len [/interface/wireguard/find where comment~"^relay6:lab[.]2:wg;"]] = 0) do={ \
    /interface/wireguard/add name=wg-relay listen-port=51820 mtu=1400 \
    comment="relay6:lab.2:wg; WireGuard tunnel to the VPS" } else={ /interface/wireguard/set \
    [/interface/wireguard/find where comment~"^relay6:lab[.]2:wg;"] name=wg-relay \
    listen-port=51820 mtu=1400 comment="relay6:lab.2:wg; WireGuard tunnel to the VPS" }

# The VPS as the only peer. allowed-address ::/0: the default route decides what goes in.
:if ([:len [/interface/wireguard/peers/find where comment~"^relay6:lab[.]2:peer;"]] = 0) do={ \
    /interface/wireguard/peers/add interface=wg-relay name=relay6-lab.2-vps \
    public-key="HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" endpoint-address=vps.example.net \
    endpoint-port=51820 allowed-address=::/0 persistent-keepalive=15s \
    comment="relay6:lab.2:peer; the VPS" } else={ /interface/wireguard/peers/set \
    [/interface/wireguard/peers/find where comment~"^relay6:lab[.]2:peer;"] interface=wg-relay \
    name=relay6-lab.2-vps public-key="HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" \
    endpoint-address=vps.example.net endpoint-port=51820 allowed-address=::/0 \
    persistent-keepalive=15s comment="relay6:lab.2:peer; the VPS" }

# Addresses of segments no longer in the site file go; then the current ones.
/ipv6/address/remove [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:" and !(comment~"^relay6:lab[.]2:(addr:transit|addr:lan|addr:lan:ula|addr:cams);")]

# Transit address: the tunnel's own /64, never advertised to the LAN.
:if ([:len [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:transit;"]] = 0) do={ \
    /ipv6/address/add address=2001:db8:4400::2/64 interface=wg-relay advertise=no \
    comment="relay6:lab.2:addr:transit; tunnel transit" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:transit;"] \
    address=2001:db8:4400::2/64 interface=wg-relay advertise=no \
    comment="relay6:lab.2:addr:transit; tunnel transit" }

# Segment lan: 2001:db8:4400:1::/64 on bridge; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:lan;"]] = 0) do={ \
    /ipv6/address/add address=2001:db8:4400:1::1/64 interface=bridge advertise=yes \
    comment="relay6:lab.2:addr:lan; segment lan - Home \"LAN\" \$[/system/reboot] ; {x} [y] \\n \?caf\C3\A9" \
    } else={ /ipv6/address/set [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:lan;"] \
    address=2001:db8:4400:1::1/64 interface=bridge advertise=yes \
    comment="relay6:lab.2:addr:lan; segment lan - Home \"LAN\" \$[/system/reboot] ; {x} [y] \\n \?caf\C3\A9" \
    }
:if ([:len [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:lan:ula;"]] = 0) do={ \
    /ipv6/address/add address=fd12:3456:789a:1::1/64 interface=bridge advertise=yes \
    comment="relay6:lab.2:addr:lan:ula; segment lan ULA (RFC 4193) - Home \"LAN\" \$[/system/reboot] ; {x} [y] \\n \?caf\C3\A9" \
    } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:lan:ula;"] \
    address=fd12:3456:789a:1::1/64 interface=bridge advertise=yes \
    comment="relay6:lab.2:addr:lan:ula; segment lan ULA (RFC 4193) - Home \"LAN\" \$[/system/reboot] ; {x} [y] \\n \?caf\C3\A9" \
    }

# Segment cams: 2001:db8:4400:20::/64 on vlan20; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:cams;"]] = 0) do={ \
    /ipv6/address/add address=2001:db8:4400:20::1/64 interface=vlan20 advertise=yes \
    comment="relay6:lab.2:addr:cams; segment cams - \$x \$(1+1) end\\" } else={ \
    /ipv6/address/set [/ipv6/address/find where comment~"^relay6:lab[.]2:addr:cams;"] \
    address=2001:db8:4400:20::1/64 interface=vlan20 advertise=yes \
    comment="relay6:lab.2:addr:cams; segment cams - \$x \$(1+1) end\\" }

# Router advertisements. RouterOS keeps one /ipv6/nd entry per interface, so an existing
# one is set, not added to (its M and O flags stay as they are: DHCPv6 setups need them).
# mtu=1400 tells clients the tunnel MTU: a full-size packet
# would otherwise need an ICMPv6 packet-too-big that many paths drop.
/ipv6/nd/remove [/ipv6/nd/find where comment~"^relay6:lab[.]2:nd:" and !(comment~"^relay6:lab[.]2:(nd:bridge|nd:vlan20);")]
# The ra-lifetime of each entry relay6 did not make, recorded once: the RA drain and the undo set it back.
:foreach r in=[/system/script/find where comment~"^relay6:lab[.]2:ra:" and !(comment~"^relay6:lab[.]2:(ra:bridge|ra:vlan20);")] do={ /system/script/run $r; /system/script/remove $r }
:if ([:len [/ipv6/nd/find where interface="bridge" and !(comment~"^relay6:lab[.]2:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:lab[.]2:ra:bridge;"]] = 0) do={ /system/script/add name=relay6-lab.2-ra-bridge source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"bridge\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="bridge"] 0] ra-lifetime]) comment="relay6:lab.2:ra:bridge; the ra-lifetime bridge had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="vlan20" and !(comment~"^relay6:lab[.]2:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:lab[.]2:ra:vlan20;"]] = 0) do={ /system/script/add name=relay6-lab.2-ra-vlan20 source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"vlan20\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="vlan20"] 0] ra-lifetime]) comment="relay6:lab.2:ra:vlan20; the ra-lifetime vlan20 had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="bridge"]] = 0) do={ /ipv6/nd/add interface=bridge \
    advertise-dns=yes dns=2001:db8:4400:1::53,fd12:3456:789a:1::53 mtu=1400 \
    managed-address-configuration=no other-configuration=no ra-lifetime=30m \
    comment="relay6:lab.2:nd:bridge; RA for lan" } else={ /ipv6/nd/set \
    [/ipv6/nd/find where interface="bridge"] advertise-dns=yes \
    dns=2001:db8:4400:1::53,fd12:3456:789a:1::53 mtu=1400 }
:if ([:len [/ipv6/nd/find where interface="vlan20"]] = 0) do={ /ipv6/nd/add interface=vlan20 \
    advertise-dns=yes dns=2001:db8:4400:1::53,fd12:3456:789a:1::53 mtu=1400 \
    managed-address-configuration=no other-configuration=no ra-lifetime=30m \
    comment="relay6:lab.2:nd:vlan20; RA for cams" } else={ /ipv6/nd/set \
    [/ipv6/nd/find where interface="vlan20"] advertise-dns=yes \
    dns=2001:db8:4400:1::53,fd12:3456:789a:1::53 mtu=1400 }

# No old /64s to advertise (previousPrefix): remove what an earlier render advertised.
/ipv6/nd/prefix/remove [/ipv6/nd/prefix/find where comment~"^relay6:lab[.]2:nd-prefix:"]

# No VPS address in a LAN /64: remove what an earlier render added for one.
/ipv6/nd/proxy/remove [/ipv6/nd/proxy/find where comment~"^relay6:lab[.]2:nd-proxy:vps;"]
/ipv6/route/remove [/ipv6/route/find where comment~"^relay6:lab[.]2:route:vps;"]

# Default route through the tunnel; check-gateway=ping drops it ~30 s after the VPS stops answering.
:if ([:len [/ipv6/route/find where comment~"^relay6:lab[.]2:route:default;"]] = 0) do={ \
    /ipv6/route/add dst-address=::/0 gateway=2001:db8:4400::1%wg-relay check-gateway=ping \
    comment="relay6:lab.2:route:default; default via the VPS" } else={ /ipv6/route/set \
    [/ipv6/route/find where comment~"^relay6:lab[.]2:route:default;"] dst-address=::/0 \
    gateway=2001:db8:4400::1%wg-relay check-gateway=ping \
    comment="relay6:lab.2:route:default; default via the VPS" }
# No BGP in static mode: remove what an earlier bgp-bfd render added.
/routing/bgp/connection/remove [/routing/bgp/connection/find where comment~"^relay6:lab[.]2:bgp:connection;"]
/routing/bgp/template/remove [/routing/bgp/template/find where comment~"^relay6:lab[.]2:bgp:template;"]
/routing/bgp/instance/remove [/routing/bgp/instance/find where comment~"^relay6:lab[.]2:bgp:instance;"]
/routing/bfd/configuration/remove [/routing/bfd/configuration/find where comment~"^relay6:lab[.]2:bfd;"]

# Firewall. relay6's rules are removed and added again on every run, so they always sit
# in front of defconf's "defconf: drop everything else not coming from LAN" when it exists;
# without defconf in front of the chain's first drop rule; with none, at the end (the
# chain policy is accept, so they still act). In the forward chain they go in front of
# defconf's HIP/IKE/IPsec accepts (found by protocol and port), which would otherwise let
# unsolicited packets from the tunnel into the LAN; the source check heads the chain.
/ipv6/firewall/filter/remove [/ipv6/firewall/filter/find where comment~"^relay6:lab[.]2:fw:"]
/ipv6/firewall/mangle/remove [/ipv6/firewall/mangle/find where comment~"^relay6:lab[.]2:fw:"]
:if ([:len [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 in-interface=wg-relay \
    comment="relay6:lab.2:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:lab[.]2:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 in-interface=wg-relay \
    comment="relay6:lab.2:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:lab[.]2:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 \
    in-interface=wg-relay \
    comment="relay6:lab.2:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    } }
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:lab[.]2:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=reject reject-with=icmp-admin-prohibited \
    out-interface=wg-relay src-address="!2001:db8:4400::/48" \
    comment="relay6:lab.2:fw:fwd-src; refuse traffic into the tunnel from sources outside 2001:db8:4400::/48 (ICMPv6 administratively prohibited)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:lab[.]2:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=reject \
    reject-with=icmp-admin-prohibited out-interface=wg-relay src-address="!2001:db8:4400::/48" \
    comment="relay6:lab.2:fw:fwd-src; refuse traffic into the tunnel from sources outside 2001:db8:4400::/48 (ICMPv6 administratively prohibited)" \
    }
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:lab[.]2:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:lab[.]2:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" } } \
    } } } } }
/ipv6/firewall/filter/add chain=forward action=accept connection-state=new protocol=tcp \
    dst-address=2001:db8:4400:1::80 dst-port=443 in-interface=wg-relay out-interface=bridge \
    comment="relay6:lab.2:fw:fwd-in:lan:web; accept inbound tcp/443 to segment lan" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:lab[.]2:fw:fwd-drop;"] 0]
/ipv6/firewall/filter/add chain=forward action=accept protocol=icmpv6 in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-icmpv6; accept ICMPv6 from the tunnel (RFC 4890; packet-too-big keeps path MTU discovery working)" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:lab[.]2:fw:fwd-in:lan:web;"] 0]
/ipv6/firewall/filter/add chain=forward action=accept \
    connection-state=established,related,untracked in-interface=wg-relay \
    comment="relay6:lab.2:fw:fwd-established; accept replies from the tunnel" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:lab[.]2:fw:fwd-icmpv6;"] 0]
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1340 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1341-65535 out-interface=wg-relay \
    comment="relay6:lab.2:fw:mss-out; clamp TCP MSS to 1340 into the tunnel"
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1340 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1341-65535 in-interface=wg-relay \
    comment="relay6:lab.2:fw:mss-in; clamp TCP MSS to 1340 from the tunnel"

# RA drain: router lifetime 0 on every segment while relay6's ::/0 through the tunnel is gone,
# run every second by netwatch (every release, every device-mode).
# Static failover: a netwatch pings the VPS every second; 3 failed in a row disable the route.
/system/logging/remove [/system/logging/find where comment~"^relay6:lab[.]2:drain-log"]
/system/logging/action/remove [/system/logging/action/find where comment~"^relay6:lab[.]2:drain-log;"]
:if ([:len [/system/script/find where comment~"^relay6:lab[.]2:drain;"]] = 0) do={ \
    /system/script/add name=relay6-lab.2-drain policy=read,write,test \
    source="# relay6 lab.2: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-relay is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-relay\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:lab[.]2:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan20\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:lab[.]2:ra:vlan20;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:lab.2:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" \
    } else={ /system/script/set [/system/script/find where comment~"^relay6:lab[.]2:drain;"] \
    name=relay6-lab.2-drain policy=read,write,test \
    source="# relay6 lab.2: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-relay is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-relay\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:lab[.]2:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan20\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:lab[.]2:ra:vlan20;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:lab.2:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" }
:if ([:len [/system/script/find where comment~"^relay6:lab[.]2:probe;"]] = 0) do={ \
    /system/script/add name=relay6-lab.2-probe policy=read,write,test \
    source="# relay6 lab.2: static failover. 3 failed probes of the VPS in a row disable relay6's ::/0, the first answer enables it.\n:global relay6lab2misses\n:if ([:typeof \$relay6lab2misses] != \"num\") do={ :set relay6lab2misses 0 }\n:if ([/tool/netwatch/get [/tool/netwatch/find where comment~\"^relay6:lab[.]2:probe-tick;\"] status] = \"up\") do={ :set relay6lab2misses 0 } else={ :set relay6lab2misses (\$relay6lab2misses + 1) }\n:if (\$relay6lab2misses = 0) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:lab[.]2:route:default;\" and disabled=yes] do={ /ipv6/route/set \$r disabled=no } }\n:if (\$relay6lab2misses >= 3) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:lab[.]2:route:default;\" and disabled=no] do={ /ipv6/route/set \$r disabled=yes } }\n/system/script/run relay6-lab.2-drain\n" \
    comment="relay6:lab.2:probe; static failover: 3 failed probes in a row disable relay6's ::/0" \
    } else={ /system/script/set [/system/script/find where comment~"^relay6:lab[.]2:probe;"] \
    name=relay6-lab.2-probe policy=read,write,test \
    source="# relay6 lab.2: static failover. 3 failed probes of the VPS in a row disable relay6's ::/0, the first answer enables it.\n:global relay6lab2misses\n:if ([:typeof \$relay6lab2misses] != \"num\") do={ :set relay6lab2misses 0 }\n:if ([/tool/netwatch/get [/tool/netwatch/find where comment~\"^relay6:lab[.]2:probe-tick;\"] status] = \"up\") do={ :set relay6lab2misses 0 } else={ :set relay6lab2misses (\$relay6lab2misses + 1) }\n:if (\$relay6lab2misses = 0) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:lab[.]2:route:default;\" and disabled=yes] do={ /ipv6/route/set \$r disabled=no } }\n:if (\$relay6lab2misses >= 3) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:lab[.]2:route:default;\" and disabled=no] do={ /ipv6/route/set \$r disabled=yes } }\n/system/script/run relay6-lab.2-drain\n" \
    comment="relay6:lab.2:probe; static failover: 3 failed probes in a row disable relay6's ::/0" \
    }
:if ([:len [/tool/netwatch/find where comment~"^relay6:lab[.]2:drain-tick;"]] = 0) do={ \
    /tool/netwatch/add name=relay6-lab.2-drain host=127.0.0.1 type=simple interval=1s \
    test-script="/system/script/run relay6-lab.2-drain" \
    comment="relay6:lab.2:drain-tick; runs the RA drain every second (the router itself answers)" \
    } else={ /tool/netwatch/set \
    [/tool/netwatch/find where comment~"^relay6:lab[.]2:drain-tick;"] name=relay6-lab.2-drain \
    host=127.0.0.1 type=simple interval=1s test-script="/system/script/run relay6-lab.2-drain" \
    comment="relay6:lab.2:drain-tick; runs the RA drain every second (the router itself answers)" \
    }
:if ([:len [/tool/netwatch/find where comment~"^relay6:lab[.]2:probe-tick;"]] = 0) do={ \
    /tool/netwatch/add name=relay6-lab.2-probe host=2001:db8:4400::1 type=simple interval=1s \
    timeout=900ms test-script="/system/script/run relay6-lab.2-probe" \
    comment="relay6:lab.2:probe-tick; pings the VPS's transit address every second (static failover)" \
    } else={ /tool/netwatch/set \
    [/tool/netwatch/find where comment~"^relay6:lab[.]2:probe-tick;"] name=relay6-lab.2-probe \
    host=2001:db8:4400::1 type=simple interval=1s timeout=900ms \
    test-script="/system/script/run relay6-lab.2-probe" \
    comment="relay6:lab.2:probe-tick; pings the VPS's transit address every second (static failover)" \
    }

:put "relay6: the router's WireGuard public key (router.publicKey in the site file):"
:put [/interface/wireguard/get [/interface/wireguard/find where comment~"^relay6:lab[.]2:wg;"] public-key]
