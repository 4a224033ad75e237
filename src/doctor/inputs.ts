// Where doctor's texts come from. Doctor never reads a file, runs a command or opens a
// connection itself: a source hands it the texts (DoctorInputs) and everything after that
// is pure. Files are one source; live sources (SSH to the VPS, the router's own sources)
// produce the same texts behind the same interface. The VPS's inputs are doctor's own; the
// router's input is its platform's (DoctorSupport.input).
import { EXIT, UserError } from "../errors.js";
import { InputFileError, readInputFile } from "../io/read.js";

/** The VPS's inputs. */
export type VpsInputKey = "wgConf" | "birdConf" | "ipRoute" | "ipAddr" | "ndppdConf" | "sysctl" | "ufwStatus";
/** A VPS input, or a router platform's (e.g. "routerosExport"). */
export type InputKey = VpsInputKey | (string & {});

/** One input text and where it came from (a file path, or e.g. `ssh root@vps: ip -6 route`).
 *  `origin` is what findings name as their file. */
export interface InputText {
  origin: string;
  text: string;
}

export type DoctorInputs = Partial<Record<InputKey, InputText>>;

/** Anything that can produce doctor's inputs: files, SSH, REST. */
export interface DoctorSource {
  /** For messages: "files", "ssh root@203.0.113.10", ... */
  readonly description: string;
  read(): Promise<DoctorInputs>;
}

/** Per input: its CLI flag, what it is, and the command a live source runs to get it. */
export interface InputKind {
  flag: string;
  what: string;
  live: string;
}

export const VPS_INPUTS: Record<VpsInputKey, InputKind> = {
  wgConf: { flag: "--wg-conf", what: "the VPS's wg0.conf", live: "cat /etc/wireguard/wg0.conf (VPS)" },
  birdConf: { flag: "--bird-conf", what: "the VPS's bird.conf", live: "cat /etc/bird/bird.conf (VPS)" },
  ipRoute: { flag: "--ip-route", what: "`ip -6 route` on the VPS", live: "ip -6 route (VPS)" },
  ipAddr: { flag: "--ip-addr", what: "`ip -6 addr` on the VPS", live: "ip -6 addr (VPS)" },
  ndppdConf: { flag: "--ndppd-conf", what: "the VPS's ndppd.conf", live: "cat /etc/ndppd.conf (VPS)" },
  sysctl: { flag: "--sysctl", what: "the VPS's IPv6 sysctls (`sysctl -a`, or its sysctl.d files)", live: "sysctl -a | grep proxy_ndp, accept_ra (VPS)" },
  ufwStatus: { flag: "--ufw-status", what: "`ufw status verbose` on the VPS", live: "ufw status verbose (VPS)" },
};

/** Every input in the order reports list them: the VPS's files and state, the router's
 *  configuration, the VPS's firewall. */
export function inputOrder(router: readonly (InputKind & { key: string })[]): [InputKey, InputKind][] {
  const vps = (k: VpsInputKey): [InputKey, InputKind] => [k, VPS_INPUTS[k]];
  return [vps("wgConf"), vps("birdConf"), vps("ipRoute"), vps("ipAddr"), vps("ndppdConf"), vps("sysctl"), ...router.map((r): [InputKey, InputKind] => [r.key, r]), vps("ufwStatus")];
}

/** Reads each given file; a missing or unreadable file is a user error naming the file and
 *  the reason, never its contents. */
export function fileSource(paths: Partial<Record<InputKey, string>>, kinds: readonly [InputKey, InputKind][]): DoctorSource {
  return {
    description: "files",
    async read() {
      const inputs: DoctorInputs = {};
      const problems: string[] = [];
      for (const [key, kind] of kinds) {
        const path = paths[key];
        if (path === undefined) continue;
        try {
          inputs[key] = { origin: path, text: readInputFile(path, kind.flag).toString("utf8") };
        } catch (e) {
          if (!(e instanceof InputFileError)) throw e;
          problems.push(`${kind.flag} ${path}: ${e.why}`);
        }
      }
      if (problems.length > 0) throw new UserError(`cannot read ${problems.join("; ")}`, [], EXIT.badInput, "give each input option a regular file you can read, of at most 4 MiB (see docs/doctor.md)");
      return inputs;
    },
  };
}
