// Checks of the VPS's `ufw status verbose`: BGP and BFD allowed in on the tunnel, no
// forwarding of unsolicited traffic into the LAN.
import type { Diagnostic } from "../../errors.js";
import { formatAddress6 } from "../../net/ipv6.js";
import { diag } from "../codes.js";
import { hasBgp, routerTransit } from "../setup.js";
import { portIncludes, type UfwStatusRule } from "../ufw.js";
import { ROUTER, type Check } from "./check.js";

/** Applies to IPv6: `(v6)` rules, or rules naming an IPv6 address. */
const v6Rule = (r: UfwStatusRule) => r.v6 || r.to.address.includes(":") || r.from.address.includes(":");

/** `OpenSSH`, `Nginx Full`: application profiles, which name their own ports. */
const isAppProfile = (address: string) => address !== "Anywhere" && !/[:.]/.test(address);

const ufwBgpBfd: Check = {
  codes: ["ufw-blocks-bgp-bfd"],
  needs: ["ufwStatus", ["birdConf", ROUTER]],
  run(p) {
    const st = p.ufw!.status;
    const incoming = st.defaults?.incoming;
    if (!st.active || !hasBgp(p) || (incoming !== "deny" && incoming !== "reject")) return [];
    const wg = p.wg?.iface ?? "wg0";
    const allows = (port: number, proto: string) =>
      st.rules.some(
        (r) =>
          (r.action === "ALLOW" || r.action === "LIMIT") &&
          (r.direction === undefined || r.direction === "IN") &&
          v6Rule(r) &&
          (r.to.iface === undefined || r.to.iface === wg) &&
          (r.to.proto === undefined || r.to.proto === proto) &&
          !isAppProfile(r.to.address) &&
          portIncludes(r.to.port, port),
      );
    const t = routerTransit(p);
    const rtr = t ? formatAddress6(t.address) : "<router transit address>";
    const missing = [allows(179, "tcp") ? undefined : "BGP (TCP 179)", allows(3784, "udp") ? undefined : "BFD (UDP 3784)"].filter((x) => x);
    if (missing.length === 0) return [];
    return [
      diag(
        "ufw-blocks-bgp-bfd",
        `ufw is active with default ${incoming} incoming and nothing allows ${missing.join(" or ")} in on ${wg}: the router's BFD goes down within seconds, its BGP connects are dropped and it loses its default route`,
        `ufw allow in on ${wg} from ${rtr} to any port 179 proto tcp; ufw allow in on ${wg} from ${rtr} to any port 3784 proto udp`,
        p.ufw!.origin,
        st.defaults?.line ?? st.statusLine,
      ),
    ];
  },
};

const ufwRouteOut: Check = {
  codes: ["ufw-route-allows-inbound"],
  needs: ["ufwStatus"],
  run(p) {
    const st = p.ufw!.status;
    if (!st.active) return [];
    const wg = p.wg?.iface ?? "wg0";
    // `ufw route allow out on wg0` prints as `Anywhere on wg0  ALLOW FWD  Anywhere`: no
    // source, port or inbound interface, so a NEW connection from any internet host to
    // any LAN host is forwarded.
    const r = st.rules.find(
      (x) =>
        x.action === "ALLOW" &&
        x.direction === "FWD" &&
        v6Rule(x) &&
        x.to.iface === wg &&
        x.to.port === undefined &&
        x.to.address === "Anywhere" &&
        x.from.address === "Anywhere" &&
        x.from.iface !== wg,
    );
    if (!r) return [];
    return [
      diag(
        "ufw-route-allows-inbound",
        `ufw forwards anything out on ${wg}${r.from.iface ? ` from ${r.from.iface}` : ""}: any internet host can open connections to every LAN host (replies to LAN-started traffic pass without it)`,
        `ufw route delete allow out on ${wg}; for a service that must be reachable: ufw route allow out on ${wg} to <host> port <port> proto tcp`,
        p.ufw!.origin,
        r.line,
      ),
    ];
  },
};

export const UFW_CHECKS: readonly Check[] = [ufwBgpBfd, ufwRouteOut];
