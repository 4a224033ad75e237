// Checks of the VPS's bird.conf: BFD on the BGP session, an active BFD neighbor, timers
// that let the session come back at once.
import type { Diagnostic } from "../../errors.js";
import { diag } from "../codes.js";
import type { Check } from "./check.js";

const birdBfdOff: Check = {
  codes: ["bird-bgp-bfd-off"],
  needs: ["birdConf"],
  run(p) {
    return p.bird!.conf.bgp
      .filter((b) => !b.bfd?.on)
      .map((b) =>
        diag(
          "bird-bgp-bfd-off",
          `protocol bgp ${b.name} has ${b.bfd ? "`bfd off`" : "no `bfd on`"}: bird's BGP ignores BFD and stays Established on a dead tunnel; only the router's own BFD withdraws the route`,
          `add \`bfd on;\` to protocol bgp ${b.name}`,
          p.bird!.origin,
          b.bfd?.line ?? b.line,
        ),
      );
  },
};

const birdBfdPassive: Check = {
  codes: ["bird-bfd-passive"],
  needs: ["birdConf"],
  run(p) {
    if (p.bird!.conf.bgp.length === 0) return [];
    return p.bird!.conf.bfd
      .filter((b) => b.neighbors.length === 0)
      .map((b) => {
        const peer = p.bird!.conf.bgp.find((x) => x.neighbor)?.neighbor ?? "<router transit address>";
        const dev = b.interfaces[0]?.pattern ?? `"${p.wg?.iface ?? "wg0"}"`;
        return diag(
          "bird-bfd-passive",
          `protocol bfd${b.name ? ` ${b.name}` : ""} has only interface clauses: bird answers BFD but never starts it, so after an outage bird and the router each wait for the other and recovery needs \`birdc restart\``,
          `add \`neighbor ${peer} dev ${dev.startsWith('"') ? dev : `"${dev}"`};\` to protocol bfd`,
          p.bird!.origin,
          b.line,
        );
      });
  },
};

const BIRD_DEFAULTS = { errorWait: [60, 300], connectDelay: 5 } as const;

const birdTimers: Check = {
  codes: ["bird-slow-timers"],
  needs: ["birdConf"],
  run(p) {
    const out: Diagnostic[] = [];
    for (const b of p.bird!.conf.bgp) {
      const slow: string[] = [];
      const ew = b.errorWait;
      if (!ew) slow.push(`error wait time is bird's default ${BIRD_DEFAULTS.errorWait.join("-")} s`);
      else if (ew.min > 5) slow.push(`error wait time ${ew.min}, ${ew.max} s`);
      const cd = b.connectDelay;
      if (!cd) slow.push(`connect delay time is bird's default ${BIRD_DEFAULTS.connectDelay} s`);
      else if (cd.value > 2) slow.push(`connect delay time ${cd.value} s`);
      if (slow.length === 0) continue;
      out.push(
        diag(
          "bird-slow-timers",
          `protocol bgp ${b.name}: ${slow.join("; ")}: bird counts a BFD drop as an error and refuses the router's reconnect for that long (measured: ~57 s to restore)`,
          `add \`error wait time 0, 0; error forget time 0; connect delay time 0; connect retry time 1;\` to protocol bgp ${b.name}`,
          p.bird!.origin,
          ew && ew.min > 5 ? ew.line : cd && cd.value > 2 ? cd.line : b.line,
        ),
      );
    }
    return out;
  },
};

export const BIRD_CHECKS: readonly Check[] = [birdBfdOff, birdBfdPassive, birdTimers];
