# relay6 test - managed by relay6; edits here are overwritten by the next render.
# site home, RouterOS 7.22: the router end of the relay (tunnel, addresses, RA, default route, firewall).
# Safe to import again: every object carries the tag relay6:home: in its comment,
# a re-run updates those objects and never touches others. Undo: relay6-home-undo.rsc.

# Stop before any change unless the router runs RouterOS 7.22.x, the release this script is for.
:if (!([/system/resource/get version] ~ "^7[.]22([. ]|\$)")) do={ :error "relay6: this script is for RouterOS 7.22.x and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed" }
# Stop unless UDP 51820 (wireguard.port) is free of other WireGuard interfaces.
:if ([:len [/interface/wireguard/find where listen-port=51820 and !(comment~"^relay6:home:wg;")]] > 0) do={ :error "relay6: another WireGuard interface on the router already listens on UDP 51820: set wireguard.port in the site file to a free port (and render again), or move that interface; nothing was changed" }

# WireGuard interface, with the private key relay6 made (this file is secret: mode 0600).
:if ([:len [/interface/wireguard/find where comment~"^relay6:home:wg;"]] = 0) do={ \
    /interface/wireguard/add name=wg-host listen-port=51820 mtu=1420 \
    private-key="4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=" \
    comment="relay6:home:wg; WireGuard tunnel to the VPS" } else={ /interface/wireguard/set \
    [/interface/wireguard/find where comment~"^relay6:home:wg;"] name=wg-host listen-port=51820 \
    mtu=1420 private-key="4IBOxUZeXgV2mE/2P6Ct4ztp43h9oYQnK7tLGKEIVUA=" \
    comment="relay6:home:wg; WireGuard tunnel to the VPS" }

# The VPS as the only peer. allowed-address ::/0: the default route decides what goes in.
:if ([:len [/interface/wireguard/peers/find where comment~"^relay6:home:peer;"]] = 0) do={ \
    /interface/wireguard/peers/add interface=wg-host name=relay6-home-vps \
    public-key="i+8WcECLHzKHJu4XhPUoTHbhJ1o5+GSC1IyWNvClLD4=" endpoint-address=203.0.113.10 \
    endpoint-port=51820 allowed-address=::/0 persistent-keepalive=25s \
    comment="relay6:home:peer; the VPS" } else={ /interface/wireguard/peers/set \
    [/interface/wireguard/peers/find where comment~"^relay6:home:peer;"] interface=wg-host \
    name=relay6-home-vps public-key="i+8WcECLHzKHJu4XhPUoTHbhJ1o5+GSC1IyWNvClLD4=" \
    endpoint-address=203.0.113.10 endpoint-port=51820 allowed-address=::/0 \
    persistent-keepalive=25s comment="relay6:home:peer; the VPS" }

# Addresses of segments no longer in the site file go; then the current ones.
/ipv6/address/remove [/ipv6/address/find where comment~"^relay6:home:addr:" and !(comment~"^relay6:home:(addr:transit|addr:lan|addr:guest|addr:iot);")]

# Transit address: the tunnel's own /64, never advertised to the LAN.
:if ([:len [/ipv6/address/find where comment~"^relay6:home:addr:transit;"]] = 0) do={ \
    /ipv6/address/add address=2401:4520:110b::2/64 interface=wg-host advertise=no \
    comment="relay6:home:addr:transit; tunnel transit" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:home:addr:transit;"] address=2401:4520:110b::2/64 \
    interface=wg-host advertise=no comment="relay6:home:addr:transit; tunnel transit" }

# Segment lan: 2401:4520:110b:1::/64 on bridge; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:home:addr:lan;"]] = 0) do={ \
    /ipv6/address/add address=2401:4520:110b:1::1/64 interface=bridge advertise=yes \
    comment="relay6:home:addr:lan; segment lan" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:home:addr:lan;"] address=2401:4520:110b:1::1/64 \
    interface=bridge advertise=yes comment="relay6:home:addr:lan; segment lan" }

# Segment guest: 2401:4520:110b:10::/64 on vlan10; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:home:addr:guest;"]] = 0) do={ \
    /ipv6/address/add address=2401:4520:110b:10::1/64 interface=vlan10 advertise=yes \
    comment="relay6:home:addr:guest; segment guest" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:home:addr:guest;"] \
    address=2401:4520:110b:10::1/64 interface=vlan10 advertise=yes \
    comment="relay6:home:addr:guest; segment guest" }

# Segment iot: 2401:4520:110b:11::/64 on vlan11; advertise=yes puts the /64 in its RA (SLAAC).
:if ([:len [/ipv6/address/find where comment~"^relay6:home:addr:iot;"]] = 0) do={ \
    /ipv6/address/add address=2401:4520:110b:11::1/64 interface=vlan11 advertise=yes \
    comment="relay6:home:addr:iot; segment iot" } else={ /ipv6/address/set \
    [/ipv6/address/find where comment~"^relay6:home:addr:iot;"] address=2401:4520:110b:11::1/64 \
    interface=vlan11 advertise=yes comment="relay6:home:addr:iot; segment iot" }

# Router advertisements. RouterOS keeps one /ipv6/nd entry per interface, so an existing
# one is set, not added to (its M and O flags stay as they are: DHCPv6 setups need them).
# mtu=1420 tells clients the tunnel MTU: a full-size packet
# would otherwise need an ICMPv6 packet-too-big that many paths drop.
/ipv6/nd/remove [/ipv6/nd/find where comment~"^relay6:home:nd:" and !(comment~"^relay6:home:(nd:bridge|nd:vlan10|nd:vlan11);")]
# The ra-lifetime of each entry relay6 did not make, recorded once: the RA drain and the undo set it back.
:foreach r in=[/system/script/find where comment~"^relay6:home:ra:" and !(comment~"^relay6:home:(ra:bridge|ra:vlan10|ra:vlan11);")] do={ /system/script/run $r; /system/script/remove $r }
:if ([:len [/ipv6/nd/find where interface="bridge" and !(comment~"^relay6:home:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:home:ra:bridge;"]] = 0) do={ /system/script/add name=relay6-home-ra-bridge source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"bridge\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="bridge"] 0] ra-lifetime]) comment="relay6:home:ra:bridge; the ra-lifetime bridge had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="vlan10" and !(comment~"^relay6:home:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:home:ra:vlan10;"]] = 0) do={ /system/script/add name=relay6-home-ra-vlan10 source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"vlan10\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="vlan10"] 0] ra-lifetime]) comment="relay6:home:ra:vlan10; the ra-lifetime vlan10 had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="vlan11" and !(comment~"^relay6:home:")]] > 0) do={ :if ([:len [/system/script/find where comment~"^relay6:home:ra:vlan11;"]] = 0) do={ /system/script/add name=relay6-home-ra-vlan11 source=("/ipv6/nd/set [/ipv6/nd/find where interface=\"vlan11\"] ra-lifetime=" . [/ipv6/nd/get [:pick [/ipv6/nd/find where interface="vlan11"] 0] ra-lifetime]) comment="relay6:home:ra:vlan11; the ra-lifetime vlan11 had before relay6; the RA drain and the undo set it back with this" } }
:if ([:len [/ipv6/nd/find where interface="bridge"]] = 0) do={ /ipv6/nd/add interface=bridge \
    advertise-dns=self mtu=1420 managed-address-configuration=no other-configuration=no \
    ra-lifetime=30m comment="relay6:home:nd:bridge; RA for lan" } else={ /ipv6/nd/set \
    [/ipv6/nd/find where interface="bridge"] advertise-dns=self mtu=1420 dns="" }
:if ([:len [/ipv6/nd/find where interface="vlan10"]] = 0) do={ /ipv6/nd/add interface=vlan10 \
    advertise-dns=self mtu=1420 managed-address-configuration=no other-configuration=no \
    ra-lifetime=30m comment="relay6:home:nd:vlan10; RA for guest" } else={ /ipv6/nd/set \
    [/ipv6/nd/find where interface="vlan10"] advertise-dns=self mtu=1420 dns="" }
:if ([:len [/ipv6/nd/find where interface="vlan11"]] = 0) do={ /ipv6/nd/add interface=vlan11 \
    advertise-dns=self mtu=1420 managed-address-configuration=no other-configuration=no \
    ra-lifetime=30m comment="relay6:home:nd:vlan11; RA for iot" } else={ /ipv6/nd/set \
    [/ipv6/nd/find where interface="vlan11"] advertise-dns=self mtu=1420 dns="" }

# No old /64s to advertise (previousPrefix): remove what an earlier render advertised.
/ipv6/nd/prefix/remove [/ipv6/nd/prefix/find where comment~"^relay6:home:nd-prefix:"]

# No VPS address in a LAN /64: remove what an earlier render added for one.
/ipv6/nd/proxy/remove [/ipv6/nd/proxy/find where comment~"^relay6:home:nd-proxy:vps;"]
/ipv6/route/remove [/ipv6/route/find where comment~"^relay6:home:route:vps;"]

# Default route learned by BGP from the VPS on a BFD-watched session: withdrawn
# ~600 ms after the tunnel goes silent (200 ms x 3).
# RouterOS 7.20+: the instance carries AS and router-id; the connection names it.
:if ([:len [/routing/bgp/instance/find where comment~"^relay6:home:bgp:instance;"]] = 0) do={ \
    /routing/bgp/instance/add name=relay6-home as=65001 router-id=10.0.0.2 \
    comment="relay6:home:bgp:instance; BGP to the VPS" } else={ /routing/bgp/instance/set \
    [/routing/bgp/instance/find where comment~"^relay6:home:bgp:instance;"] name=relay6-home \
    as=65001 router-id=10.0.0.2 comment="relay6:home:bgp:instance; BGP to the VPS" }
:if ([:len [/routing/bgp/template/find where comment~"^relay6:home:bgp:template;"]] = 0) do={ \
    /routing/bgp/template/add name=relay6-home as=65001 use-bfd=yes \
    comment="relay6:home:bgp:template; BGP to the VPS" } else={ /routing/bgp/template/set \
    [/routing/bgp/template/find where comment~"^relay6:home:bgp:template;"] name=relay6-home \
    as=65001 use-bfd=yes comment="relay6:home:bgp:template; BGP to the VPS" }
:if ([:len [/routing/bgp/connection/find where comment~"^relay6:home:bgp:connection;"]] = 0) do={ \
    /routing/bgp/connection/add name=relay6-home-vps instance=relay6-home templates=relay6-home \
    as=65001 remote.address=2401:4520:110b::1 remote.as=65002 local.address=2401:4520:110b::2 \
    local.role=ebgp use-bfd=yes afi=ipv6 \
    comment="relay6:home:bgp:connection; BGP session with the VPS" } else={ \
    /routing/bgp/connection/set \
    [/routing/bgp/connection/find where comment~"^relay6:home:bgp:connection;"] \
    name=relay6-home-vps instance=relay6-home templates=relay6-home as=65001 \
    remote.address=2401:4520:110b::1 remote.as=65002 local.address=2401:4520:110b::2 \
    local.role=ebgp use-bfd=yes afi=ipv6 \
    comment="relay6:home:bgp:connection; BGP session with the VPS" }
:if ([:len [/routing/bfd/configuration/find where comment~"^relay6:home:bfd;"]] = 0) do={ \
    /routing/bfd/configuration/add interfaces=wg-host min-rx=200ms min-tx=200ms multiplier=3 \
    comment="relay6:home:bfd; BFD timers on the tunnel" } else={ /routing/bfd/configuration/set \
    [/routing/bfd/configuration/find where comment~"^relay6:home:bfd;"] interfaces=wg-host \
    min-rx=200ms min-tx=200ms multiplier=3 comment="relay6:home:bfd; BFD timers on the tunnel" }
# The BGP route owns ::/0 now: remove the static default of an earlier static render.
/ipv6/route/remove [/ipv6/route/find where comment~"^relay6:home:route:default;"]

# Firewall. relay6's rules are removed and added again on every run, so they always sit
# in front of defconf's "defconf: drop everything else not coming from LAN" when it exists;
# without defconf in front of the chain's first drop rule; with none, at the end (the
# chain policy is accept, so they still act). In the forward chain they go in front of
# defconf's HIP/IKE/IPsec accepts (found by protocol and port), which would otherwise let
# unsolicited packets from the tunnel into the LAN; the source check heads the chain.
/ipv6/firewall/filter/remove [/ipv6/firewall/filter/find where comment~"^relay6:home:fw:"]
/ipv6/firewall/mangle/remove [/ipv6/firewall/mangle/find where comment~"^relay6:home:fw:"]
:if ([:len [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=3784 \
    src-address=2401:4520:110b::1 in-interface=wg-host \
    comment="relay6:home:fw:in-bfd; accept BFD from the VPS" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:home:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=3784 \
    src-address=2401:4520:110b::1 in-interface=wg-host \
    comment="relay6:home:fw:in-bfd; accept BFD from the VPS" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="input" and action="drop" and !(comment~"^relay6:home:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=input action=accept protocol=udp dst-port=3784 \
    src-address=2401:4520:110b::1 in-interface=wg-host \
    comment="relay6:home:fw:in-bfd; accept BFD from the VPS" } }
/ipv6/firewall/filter/add chain=input action=accept protocol=tcp dst-port=179 \
    src-address=2401:4520:110b::1 in-interface=wg-host \
    comment="relay6:home:fw:in-bgp; accept BGP from the VPS" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:home:fw:in-bfd;"] 0]
/ipv6/firewall/filter/add chain=input action=accept protocol=icmpv6 in-interface=wg-host \
    comment="relay6:home:fw:in-icmpv6; accept ICMPv6 from the tunnel (ND, ping, packet-too-big)" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:home:fw:in-bgp;"] 0]
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:home:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=reject reject-with=icmp-admin-prohibited \
    out-interface=wg-host src-address="!2401:4520:110b::/48" \
    comment="relay6:home:fw:fwd-src; refuse traffic into the tunnel from sources outside 2401:4520:110b::/48 (ICMPv6 administratively prohibited)" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and !(comment~"^relay6:home:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=reject \
    reject-with=icmp-admin-prohibited out-interface=wg-host src-address="!2401:4520:110b::/48" \
    comment="relay6:home:fw:fwd-src; refuse traffic into the tunnel from sources outside 2401:4520:110b::/48 (ICMPv6 administratively prohibited)" \
    }
:if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="139"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="udp" and dst-port="500,4500"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-ah"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and protocol="ipsec-esp"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="accept" and ipsec-policy="in,ipsec"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and comment="defconf: drop everything else not coming from LAN"] 0] \
    } else={ \
    :if ([:len [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:home:")]] > 0) do={ \
    /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" \
    place-before=[:pick [/ipv6/firewall/filter/find where chain="forward" and action="drop" and !(comment~"^relay6:home:")] 0] \
    } else={ /ipv6/firewall/filter/add chain=forward action=drop in-interface=wg-host \
    comment="relay6:home:fw:fwd-drop; drop unsolicited traffic from the tunnel to the LAN" } } } \
    } } } }
/ipv6/firewall/filter/add chain=forward action=accept protocol=icmpv6 in-interface=wg-host \
    comment="relay6:home:fw:fwd-icmpv6; accept ICMPv6 from the tunnel (RFC 4890; packet-too-big keeps path MTU discovery working)" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:home:fw:fwd-drop;"] 0]
/ipv6/firewall/filter/add chain=forward action=accept \
    connection-state=established,related,untracked in-interface=wg-host \
    comment="relay6:home:fw:fwd-established; accept replies from the tunnel" \
    place-before=[:pick [/ipv6/firewall/filter/find where comment~"^relay6:home:fw:fwd-icmpv6;"] 0]
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1360 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1361-65535 out-interface=wg-host \
    comment="relay6:home:fw:mss-out; clamp TCP MSS to 1360 into the tunnel"
/ipv6/firewall/mangle/add chain=forward action=change-mss new-mss=1360 passthrough=yes \
    protocol=tcp tcp-flags=syn tcp-mss=1361-65535 in-interface=wg-host \
    comment="relay6:home:fw:mss-in; clamp TCP MSS to 1360 from the tunnel"

# RA drain: router lifetime 0 on every segment while relay6's ::/0 through the tunnel is gone,
# run every second by netwatch (every release, every device-mode) and on BFD/BGP log lines.
/tool/netwatch/remove [/tool/netwatch/find where comment~"^relay6:home:probe-tick;"]
/system/script/remove [/system/script/find where comment~"^relay6:home:probe;"]
:if ([:len [/system/script/find where comment~"^relay6:home:drain;"]] = 0) do={ \
    /system/script/add name=relay6-home-drain policy=read,write,test \
    source="# relay6 home: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-host is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-host\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan10\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:vlan10;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan11\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:vlan11;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:home:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" \
    } else={ /system/script/set [/system/script/find where comment~"^relay6:home:drain;"] \
    name=relay6-home-drain policy=read,write,test \
    source="# relay6 home: RA drain. Router lifetime 0 on every segment while relay6's ::/0 through wg-host is gone.\n:local up ([:len [/ipv6/route/find where dst-address=\"::/0\" and active and immediate-gw~\"%wg-host\\\$\"]] > 0)\n:foreach n in=[/ipv6/nd/find where interface=\"bridge\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:bridge;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan10\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:vlan10;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n:foreach n in=[/ipv6/nd/find where interface=\"vlan11\"] do={ :if (\$up) do={ :if ([/ipv6/nd/get \$n ra-lifetime] = 0s) do={ :local r [/system/script/find where comment~\"^relay6:home:ra:vlan11;\"]; :if ([:len \$r] > 0) do={ /system/script/run \$r } else={ /ipv6/nd/set \$n ra-lifetime=30m } } } else={ :if ([/ipv6/nd/get \$n ra-lifetime] != 0s) do={ /ipv6/nd/set \$n ra-lifetime=0s } } }\n" \
    comment="relay6:home:drain; RA drain: router lifetime 0 while relay6's ::/0 is gone" }
:if ([:len [/tool/netwatch/find where comment~"^relay6:home:drain-tick;"]] = 0) do={ \
    /tool/netwatch/add name=relay6-home-drain host=127.0.0.1 type=simple interval=1s \
    test-script="/system/script/run relay6-home-drain" \
    comment="relay6:home:drain-tick; runs the RA drain every second (the router itself answers)" \
    } else={ /tool/netwatch/set [/tool/netwatch/find where comment~"^relay6:home:drain-tick;"] \
    name=relay6-home-drain host=127.0.0.1 type=simple interval=1s \
    test-script="/system/script/run relay6-home-drain" \
    comment="relay6:home:drain-tick; runs the RA drain every second (the router itself answers)" \
    }
:if ([:len [/system/logging/action/find where comment~"^relay6:home:drain-log;"]] = 0) do={ \
    /system/logging/action/add name=relay6home target=script script=relay6-home-drain \
    comment="relay6:home:drain-log; runs the RA drain on BFD and BGP log lines" } else={ \
    /system/logging/action/set \
    [/system/logging/action/find where comment~"^relay6:home:drain-log;"] name=relay6home \
    target=script script=relay6-home-drain \
    comment="relay6:home:drain-log; runs the RA drain on BFD and BGP log lines" }
:if ([:len [/system/logging/find where comment~"^relay6:home:drain-log:bfd;"]] = 0) do={ \
    /system/logging/add topics=bfd action=relay6home \
    comment="relay6:home:drain-log:bfd; BFD log lines run the RA drain" } else={ \
    /system/logging/set [/system/logging/find where comment~"^relay6:home:drain-log:bfd;"] \
    topics=bfd action=relay6home \
    comment="relay6:home:drain-log:bfd; BFD log lines run the RA drain" }
:if ([:len [/system/logging/find where comment~"^relay6:home:drain-log:bgp;"]] = 0) do={ \
    /system/logging/add topics=bgp action=relay6home \
    comment="relay6:home:drain-log:bgp; BGP log lines run the RA drain" } else={ \
    /system/logging/set [/system/logging/find where comment~"^relay6:home:drain-log:bgp;"] \
    topics=bgp action=relay6home \
    comment="relay6:home:drain-log:bgp; BGP log lines run the RA drain" }

:put "relay6: the router's WireGuard public key (router.publicKey in the site file):"
:put [/interface/wireguard/get [/interface/wireguard/find where comment~"^relay6:home:wg;"] public-key]
