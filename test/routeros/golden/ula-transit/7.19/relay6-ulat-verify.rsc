# relay6 0.0.0-test - managed by relay6; edits here are overwritten by the next render.
# site ulat, RouterOS 7.19: verification. Prints each check with what a working relay shows; lines starting FAIL need attention.

:put "expect: peer relay6-ulat-vps with a last-handshake under 3 minutes"
/interface/wireguard/peers/print detail where interface="wg-host"
:put "expect: state=up actual-tx-interval=200ms hold-time=600ms"
/routing/bfd/session/print
:put "expect: flag E (established) for relay6-ulat-vps, prefix-count=1"
/routing/bgp/session/print
:put "expect: exactly one ::/0, flags DAb, gateway fe80::1%wg-host, distance=20"
/ipv6/route/print where dst-address="::/0"
:if ([:len [/ipv6/route/find where dst-address="::/0"]] != 1) do={ :put "FAIL: expected exactly one ::/0 route" }
:put "expect: 3 replies from 2606:4700:4700::1111 (Cloudflare via the VPS)"
/tool/ping address=2606:4700:4700::1111 count=3
