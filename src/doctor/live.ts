// Live sources for doctor: the same texts the file source reads, fetched from the hosts.
// The VPS over SSH is doctor's own (its wg0.conf, bird.conf, `ip -6 route`, `ip -6 addr`,
// `ufw status`); a router's live sources are its platform's (RouterDoctor.sshSource/restSource).
import { parseSections, sectionBody, sectionRc, sectionScript } from "../verify/findings.js";
import type { SshSession } from "../remote/ssh.js";
import type { DoctorInputs, DoctorSource, VpsInputKey } from "./inputs.js";

const VPS_COMMANDS: [VpsInputKey, string][] = [
  ["wgConf", "cat /etc/wireguard/wg0.conf"],
  ["birdConf", "cat /etc/bird/bird.conf"],
  ["ipRoute", "ip -6 route"],
  ["ipAddr", "ip -6 addr"],
  ["ndppdConf", "cat /etc/ndppd.conf"],
  ["sysctl", "sysctl -a 2>/dev/null | grep -E '\\.(proxy_ndp|proxy_delay|accept_ra[a-z_]*|forwarding) '"],
  ["ufwStatus", "ufw status verbose"],
];

export function sshVpsSource(session: SshSession): DoctorSource {
  const who = `ssh ${session.target.user}@${session.target.host}`;
  return {
    description: who,
    async read() {
      const r = await session.exec(sectionScript(VPS_COMMANDS), { show: `read ${VPS_COMMANDS.map(([, c]) => c.replace(/^cat /, "")).join(", ")}` });
      const sec = parseSections(r.stdout);
      const inputs: DoctorInputs = {};
      for (const [key, cmd] of VPS_COMMANDS) {
        const s = sec.get(key);
        // A file that is not there (no bird on a static setup) is an input doctor lacks.
        if (sectionRc(s) === 0) inputs[key] = { origin: `${who}: ${cmd}`, text: sectionBody(s) };
      }
      return inputs;
    },
  };
}

/** Several sources read together (the VPS over SSH and the router over REST, say). */
export function combinedSource(sources: DoctorSource[]): DoctorSource {
  return {
    description: sources.map((s) => s.description).join(" + "),
    async read() {
      const all: DoctorInputs = {};
      for (const s of sources) Object.assign(all, await s.read());
      return all;
    },
  };
}
