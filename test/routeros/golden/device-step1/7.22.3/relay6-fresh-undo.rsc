# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site fresh, RouterOS 7.22.3: undo. Removes every object whose comment starts with relay6:fresh: - what relay6
# added - and nothing else. /ipv6/nd entries that existed before relay6 set them stay (RouterOS
# keeps one per interface); their ra-lifetime, which the RA drain set, goes back to the value
# relay6 recorded before it touched them.
# Removing the WireGuard interface discards the router's private key.

# Stop before any change unless the router runs RouterOS 7.22.3, the release this script is for.
:if (!([/system/resource/get version] ~ "^7[.]22[.]3( |\$)")) do={ :error "relay6: this script is for RouterOS 7.22.3 and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed" }

# The RA drain first: its ticks stop, every ra-lifetime relay6 recorded is set back.
/system/logging/remove [/system/logging/find where comment~"^relay6:fresh:"]
/system/logging/action/remove [/system/logging/action/find where comment~"^relay6:fresh:"]
/tool/netwatch/remove [/tool/netwatch/find where comment~"^relay6:fresh:"]
:foreach r in=[/system/script/find where comment~"^relay6:fresh:ra:"] do={ /system/script/run $r }
/system/script/remove [/system/script/find where comment~"^relay6:fresh:"]

/ipv6/firewall/mangle/remove [/ipv6/firewall/mangle/find where comment~"^relay6:fresh:"]
/ipv6/firewall/filter/remove [/ipv6/firewall/filter/find where comment~"^relay6:fresh:"]
/routing/bfd/configuration/remove [/routing/bfd/configuration/find where comment~"^relay6:fresh:"]
/routing/bgp/connection/remove [/routing/bgp/connection/find where comment~"^relay6:fresh:"]
/routing/bgp/template/remove [/routing/bgp/template/find where comment~"^relay6:fresh:"]
/routing/bgp/instance/remove [/routing/bgp/instance/find where comment~"^relay6:fresh:"]
/ipv6/route/remove [/ipv6/route/find where comment~"^relay6:fresh:"]
/ipv6/nd/proxy/remove [/ipv6/nd/proxy/find where comment~"^relay6:fresh:"]
/ipv6/nd/prefix/remove [/ipv6/nd/prefix/find where comment~"^relay6:fresh:"]
/ipv6/nd/remove [/ipv6/nd/find where comment~"^relay6:fresh:"]
/ipv6/address/remove [/ipv6/address/find where comment~"^relay6:fresh:"]
/interface/wireguard/peers/remove [/interface/wireguard/peers/find where comment~"^relay6:fresh:"]
/interface/wireguard/remove [/interface/wireguard/find where comment~"^relay6:fresh:"]
:put "relay6: removed the objects of site fresh."
