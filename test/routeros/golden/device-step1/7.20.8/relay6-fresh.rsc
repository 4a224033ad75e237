# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site fresh, RouterOS 7.20.8: step 1 of 2 (wireguard.keys: device, no vps.publicKey yet).
# Creates the tunnel interface and prints the router's public key. Put the VPS's
# public key into vps.publicKey and the router's into router.publicKey, render
# again, and import the full script.

# WireGuard interface; RouterOS makes its private key, relay6 never sees it.
:if ([:len [/interface/wireguard/find where comment~"^relay6:fresh:wg;"]] = 0) do={ \
    /interface/wireguard/add name=wg-host listen-port=51820 mtu=1420 \
    comment="relay6:fresh:wg; WireGuard tunnel to the VPS" } else={ /interface/wireguard/set \
    [/interface/wireguard/find where comment~"^relay6:fresh:wg;"] name=wg-host listen-port=51820 \
    mtu=1420 comment="relay6:fresh:wg; WireGuard tunnel to the VPS" }
:put "relay6: the router's WireGuard public key (router.publicKey in the site file):"
:put [/interface/wireguard/get [/interface/wireguard/find where comment~"^relay6:fresh:wg;"] public-key]
:put "relay6: step 1 done. Set vps.publicKey in the site file, run relay6 render again and import the new script."
