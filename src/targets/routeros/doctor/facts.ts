// A RouterOS export, read as the facts doctor's own checks and its site file need.
import type { RouterAddress, RouterFacts } from "../../../doctor/router.js";
import { parseAddress6, parsePrefix6 } from "../../../net/ipv6.js";
import { rosDurationMs } from "../duration.js";
import { adds, rosBool, type RosScript } from "./export.js";

function addresses(script: RosScript): RouterAddress[] {
  const out: RouterAddress[] = [];
  for (const c of adds(script, "/ipv6/address")) {
    if (rosBool(c.args.get("disabled")?.value) === true) continue;
    const text = c.args.get("address")?.value;
    const iface = c.args.get("interface")?.value;
    // from-pool addresses come from a delegated prefix (the ISP's), not from the relay.
    if (!text || !iface || c.args.has("from-pool")) continue;
    const withLen = text.includes("/") ? text : `${text}/64`; // RouterOS's default length
    const parsed = parsePrefix6(withLen);
    const address = parseAddress6(withLen.split("/")[0]!);
    if (!parsed.ok || address === undefined) continue;
    // RouterOS advertises every /64 address unless told advertise=no; an export leaves
    // the default out.
    const advertise = rosBool(c.args.get("advertise")?.value) ?? parsed.prefix.length === 64;
    out.push({ address, text: withLen, prefix: parsed.prefix, iface, advertise, line: c.args.get("address")!.line });
  }
  return out;
}

const int = (v: string | undefined): number | undefined => (v !== undefined && Number.isInteger(Number(v)) ? Number(v) : undefined);

export function routerosFacts(script: RosScript, origin: string): RouterFacts {
  const wgInterfaces = adds(script, "/interface/wireguard")
    .map((c) => c.args.get("name")?.value)
    .filter((x): x is string => x !== undefined);
  const peer = adds(script, "/interface/wireguard/peers").find((c) => c.args.has("endpoint-address"));
  const keepaliveMs = rosDurationMs(peer?.args.get("persistent-keepalive")?.value, "s");
  const conn = adds(script, "/routing/bgp/connection")[0];
  const instance = adds(script, "/routing/bgp/instance")[0];
  const routerId = instance?.args.get("router-id")?.value ?? conn?.args.get("router-id")?.value;
  const bfd = adds(script, "/routing/bfd/configuration")[0];
  const acceptAllFromTunnel = adds(script, "/ipv6/firewall/filter").some(
    (c) => c.args.get("chain")?.value === "input" && c.args.get("action")?.value === "accept" && wgInterfaces.includes(c.args.get("in-interface")?.value ?? "") && !c.args.has("protocol") && !c.args.has("dst-port"),
  );
  return {
    origin,
    version: script.version,
    wgInterfaces,
    addresses: addresses(script),
    bridges: adds(script, "/interface/bridge")
      .map((c) => c.args.get("name")?.value)
      .filter((x): x is string => !!x),
    peer: peer && {
      endpoint: peer.args.get("endpoint-address")?.value,
      publicKey: peer.args.get("public-key")?.value,
      keepaliveS: keepaliveMs === undefined ? undefined : Math.round(keepaliveMs / 1000),
      disabled: rosBool(peer.args.get("disabled")?.value) === true,
    },
    bgp: conn && {
      vpsAs: int(conn.args.get("remote.as")?.value),
      routerAs: int(instance?.args.get("as")?.value ?? conn.args.get("as")?.value),
      routerId: routerId && /^\d+\.\d+\.\d+\.\d+$/.test(routerId) ? routerId : undefined,
    },
    bfd: bfd && { intervalMs: rosDurationMs(bfd.args.get("min-rx")?.value, "ms"), multiplier: int(bfd.args.get("multiplier")?.value) },
    acceptAllFromTunnel,
  };
}
