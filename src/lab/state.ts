// The lab's record of what it made, so that `lab down` can remove all of it, also after a
// crashed or interrupted `lab up`: written before each thing is made, not after.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, UserError } from "../errors.js";
import type { Plan } from "../plan/plan.js";
import type { RelayPlan } from "../plan/relay.js";

export const LAB_ROOT = "/run/relay6-lab";
export const DEFAULT_LAB_NAME = "lab";
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,11}$/;

export interface LabNode {
  /** Role in the topology: inet, vps, rtr, or c<N> for the client of segment N. */
  role: string;
  ns: string;
}

export interface LabClient extends LabNode {
  segment: string;
  /** The segment's /64; the client must take a SLAAC address in it. */
  prefix: string;
  /** The router's interface toward this client. */
  routerIf: string;
  /** The client's private IPv4 address behind the router's NAT44 (ipv4.ts). */
  ipv4?: string;
  /** Its IPv4 default gateway: the router's address on the segment. */
  ipv4Gateway?: string;
  /** Present (false) on a ULA-only segment: the client has no global address. */
  global?: false;
}

/** One site of the lab's relay: its router node, its clients, its underlay. */
export interface LabSite {
  site: string;
  plan: Plan;
  /** The router's node (role rtr for the first site, rtr2, rtr3... for the others). */
  rtr: LabNode;
  clients: LabClient[];
  /** The router's IPv4 underlay (its "ISP"), and inet's end of that link. */
  underlay: { address: string; gateway: string; inetIf: string };
  /** Where its files are in the lab's render output: "" or "sites/<site>/". */
  dir: string;
  routerPublicKey: string;
}

export interface LabDaemon {
  name: string;
  ns: string;
  pid: number;
}

export interface LabState {
  name: string;
  dir: string;
  siteFile: string;
  createdAt: string;
  /** Namespaces this lab created (added before `ip netns add` runs). */
  namespaces: string[];
  /** /etc/netns/<ns> directories this lab created. */
  etcDirs: string[];
  daemons: LabDaemon[];
  nodes?: { inet: LabNode; host?: LabNode; vps: LabNode; rtr: LabNode; clients: LabClient[] };
  addresses?: {
    internetHost: string;
    /** The internet host's IPv4 address (the lab's clients reach it through NAT44). */
    internetHost4?: string;
    vpsNic: string;
    vpsUnderlay: string;
    routerUnderlay: string;
  };
  /** The first site's plan (a standalone site's only one). */
  plan?: Plan;
  keys?: { vpsPublicKey: string; routerPublicKey: string };
  /** The relay's plan and every site's nodes (the first site's are also nodes.rtr and
   *  nodes.clients, and plan). */
  relay?: RelayPlan;
  sites?: LabSite[];
  /** Set once the relay carries traffic. */
  ready: boolean;
  /** Whether the router runs the RA drain (`lab up --no-drain` leaves radvd alone). */
  drain?: boolean;
}

export function checkLabName(name: string): string {
  if (!NAME_RE.test(name))
    throw new UserError(`lab name "${name}" is not usable`, [], EXIT.badInput, "give --name 1-12 characters of a-z, 0-9 and '-', starting with a letter or digit");
  return name;
}

export const labDir = (name: string) => join(LAB_ROOT, name);
export const nsPrefix = (name: string) => `r6-${name}-`;
export const nsName = (name: string, role: string) => `${nsPrefix(name)}${role}`;

/** Whether a namespace is one of lab `name`'s. Exact roles: lab "a" must not claim the
 *  namespaces of lab "a-b" (r6-a-b-inet also starts with r6-a-). */
export function isLabNamespace(name: string, ns: string): boolean {
  const rest = ns.startsWith(nsPrefix(name)) ? ns.slice(nsPrefix(name).length) : undefined;
  return rest !== undefined && /^(inet|host|vps|rtr\d*|c\d+|s\d+c\d+)$/.test(rest);
}

/** The roles of site number `i` (0-based) of a lab: the first site's are a standalone
 *  site's (rtr, c1, c2...); the others' rtr<i+1> and s<i+1>c1, s<i+1>c2... */
export function routerRole(i: number): string {
  return i === 0 ? "rtr" : `rtr${i + 1}`;
}

export function clientRole(i: number, j: number): string {
  return i === 0 ? `c${j + 1}` : `s${i + 1}c${j + 1}`;
}

/** The lab's sites (one for a standalone site). */
export function labSites(s: LabState): LabSite[] {
  return s.sites ?? [];
}

export function newState(name: string, siteFile: string): LabState {
  return {
    name,
    dir: labDir(name),
    siteFile,
    createdAt: new Date().toISOString(),
    namespaces: [],
    etcDirs: [],
    daemons: [],
    ready: false,
  };
}

export function saveState(s: LabState): void {
  // 0711: FRR, running as user frr, must reach its socket directory inside.
  mkdirSync(s.dir, { recursive: true, mode: 0o711 });
  chmodSync(LAB_ROOT, 0o711);
  chmodSync(s.dir, 0o711);
  const file = join(s.dir, "state.json");
  writeFileSync(`${file}.tmp`, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function loadState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(name), "state.json"), "utf8")) as LabState;
  } catch {
    return undefined;
  }
}

/** The state of a lab that is up, or a UserError that says how to get one. */
export function requireReadyLab(name: string): LabState & Required<Pick<LabState, "nodes" | "addresses" | "plan" | "keys">> {
  const s = loadState(name);
  if (!s || !s.ready || !s.nodes || !s.addresses || !s.plan || !s.keys)
    throw new UserError(`no lab "${name}" is up`, [], EXIT.findings, `run \`relay6 lab up${name === DEFAULT_LAB_NAME ? "" : ` --name ${name}`}\` first`);
  return s as LabState & Required<Pick<LabState, "nodes" | "addresses" | "plan" | "keys">>;
}
