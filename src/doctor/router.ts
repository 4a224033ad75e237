// What doctor needs from a router platform. Doctor itself knows the VPS (wg-quick, bird,
// ufw, iproute2); the router's configuration is read by its target (src/targets/<id>/doctor/),
// which turns it into RouterFacts for doctor's own checks and the site file, and adds the
// checks only its platform has. src/pipeline.ts hands doctor the targets that can.
import type { Diagnostic } from "../errors.js";
import type { LintCode } from "../lint/lint.js";
import type { Prefix6 } from "../net/ipv6.js";
import type { RouterOsRest } from "../remote/routeros-rest.js";
import type { SshSession } from "../remote/ssh.js";
import type { DoctorSource, InputKind, InputText } from "./inputs.js";

/** An address on the router, as its configuration has it. */
export interface RouterAddress {
  address: bigint;
  text: string;
  prefix: Prefix6;
  iface: string;
  /** Advertised to the LAN in router advertisements (SLAAC). */
  advertise: boolean;
  line: number;
}

/** What doctor needs to know about the router, from whatever its platform's input is. */
export interface RouterFacts {
  /** Where the facts come from (findings name it as their file). */
  origin: string;
  /** The router's release, when the input says. */
  version?: string;
  /** WireGuard interfaces. */
  wgInterfaces: string[];
  /** Enabled addresses relay6 could have made (not from a delegated pool). */
  addresses: RouterAddress[];
  /** LAN bridges, in the order the input names them. */
  bridges: string[];
  /** The WireGuard peer that dials the VPS. */
  peer?: { endpoint?: string; publicKey?: string; keepaliveS?: number; disabled: boolean };
  /** The BGP session to the VPS, when there is one. */
  bgp?: { vpsAs?: number; routerAs?: number; routerId?: string };
  bfd?: { intervalMs?: number; multiplier?: number };
  /** The input chain accepts everything from the tunnel. */
  acceptAllFromTunnel: boolean;
}

/** A check only this platform's input allows. */
export interface RouterCheck<T> {
  codes: string[];
  run(parsed: T, facts: RouterFacts, options: Record<string, string>): Diagnostic[];
  /** Why it cannot run although the input is there (e.g. no version known). */
  skip?(parsed: T, facts: RouterFacts, options: Record<string, string>): string | undefined;
}

/** A router platform's doctor: its target's doctor/ module. */
export interface RouterDoctor<T = unknown> {
  /** The codes its checks emit beyond doctor's own (docs/doctor.md lists them). */
  codes: readonly LintCode[];
  /** Parses the input; `notRecognised` says why it is not this kind of text. */
  read(input: InputText): { parsed: T; facts: RouterFacts } | { notRecognised: string };
  checks: readonly RouterCheck<T>[];
  /** Live sources: the same input text read from the router over SSH or REST. */
  sshSource?(session: SshSession): DoctorSource;
  restSource?(rest: RouterOsRest): DoctorSource;
}

/** What a router target declares for doctor (cheap: the module itself is loaded on use). */
export interface DoctorSupport {
  /** The router input: its key in DoctorInputs and its CLI flag. */
  input: InputKind & { key: string };
  /** CLI options of this platform's checks, e.g. `--routeros-version <version>` (key: routerosVersion). */
  options?: { key: string; flags: string; help: string }[];
  load(): Promise<RouterDoctor>;
}

/** A router platform's doctor, loaded. */
export interface LoadedRouterDoctor {
  platform: string;
  support: DoctorSupport;
  doctor: RouterDoctor<unknown>;
}
