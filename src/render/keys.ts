// Which WireGuard keys each end uses: the one place that decides, for every target and for
// verify. keys: relay6 — relay6 made both private keys (the secrets file); each public key
// is derived from them, and a public key left in the site file is ignored (lint says so:
// public-key-ignored). keys: device — each end made its own; the site file holds the
// public keys once they are known, and relay6 holds no private key.
import { publicKeyOf } from "../keys/wireguard.js";
import type { Plan } from "../plan/plan.js";
import type { Secrets } from "./types.js";

type End = "vps" | "router";

/** The public key of `end`, as its peer must name it; undefined while it is not known yet
 *  (keys: device, step 1 of the key exchange). */
export function publicKeyFor(end: End, plan: Plan, secrets: Secrets): string | undefined {
  if (plan.wireguard.keys === "device") return plan[end].publicKey;
  const priv = privateKeyFor(end, plan, secrets);
  return priv === undefined ? undefined : publicKeyOf(priv);
}

/** The private key relay6 installs on `end`: only with keys: relay6. */
export function privateKeyFor(end: End, plan: Plan, secrets: Secrets): string | undefined {
  if (plan.wireguard.keys === "device") return undefined;
  return end === "vps" ? secrets.vpsPrivateKey : secrets.routerPrivateKey;
}
