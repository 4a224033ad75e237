// The checks a RouterOS script makes before its first change, each a `:error` that stops
// the import with the router untouched (RouterOS stops an import at its first error). The
// same checks, made over REST, are apply router's (apply/index.ts, apply/diff.ts).
import type { Plan } from "../../plan/plan.js";
import { releasePattern } from "./capabilities.js";
import { WG } from "./objects.js";
import { prefixRegex, tag } from "./quote.js";
import { anyFound, comment, notMatching, stopIf } from "./script.js";

/** The release the script was rendered for: users upgrade RouterOS after rendering, and
 *  commands differ between releases (an import would stop half way). */
export function releaseGuard(plan: Plan): string {
  const want = plan.router.version!;
  const exact = /^\d+\.\d+\.\d+$/.test(want.trim());
  return [
    comment(`Stop before any change unless the router runs RouterOS ${exact ? want : `${want}.x`}, the release this script is for.`),
    stopIf(
      notMatching("[/system/resource/get version]", releasePattern(want)),
      `relay6: this script is for RouterOS ${exact ? want : `${want}.x`} and the router runs another release (/system/resource/print): set router.version in the site file to it and render again; nothing was changed`,
    ),
  ].join("\n");
}

/** WireGuard's port: another interface listening on it would make the tunnel's interface
 *  fail to listen (relay6's own interface from an earlier import is not another). */
export function listenPortGuard(plan: Plan): string {
  const port = plan.wireguard.port;
  return [
    comment(`Stop unless UDP ${port} (wireguard.port) is free of other WireGuard interfaces.`),
    stopIf(
      anyFound(WG, [{ prop: "listen-port", num: port }, { prop: "comment", notRe: prefixRegex(tag(plan.site, "wg")) }]),
      `relay6: another WireGuard interface on the router already listens on UDP ${port}: set wireguard.port in the site file to a free port (and render again), or move that interface; nothing was changed`,
    ),
  ].join("\n");
}
