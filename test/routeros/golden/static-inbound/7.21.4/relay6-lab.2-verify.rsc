# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site lab.2, RouterOS 7.21.4: verification. Prints each check with what a working relay shows; lines starting FAIL need attention.

:put "expect: peer relay6-lab.2-vps with a last-handshake under 3 minutes"
/interface/wireguard/peers/print detail where interface="wg-relay"
:put "expect: exactly one ::/0, active, gateway 2001:db8:4400::1%wg-relay, check-gateway=ping"
/ipv6/route/print where dst-address="::/0"
:if ([:len [/ipv6/route/find where dst-address="::/0"]] != 1) do={ :put "FAIL: expected exactly one ::/0 route" }
:put "expect: 3 replies from 2606:4700:4700::1111 (Cloudflare via the VPS)"
/tool/ping address=2606:4700:4700::1111 count=3
