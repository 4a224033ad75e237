// Where doctor's texts come from. Doctor never reads a file, runs a command or opens a
// connection itself: a source hands it the texts (DoctorInputs) and everything after that
// is pure. Files are the first source; live sources (SSH to the VPS, RouterOS REST or
// `/export` over SSH) produce the same texts and plug in behind the same interface.
import { readFileSync } from "node:fs";
import { UserError } from "../errors.js";

export type InputKey = "wgConf" | "birdConf" | "ipRoute" | "ipAddr" | "routerosExport" | "ufwStatus";

/** One input text and where it came from (a file path, or e.g. `ssh root@vps: ip -6 route`).
 *  `origin` is what findings name as their file. */
export interface InputText {
  origin: string;
  text: string;
}

export type DoctorInputs = Partial<Record<InputKey, InputText>>;

/** Anything that can produce doctor's inputs: files today; SSH and REST later. */
export interface DoctorSource {
  /** For messages: "files", "ssh root@203.0.113.10", ... */
  readonly description: string;
  read(): Promise<DoctorInputs>;
}

/** Per input: its CLI flag, what it is, and the command a live source runs to get it. */
export const INPUT_KINDS: Record<InputKey, { flag: string; what: string; live: string }> = {
  wgConf: { flag: "--wg-conf", what: "the VPS's wg0.conf", live: "cat /etc/wireguard/wg0.conf (VPS)" },
  birdConf: { flag: "--bird-conf", what: "the VPS's bird.conf", live: "cat /etc/bird/bird.conf (VPS)" },
  ipRoute: { flag: "--ip-route", what: "`ip -6 route` on the VPS", live: "ip -6 route (VPS)" },
  ipAddr: { flag: "--ip-addr", what: "`ip -6 addr` on the VPS", live: "ip -6 addr (VPS)" },
  routerosExport: { flag: "--routeros-export", what: "the router's RouterOS `/export`", live: "/export (RouterOS, over SSH)" },
  ufwStatus: { flag: "--ufw-status", what: "`ufw status verbose` on the VPS", live: "ufw status verbose (VPS)" },
};

export const INPUT_KEYS = Object.keys(INPUT_KINDS) as InputKey[];

/** Reads each given file; a missing or unreadable file is a user error naming the file and
 *  the reason, never its contents. */
export function fileSource(paths: Partial<Record<InputKey, string>>): DoctorSource {
  return {
    description: "files",
    async read() {
      const inputs: DoctorInputs = {};
      const problems: string[] = [];
      for (const key of INPUT_KEYS) {
        const path = paths[key];
        if (path === undefined) continue;
        try {
          inputs[key] = { origin: path, text: readFileSync(path, "utf8") };
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
          problems.push(`${INPUT_KINDS[key].flag} ${path}: ${code}`);
        }
      }
      if (problems.length > 0) throw new UserError(`cannot read ${problems.join("; ")}`);
      return inputs;
    },
  };
}
