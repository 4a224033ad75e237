// Checks of an on-link /64 setup made by hand (the Vultr reserved /64 recipe): ndppd's
// rules (only `static` works toward WireGuard, and each LAN /64 must have one on the NIC),
// the VPS's own address inside a proxied /64, the kernel's proxy_ndp the recipe turns on,
// and a ULA on wg0 that can become the VPS's own source.
import type { Diagnostic } from "../../errors.js";
import { contains, containsAddress, formatPrefix6, LINK_LOCAL, ULA_RANGE } from "../../net/ipv6.js";
import { ruleFor } from "../../verify/ndppd.js";
import { diag } from "../codes.js";
import { allowedIpEntries, onLinkElements, vpsNic, vpsTunnelAddresses, type Parsed } from "../setup.js";
import type { Check } from "./check.js";

/** An on-link setup's checks concern a setup that shows any element of one. */
const onLinkSetup = (p: Parsed) => p.ndppd !== undefined || onLinkElements(p).length > 0;

const onLinkRecognised: Check = {
  codes: ["on-link-setup"],
  needs: [["ndppdConf", "sysctl", "wgConf"]],
  run(p) {
    const els = onLinkElements(p);
    // A ULA on wg0 alone is not enough to call it the on-link recipe.
    if (els.every((e) => e.startsWith("a ULA transit"))) return [];
    return [
      diag(
        "on-link-setup",
        `this is the on-link /64 recipe (a provider's /64 on the VPS's link, answered for by NDP proxying): recognised by ${els.join("; ")}`,
        "the site file below says vps.onLink: true; relay6 renders ndppd with static rules only and no proxy_ndp",
        p.ndppd?.origin ?? p.sysctl?.origin ?? p.wg?.origin,
      ),
    ];
  },
};

const ndppdNotStatic: Check = {
  relevant: onLinkSetup,
  codes: ["ndppd-rule-not-static"],
  needs: ["ndppdConf"],
  run(p) {
    const out: Diagnostic[] = [];
    for (const px of p.ndppd!.conf.proxies)
      for (const r of px.rules)
        if (r.method !== "static")
          out.push(
            diag(
              "ndppd-rule-not-static",
              `rule ${r.prefix} on proxy ${px.iface} uses \`${r.method}${r.via ? ` ${r.via}` : ""}\`: ndppd then asks the downstream side before answering, and toward WireGuard (layer 3, no multicast, no neighbour discovery) nobody can answer, so every packet to the LAN is lost`,
              "use `static` in the rule (answers at once for every address of it): `rule " + r.prefix + " { static }`",
              p.ndppd!.origin,
              r.line,
            ),
          );
    return out;
  },
};

const ndppdMissingLan: Check = {
  relevant: onLinkSetup,
  codes: ["ndppd-rule-missing"],
  needs: ["ndppdConf", "wgConf"],
  run(p) {
    const out: Diagnostic[] = [];
    const wg = p.wg!.iface;
    const nic = vpsNic(p);
    const proxies = p.ndppd!.conf.proxies;
    for (const e of allowedIpEntries(p)) {
      const x = e.prefix;
      if (!x || x.length !== 64 || contains(ULA_RANGE, x) || contains(LINK_LOCAL, x)) continue;
      const on = nic ?? proxies.find((px) => px.iface !== wg)?.iface ?? "";
      if (ruleFor(p.ndppd!.conf, on, x)) continue;
      const elsewhere = proxies.find((px) => px.iface !== on && ruleFor({ proxies: [px] }, px.iface, x));
      out.push(
        diag(
          "ndppd-rule-missing",
          `${formatPrefix6(x)} goes into the tunnel (AllowedIPs) but ndppd answers for it ${elsewhere ? `on ${elsewhere.iface}, not on the NIC ${on}` : `nowhere on ${on || "the NIC"}`}: the provider's solicitations for its hosts go unanswered and every packet to them is lost`,
          `add \`proxy ${on || "<nic>"} { rule ${formatPrefix6(x)} { static } }\` (the proxy listens where the provider asks: the VPS's NIC)`,
          p.ndppd!.origin,
          elsewhere?.line ?? proxies[0]?.line,
        ),
      );
    }
    return out;
  },
};

const vpsAddressProxied: Check = {
  relevant: onLinkSetup,
  codes: ["vps-address-proxied"],
  needs: ["ndppdConf", "ipAddr"],
  run(p) {
    const out: Diagnostic[] = [];
    const wg = p.wg?.iface ?? "wg0";
    const mine = new Set(vpsTunnelAddresses(p).map((a) => a.address));
    for (const a of p.addrs!.list) {
      if (a.dev === wg || a.dev === "lo" || mine.has(a.address) || containsAddress(LINK_LOCAL, a.address)) continue;
      for (const px of p.ndppd!.conf.proxies) {
        const r = px.rules.find((x) => x.net && containsAddress(x.net, a.address));
        if (!r) continue;
        out.push(
          diag(
            "vps-address-proxied",
            `the VPS's own address ${a.cidr} on ${a.dev} lies in ${r.prefix}, which ndppd answers for (${p.ndppd!.origin}:${r.line}): a static rule answers for every address of it, the VPS's own included, and its connected ${formatPrefix6(a.prefix)} on ${a.dev} competes with the route into the tunnel`,
            "give the VPS an address of another /64 (Vultr: the instance's own /64, not the reserved one) and keep the proxied /64 for the LAN",
            p.addrs!.origin,
            a.line,
          ),
        );
        break;
      }
    }
    return out;
  },
};

const proxyNdpUnneeded: Check = {
  relevant: onLinkSetup,
  codes: ["proxy-ndp-unneeded"],
  needs: ["sysctl"],
  run(p) {
    const on = [...p.sysctl!.values].filter(([k, v]) => /\.proxy_ndp$/.test(k) && v.value === "1");
    if (on.length === 0) return [];
    return [
      diag(
        "proxy-ndp-unneeded",
        `${on.map(([k]) => `${k} = 1`).join(", ")}: ndppd answers from its own socket and reads no proxy_ndp; the kernel's own proxy answers only addresses added one by one (\`ip -6 neigh add proxy\`), no use for SLAAC hosts whose addresses are not known`,
        "nothing breaks; relay6's render neither needs nor sets it (leave it, or drop it from sysctl.d)",
        p.sysctl!.origin,
        on[0]![1].line,
      ),
    ];
  },
};

const wgUlaSource: Check = {
  codes: ["wg-ula-source"],
  needs: ["wgConf"],
  run(p) {
    const ula = vpsTunnelAddresses(p).find((a) => contains(ULA_RANGE, a.prefix) && a.prefix.length < 128);
    if (!ula) return [];
    const postUp = p.wg!.conf.sections.flatMap((s) => s.entries).filter((e) => e.key.toLowerCase() === "postup");
    if (postUp.some((e) => /preferred_lft\s+0\b/.test(e.value))) return [];
    return [
      diag(
        "wg-ula-source",
        `${p.wg!.iface} holds the ULA ${formatPrefix6(ula.prefix)} as a preferred address: when the VPS's own global is deprecated, missing or tentative for a moment, the VPS picks the ULA as the source of its own traffic to the internet, and that traffic is lost`,
        `deprecate it in [Interface]: PostUp = ip -6 addr change <the ULA address>/64 dev %i preferred_lft 0 (BGP and BFD still run over it); relay6's render does this`,
        p.wg!.origin,
        ula.line,
      ),
    ];
  },
};

export const NDP_CHECKS: readonly Check[] = [onLinkRecognised, ndppdNotStatic, ndppdMissingLan, vpsAddressProxied, proxyNdpUnneeded, wgUlaSource];
