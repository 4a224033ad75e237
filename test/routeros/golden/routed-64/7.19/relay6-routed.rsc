# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site routed, RouterOS 7.19: the router end of the relay (tunnel, addresses, RA, default route, firewall).
# Safe to import again: every object carries the tag relay6:routed: in its comment,
# a re-run updates those objects and never touches others. Undo: relay6-routed-undo.rsc.

# Stop before any change unless the router runs RouterOS 7.19.x, the release this script is for.
:if (!([/system/resource/get version] ~ "^7[.]19([. ]|\$)")) do={ :error "relay6: this script is for RouterOS 7.19.x and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed" }
# Stop unless UDP 51820 (wireguard.port) is free of other WireGuard interfaces.
:if ([:len [/interface/wireguard/find where listen-port=51820 and !(comment~"^relay6:routed:wg;")]] > 0) do={ :error "relay6: another WireGuard interface on the router already listens on UDP 51820: set wireguard.port in the site file to a free port (and render again), or move that interface; nothing was changed" }

# WireGuard interface, with the private key relay6 made (this file is secret: mode 0600).
:if ([:len [/interface/wireguard/find where comment~"^relay6:routed:wg;"]] = 0) do={ \
    /interface/wireguard/add name=wg-host listen-port=51820 mtu=1420 \
    private-key="4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=" \
    comment="relay6:routed:wg; WireGuard tunnel to the VPS" } else={ /interface/wireguard/set \
    [/interface/wireguard/find where comment~"^relay6:routed:wg;"] name=wg-host \
    listen-port=51820 mtu=1420 private-key="4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=" \
    comment="relay6:routed:wg; WireGuard tunnel to the VPS" }

# The VPS as the only peer. allowed-address ::/0: the default route decides what goes in.
:if ([:len [/interface/wireguard/peers/find where comment~"^relay6:routed:peer;"]] = 0) do={ \
    /interface/wireguard/peers/add interface=wg-host name=relay6-routed-vps \
    public-key="HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" endpoint-address=198.51.100.8 \
    endpoint-port=51820 allowed-address=::/0 persistent-keepalive=25s \
    comment="relay6:routed:peer; the VPS" } else={ /interface/wireguard/peers/set \
    [/interface/wireguard/peers/find where comment~"^relay6:routed:peer;"] interface=wg-host \
    name=relay6-routed-vps public-key="HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=" \
    endpoint-address=198.51.100.8 endpoint-port=51820 allowed-address=::/0 \
    persistent-keepalive=25s comment="relay6:routed:peer; the VPS" }

# Addresses of segments no longer in the site file go; then the current ones.
/ipv6/address/remove [/ipv6/address/find where comment~"^relay6:routed:addr:" and !(comment~"^relay6:routed:(addr:transit|addr:lan);")]

# Transit address: a /64 site's prefix is all LAN, so the tunnel runs on link-locals (fe80::2 here, fe80::1 on the VPS); never advertised.
:if ([:len [/ipv6/address/find where comment~"^relay6:routed:addr:transit;"]] = 0) do={ \
    /ipv6/address/add address=fe80::2/64 interface=wg-host advertise=no \
    comment="relay6:routed:addr:transit; tunnel transit" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:routed:addr:transit;"] address=fe80::2/64 \
    interface=wg-host advertise=no comment="relay6:routed:addr:transit; tunnel transit" }

# Segment lan: 2001:db8:4f8:10::/64 on bridge; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:routed:addr:lan;"]] = 0) do={ \
    /ipv6/address/add address=2001:db8:4f8:10::1/64 interface=bridge advertise=yes \
    comment="relay6:routed:addr:lan; segment lan" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:routed:addr:lan;"] address=2001:db8:4f8:10::1/64 \
    interface=bridge advertise=yes comment="relay6:routed:addr:lan; segment lan" }

# Router advertisements. RouterOS keeps one /ipv6/nd entry per interface, so an existing
# one is set, not added to (its M and O flags stay as they are: DHCPv6 setups need them).
# mtu=1420 tells clients the tunnel MTU: a full-size packet
# would otherwise need an ICMPv6 packet-too-big that many paths drop.
/ipv6/nd/remove [/ipv6/nd/find where comment~"^relay6:routed:nd:" and !(comment~"^relay6:routed:(nd:bridge);")]
# The ra-lifetime of each entry relay6 did not make, recorded once: the RA drain and the undo set it back.
:foreach r in=[/system/script/find where comment~"^relay6:routed:ra:" and !(comment~"^relay6:routed:(ra:bridge);")] do={ /system/script/run $r; /system/script/remove $r }
:if ([:len [/ipv6/nd/find where interface="bridge" and !(comment~"^relay6:routed:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:routed:ra:bridge;"]] = 0) do={ /system/script/add name=relay6-routed-ra-bridge source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"bridge\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="bridge"] 0] ra-lifetime]) comment="relay6:routed:ra:bridge; the ra-lifetime bridge had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="bridge"]] = 0) do={ /ipv6/nd/add interface=bridge \
    advertise-dns=yes dns=2001:db8:4f8:10::1 mtu=1420 managed-address-configuration=no \
    other-configuration=no ra-lifetime=30m comment="relay6:routed:nd:bridge; RA for lan" \
    } else={ /ipv6/nd/set [/ipv6/nd/find where interface="bridge"] advertise-dns=yes \
    dns=2001:db8:4f8:10::1 mtu=1420 }

# Old /64s (previousPrefix): advertised with preferred lifetime 0 and valid lifetime 2 h, so
# clients stop using their old addresses for new connections at once and drop them 2 h
# after the first such RA (RFC 4862 5.5.3 e). The old address itself is gone (the segment's
# address above is the new one), so no dynamic entry competes. Removing previousPrefix
# removes these.
/ipv6/nd/prefix/remove [/ipv6/nd/prefix/find where comment~"^relay6:routed:nd-prefix:" and !(comment~"^relay6:routed:(nd-prefix:lan:previous);")]
:if ([:len [/ipv6/nd/prefix/find where comment~"^relay6:routed:nd-prefix:lan:previous;"]] = 0) do={ \
    /ipv6/nd/prefix/add interface=bridge prefix=2001:db8:77:1::/64 preferred-lifetime=0s \
    valid-lifetime=2h autonomous=yes on-link=yes \
    comment="relay6:routed:nd-prefix:lan:previous; segment lan's previous /64, deprecated" \
    } else={ /ipv6/nd/prefix/set \
    [/ipv6/nd/prefix/find where comment~"^relay6:routed:nd-prefix:lan:previous;"] \
    interface=bridge prefix=2001:db8:77:1::/64 preferred-lifetime=0s valid-lifetime=2h \
    autonomous=yes on-link=yes \
    comment="relay6:routed:nd-prefix:lan:previous; segment lan's previous /64, deprecated" }

# The VPS's own address 2001:db8:4f8:10::2 lies in segment lan's /64: RouterOS before 7.20 has no /ipv6/nd/proxy, so LAN hosts cannot reach it.
/ipv6/route/remove [/ipv6/route/find where comment~"^relay6:routed:route:vps;"]

# Default route through the tunnel; check-gateway=ping drops it ~30 s after the VPS stops answering.
:if ([:len [/ipv6/route/find where comment~"^relay6:routed:route:default;"]] = 0) do={ \
    /ipv6/route/add dst-address=::/0 gateway=fe80::1%wg-host check-gateway=ping \
    comment="relay6:routed:route:default; default via the VPS" } else={ /ipv6/route/set \
    [/ipv6/route/find where comment~"^relay6:routed:route:default;"] dst-address=::/0 \
    gateway=fe80::1%wg-host check-gateway=ping \
    comment="relay6:routed:route:default; default via the VPS" }
# No BGP in static mode: remove what an earlier bgp-bfd render added.
/routing/bgp/connection/remove [/routing/bgp/connection/find where comment~"^relay6:routed:bgp:connection;"]
/routing/bgp/template/remove [/routing/bgp/template/find where comment~"^relay6:routed:bgp:template;"]
/routing/bfd/configuration/remove [/routing/bfd/configuration/find where comment~"^relay6:routed:bfd;"]

# Firewall. relay6's rules are removed and added again on every run, so they always sit
# in front of defconf's "defconf: drop everything else not coming from LAN" when it exists;
# without defconf in front of the chain's first drop rule; with none, at the end (the
# chain policy is accept, so they still act). In the forward chain they go in front of
# defconf's HIP/IKE/IPsec accepts (found by protocol and port), which would otherwise let
# unsolicited packets from the tunnel into the LAN; the source check heads the chain.
/ipv6/firewall/filter/remove [/ipv6/firewall/filter/find where comment~"^relay6:routed:fw:"]
/ipv6/firewall/mangle/remove [/ipv6/firewall/mangle/find where comment~"^relay6:routed:fw:"]
:if ([:len [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 in-interface=wg-host \
    comment="relay6:routed:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:routed:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 in-interface=wg-host \
    comment="relay6:routed:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:routed:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 \
    in-interface=wg-host \
    comment="relay6:routed:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    } }
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:routed:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=reject reject-with=icmp-admin-prohibited \
    out-interface=wg-host src-address="!2001:db8:4f8:10::/64" \
    comment="relay6:routed:fw:fwd-src; refuse traffic into the tunnel from sources outside 2001:db8:4f8:10::/64 (ICMPv6 administratively prohibited)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:routed:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=reject \
    reject-with=icmp-admin-prohibited out-interface=wg-host src-address="!2001:db8:4f8:10::/64" \
    comment="relay6:routed:fw:fwd-src; refuse traffic into the tunnel from sources outside 2001:db8:4f8:10::/64 (ICMPv6 administratively prohibited)" \
    }
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:routed:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:routed:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:routed:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" } } \
    } } } } }
/ipv6/firewall/filter/add chain=forward action=accept protocol=icmpv6 in-interface=wg-host \
    comment="relay6:routed:fw:fwd-icmpv6; accept ICMPv6 from the tunnel (RFC 4890; packet-too-big keeps path MTU discovery working)" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:routed:fw:fwd-drop;"] 0]
/ipv6/firewall/filter/add chain=forward action=accept \
    connection-state=established,related,untracked in-interface=wg-host \
    comment="relay6:routed:fw:fwd-established; accept replies from the tunnel" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:routed:fw:fwd-icmpv6;"] 0]
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1360 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1361-65535 out-interface=wg-host \
    comment="relay6:routed:fw:mss-out; clamp TCP MSS to 1360 into the tunnel"
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1360 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1361-65535 in-interface=wg-host \
    comment="relay6:routed:fw:mss-in; clamp TCP MSS to 1360 from the tunnel"

# RA drain: router lifetime 0 on every segment while relay6's ::/0 through the tunnel is gone,
# run every second by netwatch (every release, every device-mode).
# Static failover: a netwatch pings the VPS every second; 3 failed in a row disable the route.
:if ([:len [/system/script/find where comment~"^relay6:routed:drain;"]] = 0) do={ \
    /system/script/add name=relay6-routed-drain policy=read,write,test \
    source="# relay6 routed: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-host is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-host\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:routed:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:routed:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" \
    } else={ /system/script/set [/system/script/find where comment~"^relay6:routed:drain;"] \
    name=relay6-routed-drain policy=read,write,test \
    source="# relay6 routed: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-host is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-host\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:routed:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:routed:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" }
:if ([:len [/system/script/find where comment~"^relay6:routed:probe;"]] = 0) do={ \
    /system/script/add name=relay6-routed-probe policy=read,write,test \
    source="# relay6 routed: static failover. 3 failed probes of the VPS in a row disable relay6's ::/0, the first answer enables it.\n:global relay6routedmisses\n:if ([:typeof \$relay6routedmisses] != \"num\") do={ :set relay6routedmisses 0 }\n:if ([/tool/netwatch/get [/tool/netwatch/find where comment~\"^relay6:routed:probe-tick;\"] status] = \"up\") do={ :set relay6routedmisses 0 } else={ :set relay6routedmisses (\$relay6routedmisses + 1) }\n:if (\$relay6routedmisses = 0) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:routed:route:default;\" and disabled=yes] do={ /ipv6/route/set \$r disabled=no } }\n:if (\$relay6routedmisses >= 3) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:routed:route:default;\" and disabled=no] do={ /ipv6/route/set \$r disabled=yes } }\n/system/script/run relay6-routed-drain\n" \
    comment="relay6:routed:probe; static failover: 3 failed probes in a row disable relay6's ::/0" \
    } else={ /system/script/set [/system/script/find where comment~"^relay6:routed:probe;"] \
    name=relay6-routed-probe policy=read,write,test \
    source="# relay6 routed: static failover. 3 failed probes of the VPS in a row disable relay6's ::/0, the first answer enables it.\n:global relay6routedmisses\n:if ([:typeof \$relay6routedmisses] != \"num\") do={ :set relay6routedmisses 0 }\n:if ([/tool/netwatch/get [/tool/netwatch/find where comment~\"^relay6:routed:probe-tick;\"] status] = \"up\") do={ :set relay6routedmisses 0 } else={ :set relay6routedmisses (\$relay6routedmisses + 1) }\n:if (\$relay6routedmisses = 0) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:routed:route:default;\" and disabled=yes] do={ /ipv6/route/set \$r disabled=no } }\n:if (\$relay6routedmisses >= 3) do={ :foreach r in=[/ipv6/route/find where comment~\"^relay6:routed:route:default;\" and disabled=no] do={ /ipv6/route/set \$r disabled=yes } }\n/system/script/run relay6-routed-drain\n" \
    comment="relay6:routed:probe; static failover: 3 failed probes in a row disable relay6's ::/0" \
    }
:if ([:len [/tool/netwatch/find where comment~"^relay6:routed:drain-tick;"]] = 0) do={ \
    /tool/netwatch/add name=relay6-routed-drain host=127.0.0.1 type=simple interval=1s \
    test-script="/system/script/run relay6-routed-drain" \
    comment="relay6:routed:drain-tick; runs the RA drain every second (the router itself answers)" \
    } else={ /tool/netwatch/set [/tool/netwatch/find where comment~"^relay6:routed:drain-tick;"] \
    name=relay6-routed-drain host=127.0.0.1 type=simple interval=1s \
    test-script="/system/script/run relay6-routed-drain" \
    comment="relay6:routed:drain-tick; runs the RA drain every second (the router itself answers)" \
    }
:if ([:len [/tool/netwatch/find where comment~"^relay6:routed:probe-tick;"]] = 0) do={ \
    /tool/netwatch/add name=relay6-routed-probe host=fe80::1 type=simple interval=1s \
    timeout=900ms test-script="/system/script/run relay6-routed-probe" \
    comment="relay6:routed:probe-tick; pings the VPS's transit address every second (static failover)" \
    } else={ /tool/netwatch/set [/tool/netwatch/find where comment~"^relay6:routed:probe-tick;"] \
    name=relay6-routed-probe host=fe80::1 type=simple interval=1s timeout=900ms \
    test-script="/system/script/run relay6-routed-probe" \
    comment="relay6:routed:probe-tick; pings the VPS's transit address every second (static failover)" \
    }

:put "relay6: the router's WireGuard public key (router.publicKey in the site file):"
:put [/interface/wireguard/get [/interface/wireguard/find where comment~"^relay6:routed:wg;"] public-key]
