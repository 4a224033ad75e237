// What a capture of BFD packets (tcpdump -w, udp port 3784) says about one session: for
// bench/relay-scale.ts's soak, so that a flap it reports comes with its cause.
import { spawnSync } from "node:child_process";

/** From the soak's capture, one BFD session's packets both ways: the packets whose state is
 *  not Up (time, sender, state, diagnostic; the first 8) and each direction's longest gap
 *  between two packets (a gap over the detection time is a timeout, a Down with diagnostic
 *  "Neighbor Signaled Session Down" or an AdminDown is the other side's doing). */
export function bfdEvidence(pcap: string, address: string): Record<string, unknown> {
  const r = spawnSync("tcpdump", ["-nr", pcap, "-v", "-tt", "host", address], { encoding: "utf8", maxBuffer: 256 << 20 });
  const lines = (r.stdout ?? "").split("\n");
  const last = new Map<string, number>();
  const gaps: Record<string, { longest_ms: number; at: string; packets: number }> = {};
  const notUp: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+\.\d+) IP6 .*?\) (\S+?)\.\d+ > (\S+?)\.\d+:/.exec(lines[i]!);
    if (!m) continue;
    const t = Number(m[1]);
    const dir = m[2] === address ? "router→vps" : "vps→router";
    const st = /State (\w+).*Diagnostic: ([^(]+)/.exec(lines[i + 1] ?? "");
    const g = (gaps[dir] ??= { longest_ms: 0, at: "", packets: 0 });
    g.packets++;
    const prev = last.get(dir);
    if (prev !== undefined && (t - prev) * 1000 > g.longest_ms) {
      g.longest_ms = Math.round((t - prev) * 1000);
      g.at = new Date(prev * 1000).toISOString();
    }
    last.set(dir, t);
    if (st && st[1] !== "Up" && notUp.length < 8) notUp.push(`${new Date(t * 1000).toISOString()} ${dir} ${st[1]} (${st[2]!.trim()})`);
  }
  return { gaps, not_up: notUp };
}

