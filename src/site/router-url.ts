// The rules for a router's REST base URL, wherever one is accepted (--router-url,
// RELAY6_ROUTER_URL, router.api.url in the site file, doctor's --router-url). Pure, and in
// site/ because the site schema uses it; the REST client (src/remote/routeros-rest.ts)
// applies the same rules to the URLs the flags and the environment give.
import { isIPv4 } from "../net/ipv6.js";

export type RouterUrlCheck =
  | { ok: true; url: URL }
  /** `problem` finishes "the router URL X ..."; `must` is the same rule as "must be ...";
   *  neither repeats any part of the URL. */
  | { ok: false; problem: string; must: string; fix: string };

const CREDENTIALS_FIX =
  "remove `user:password@` from the URL; give the credentials with RELAY6_ROUTER_USER and RELAY6_ROUTER_PASSWORD, or --router-credentials FILE (mode 0600)";
const BASE_FIX = "give only the base URL, https://HOST or https://HOST:PORT (relay6 adds /rest)";

/** Plain http goes only to a literal loopback address: 127.0.0.0/8, ::1, or exactly
 *  `localhost` (say, an SSH tunnel to the router). A name that merely starts with "127."
 *  is a DNS name like any other. `hostname` is as URL gives it (IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || (isIPv4(hostname) && hostname.startsWith("127."));
}

export function checkRouterUrl(raw: string): RouterUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: "is not a URL", must: "must be a URL such as https://192.168.88.1", fix: "give the router's REST base URL, e.g. https://192.168.88.1" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, problem: "is neither https:// nor http://", must: "must be an https:// URL such as https://192.168.88.1", fix: "give the router's REST base URL, e.g. https://192.168.88.1" };
  if (url.username !== "" || url.password !== "")
    return {
      ok: false,
      problem: "holds a user name or password",
      must: "must be a URL without user name or password (credentials go in RELAY6_ROUTER_PASSWORD or a --router-credentials file)",
      fix: CREDENTIALS_FIX,
    };
  if (url.search !== "" || url.hash !== "" || url.pathname !== "/")
    return { ok: false, problem: "has a path, query or fragment", must: "must be the base URL alone, e.g. https://192.168.88.1 (relay6 adds /rest)", fix: BASE_FIX };
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname))
    return {
      ok: false,
      problem: "is plain http to a host that is not a loopback address: the router password would cross the network in the clear",
      must: "must be https://, or http:// only to 127.0.0.1, ::1 or localhost (plain http sends the password in the clear)",
      fix: "use https:// (the router's www-ssl service, with --router-fingerprint or --router-ca), or plain http only through a tunnel to 127.0.0.1, ::1 or localhost",
    };
  return { ok: true, url };
}

/** What is shown for text that is not an http(s) URL with a host name one can show. */
export const HIDDEN_URL = "(not shown: not an http(s) URL)";

// A host as it may be shown: a name, an IPv4 address or a bracketed IPv6 one, and a port.
const SHOWABLE_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;

/** A URL as it may be shown: scheme://host[:port] only, with `/…` when it has more. User
 *  info, path, query and fragment may each hold a secret (a password pasted in the wrong
 *  place), so none is shown. Text that does not parse as an http(s) URL is shown as its
 *  http(s):// and the host name or address after its last `@`, or else only as not a URL. */
export function showUrl(raw: string, base?: string): string {
  try {
    const u = new URL(raw, base);
    if ((u.protocol === "https:" || u.protocol === "http:") && u.host !== "" && SHOWABLE_HOST.test(u.host)) {
      const more = u.pathname !== "/" || u.search !== "" || u.hash !== "";
      return `${u.protocol}//${u.host}/${more ? "…" : ""}`;
    }
  } catch {
    // not a URL: below
  }
  const scheme = /^https?:\/\//i.exec(raw)?.[0];
  if (scheme === undefined) return HIDDEN_URL;
  const rest = raw.slice(scheme.length);
  const host = /^[^/?#]*/.exec(rest.slice(rest.lastIndexOf("@") + 1))![0];
  if (!SHOWABLE_HOST.test(host)) return HIDDEN_URL;
  return `${scheme}${host}${raw.length > scheme.length + host.length ? "…" : ""}`;
}
