// Where each site's router sits in a relay's transit /64: one /128 per router, chosen from
// the site's NAME alone, so that adding, removing or reordering sites never moves another
// site's address (its BGP session, its firewall rules and its wg0 peer stay as they are).
//
// The interface id (the low 64 bits) is the first 64 bits of sha256("relay6-transit:" +
// name). An id that is reserved is skipped deterministically by hashing again with a
// counter ("relay6-transit:" + name + "#1", "#2", ...): ::0 (the subnet-router anycast),
// ::1 (the VPS), ::2 (the router of a standalone site), and the ranges RFC 5453 lists
// (the IANA Ethernet block 0200:5eff:fe00:0000-0200:5eff:feff:ffff, the subnet anycast
// fdff:ffff:ffff:ff80-fdff:ffff:ffff:ffff). A site entry may pin its id instead
// (`transit: "::100"`); two sites on one id are a lint error, never resolved silently
// (that would make one site's address depend on the others).
import { createHash } from "node:crypto";
import { containsAddress, parseAddress6, type Prefix6 } from "../net/ipv6.js";

const IID_BITS = 64n;
const IID_MASK = (1n << IID_BITS) - 1n;

/** The interface ids relay6 never hands out: its own and RFC 5453's. */
export function isReservedInterfaceId(iid: bigint, opts: { allowStandaloneRouter?: boolean } = {}): boolean {
  if (iid === 0n || iid === 1n) return true;
  if (iid === 2n) return !opts.allowStandaloneRouter;
  if (iid >= 0x02005efffe000000n && iid <= 0x02005efffeffffffn) return true;
  return iid >= 0xfdffffffffffff80n && iid <= 0xfdffffffffffffffn;
}

/** The interface id a site named `name` gets in its relay's transit /64. */
export function transitInterfaceId(name: string): bigint {
  for (let n = 0; ; n++) {
    const digest = createHash("sha256").update(`relay6-transit:${name}${n === 0 ? "" : `#${n}`}`).digest();
    const iid = digest.readBigUInt64BE(0);
    if (!isReservedInterfaceId(iid)) return iid;
  }
}

export type PinParse = { ok: true; iid: bigint } | { ok: false; reason: string };

/** A site entry's `transit:` pin: an interface id written as an address with the top 64
 *  bits zero ("::100"), or a full address inside the relay's transit /64. */
export function parseTransitPin(text: string, transit: Prefix6): PinParse {
  const a = parseAddress6(text);
  if (a === undefined) return { ok: false, reason: `"${text}" is not an IPv6 address` };
  const inTransit = containsAddress(transit, a);
  if (!inTransit && a >> IID_BITS !== 0n)
    return { ok: false, reason: `${text} is neither an interface id ("::100") nor an address of the transit /64` };
  const iid = a & IID_MASK;
  if (isReservedInterfaceId(iid, { allowStandaloneRouter: true }))
    return { ok: false, reason: `interface id ${text} is reserved (::0 is the subnet-router anycast, ::1 the VPS, and RFC 5453's ranges)` };
  return { ok: true, iid };
}
