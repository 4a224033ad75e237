// vps.onLink: the provider expects the prefix's addresses on the VPS's own link and sends
// neighbour solicitations for them; nothing on that link holds them, so ndppd answers on
// the NIC in their place and the kernel routes what then arrives into wg0.
//
// Only `static` rules. WireGuard is layer 3: no multicast, no neighbour discovery. An
// `iface wg0` rule forwards the solicitation into wg0, where it matches no peer's
// AllowedIPs and is dropped (nobody would answer it anyway), and `auto` opens wg0 the
// same way; both lose every packet to the LAN, replies to the LAN's own connections
// included (proven in the lab: test/lab/kinds.test.ts). `static` answers at once, from
// the rule alone. No ttl/timeout lines: they apply to iface/auto sessions only. ndppd
// reads no proxy_ndp sysctl and needs none.
import type { RelayPlan } from "../../plan/relay.js";
import { header } from "../../render/header.js";

/** relay6's own directory (the Linux router keeps frr-daemons there too): ndppd is given
 *  -c, and Debian's /etc/ndppd.conf stays whatever it was. */
export const NDPPD_CONF = "/etc/relay6/ndppd.conf";
export const NDPPD_BIN = "/usr/sbin/ndppd";
/** The unit's name: it replaces the one systemd generates from Debian's /etc/init.d/ndppd
 *  (units in /etc/systemd/system win over generated ones), so one ndppd runs. */
export const NDPPD_UNIT = "ndppd.service";

export function renderNdppdConf(relay: RelayPlan): string {
  const rules = relay.vps.ndp?.rules ?? [];
  if (rules.length === 0) throw new Error("internal: ndppd.conf rendered without rules");
  return [
    ...header(relay, "#", "ndppd: answers the provider's neighbour solicitations for the relayed addresses (vps.onLink)."),
    "# static: answers at once, from the rule alone. WireGuard (wg0) has no neighbour",
    "# discovery, so `iface wg0` and `auto` could never learn an answer there.",
    `proxy ${relay.vps.nic} {`,
    ...rules.flatMap((r) => [`  rule ${r} {`, "    static", "  }"]),
    "}",
    "",
  ].join("\n");
}

/** Restart=always: Debian's and Ubuntu's ndppd (0.2.5) is known to exit or lose its
 *  answers now and then; without ndppd every packet to the LAN is lost. */
export function renderNdppdUnit(relay: RelayPlan): string {
  return [
    ...header(relay, "#", "ndppd for the relay (replaces the unit generated from /etc/init.d/ndppd)."),
    "[Unit]",
    "Description=relay6: NDP proxy for the relayed prefix (ndppd, static rules)",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=${NDPPD_BIN} -c ${NDPPD_CONF}`,
    "Restart=always",
    "RestartSec=1s",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
