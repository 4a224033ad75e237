# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site routed, RouterOS 7.24: verification. Prints each check with what a working relay shows; lines starting FAIL need attention.

:put "expect: peer relay6-routed-vps with a last-handshake under 3 minutes"
/interface/wireguard/peers/print detail where interface="wg-host"
:put "expect: exactly one ::/0, active, gateway fe80::1%wg-host, check-gateway=ping"
/ipv6/route/print where dst-address="::/0"
:if ([:len [/ipv6/route/find where dst-address="::/0"]] != 1) do={ :put "FAIL: expected exactly one ::/0 route" }
:put "expect: 3 replies from 2606:4700:4700::1111 (Cloudflare via the VPS)"
/tool/ping address=2606:4700:4700::1111 count=3
