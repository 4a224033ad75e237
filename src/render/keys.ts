// Which WireGuard keys each end uses: the one place that decides, for every target and for
// verify. keys: relay6 — relay6 made both private keys (the secrets file); each public key
// is derived from them, and a public key left in the site file is ignored (lint says so:
// public-key-ignored). keys: device — each end made its own; the site file holds the
// public keys once they are known, and relay6 holds no private key.
import { publicKeyOf } from "../keys/wireguard.js";
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";
import { siteContext, type RelayRenderContext, type Secrets } from "./types.js";

type End = "vps" | "router";

/** Who makes `end`'s key. Under a relay each end has its own mode (the relay file's for
 *  the VPS, the site file's for the router); a standalone site has one for both. */
export function keysOf(end: End, plan: Plan): "relay6" | "device" {
  return end === "vps" ? (plan.vps.keys ?? plan.wireguard.keys) : plan.wireguard.keys;
}

/** The public key of `end`, as its peer must name it; undefined while it is not known yet
 *  (keys: device, step 1 of the key exchange). */
export function publicKeyFor(end: End, plan: Plan, secrets: Secrets): string | undefined {
  if (keysOf(end, plan) === "device") return plan[end].publicKey;
  const priv = privateKeyFor(end, plan, secrets);
  return priv === undefined ? undefined : publicKeyOf(priv);
}

/** The private key relay6 installs on `end`: only with keys: relay6. */
export function privateKeyFor(end: End, plan: Plan, secrets: Secrets): string | undefined {
  if (keysOf(end, plan) === "device") return undefined;
  return end === "vps" ? secrets.vpsPrivateKey : secrets.routerPrivateKey;
}

/** Each site's router public key as the VPS's wg0 names it (undefined: not known yet). */
export function routerKeysOf(relay: RelayPlan, ctx: RelayRenderContext): Map<string, string | undefined> {
  return new Map(relay.sites.map((p) => [p.site, publicKeyFor("router", p, siteContext(ctx, p.site).secrets)]));
}

/** The VPS's own private key, when relay6 makes it. */
export function vpsPrivateKeyOf(relay: RelayPlan, ctx: RelayRenderContext): string | undefined {
  return relay.wireguard.keys === "device" ? undefined : ctx.secrets.vpsPrivateKey;
}
