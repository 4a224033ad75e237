// Live RouterOS sources for doctor, giving the text an export file would:
//   - over SSH: `/export terse`
//   - over REST: the menus doctor reads, written out as an export would show them
import type { DoctorSource } from "../../../doctor/inputs.js";
import { RestError, type RosObject, type RouterOsRest } from "../../../remote/routeros-rest.js";
import type { SshSession } from "../../../remote/ssh.js";
import { value } from "../quote.js";

export function sshRouterOsSource(session: SshSession): DoctorSource {
  const who = `ssh ${session.target.user}@${session.target.host}`;
  return {
    description: who,
    async read() {
      // RouterOS's /export hides private keys unless asked (show-sensitive): never ask.
      const text = await session.run("/export terse");
      return { routerosExport: { origin: `${who}: /export terse`, text } };
    },
  };
}

/** The menus doctor reads, in export order. */
const REST_MENUS = [
  "/interface/wireguard",
  "/interface/wireguard/peers",
  "/ipv6/address",
  "/ipv6/route",
  "/ipv6/nd",
  "/ipv6/firewall/filter",
  "/routing/bgp/instance",
  "/routing/bgp/template",
  "/routing/bgp/connection",
  "/routing/bfd/configuration",
];

/** Properties REST shows that are state, not configuration (an export leaves them out),
 *  and the secret an export hides. */
const NOT_CONFIG = new Set([
  "private-key", "dynamic", "invalid", "running", "inactive", "actual-mtu", "last-handshake", "rx", "tx",
  "current-endpoint-address", "current-endpoint-port", "public-key-of-interface", "active", "connect", "ecmp",
  "immediate-gw", "local-address", "routing-table", "scope", "target-scope", "bytes", "packets", "deprecated",
  "link-local", "eui-64", "from-pool", "global", "slave", "default", "hw-offload", "bgp", "static", "hw-offloaded",
]);

/** One REST object as an export's `add` line (terse: one line, menu in front). */
export function exportLine(menu: string, obj: RosObject): string {
  const args = Object.entries(obj)
    .filter(([k, v]) => !k.startsWith(".") && !NOT_CONFIG.has(k) && v !== "")
    .filter(([k, v]) => !(k === "disabled" && v === "false") && !(k === "comment" && v === undefined))
    .map(([k, v]) => `${k}=${value(v === "true" ? "yes" : v === "false" ? "no" : v)}`)
    .sort();
  return `${menu.replace(/\//g, " ").trim().replace(/^/, "/")} add ${args.join(" ")}`;
}

export function restRouterOsSource(rest: RouterOsRest): DoctorSource {
  const who = `rest ${rest.target.url}`;
  return {
    description: who,
    async read() {
      const version = await rest.version();
      const lines = [`# by RouterOS ${version} (written by relay6 doctor from the REST API: configuration only, no secrets)`];
      for (const menu of REST_MENUS) {
        let items: RosObject[];
        try {
          items = await rest.get(menu);
        } catch (e) {
          // A menu this release does not have (/routing/bgp/instance before 7.20); anything
          // else (no answer, a deadline, 401) ends the run.
          if (e instanceof RestError && (e.status === 400 || e.status === 404)) continue;
          throw e;
        }
        for (const o of items) if (o.dynamic !== "true") lines.push(exportLine(menu, o));
      }
      return { routerosExport: { origin: `${who}: GET ${REST_MENUS.join(", ")}`, text: lines.join("\n") + "\n" } };
    },
  };
}
