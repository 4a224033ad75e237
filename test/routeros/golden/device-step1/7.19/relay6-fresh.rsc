# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site fresh, RouterOS 7.19: step 1 of 2 (wireguard.keys: device, no vps.publicKey yet).
# Creates the tunnel interface and prints the router's public key. Put the VPS's
# public key into vps.publicKey and the router's into router.publicKey, render
# again, and import the full script.

# Stop before any change unless the router runs RouterOS 7.19.x, the release this script is for.
:if (!([/system/resource/get version] ~ "^7[.]19([. ]|\$)")) do={ :error "relay6: this script is for RouterOS 7.19.x and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed" }
# Stop unless UDP 51820 (wireguard.port) is free of other WireGuard interfaces.
:if ([:len [/interface/wireguard/find where listen-port=51820 and !(comment~"^relay6:fresh:wg;")]] > 0) do={ :error "relay6: another WireGuard interface on the router already listens on UDP 51820: set wireguard.port in the site file to a free port (and render again), or move that interface; nothing was changed" }

# WireGuard interface; RouterOS makes its private key, relay6 never sees it.
:if ([:len [/interface/wireguard/find where comment~"^relay6:fresh:wg;"]] = 0) do={ \
    /interface/wireguard/add name=wg-host listen-port=51820 mtu=1420 \
    comment="relay6:fresh:wg; WireGuard tunnel to the VPS" } else={ /interface/wireguard/set \
    [/interface/wireguard/find where comment~"^relay6:fresh:wg;"] name=wg-host listen-port=51820 \
    mtu=1420 comment="relay6:fresh:wg; WireGuard tunnel to the VPS" }
:put "relay6: the router's WireGuard public key (router.publicKey in the site file):"
:put [/interface/wireguard/get [/interface/wireguard/find where comment~"^relay6:fresh:wg;"] public-key]
:put "relay6: step 1 done. Set vps.publicKey in the site file, run relay6 render again and import the new script."
