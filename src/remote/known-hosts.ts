// OpenSSH known_hosts: find a host's keys (plain and hashed entries), add a new one.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

export interface KnownKey {
  type: string;
  /** The SSH wire-format public key blob. */
  blob: Buffer;
  line: number;
}

/** The name known_hosts uses for a host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:...` as ssh-keygen -l and ssh print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a wire-format blob (ssh-ed25519, ecdsa-sha2-nistp256, ...). */
export function blobType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("ascii");
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return re.test(name);
}

export function lookupKnownHosts(file: string, name: string): KnownKey[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const keys: KnownKey[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith("@")) return; // @cert-authority / @revoked: not supported
    const [hosts, type, b64] = fields;
    if (!hosts || !type || !b64) return;
    const patterns = hosts.split(",");
    if (patterns.some((p) => p.startsWith("!") && matchesPattern(p.slice(1), name))) return;
    if (patterns.some((p) => matchesPattern(p, name))) keys.push({ type, blob: Buffer.from(b64, "base64"), line: i + 1 });
  });
  return keys;
}

/** Appends a hashed entry, as `ssh -o HashKnownHosts=yes` would. */
export function addKnownHost(file: string, name: string, blob: Buffer): void {
  const salt = randomBytes(20);
  const hash = createHmac("sha1", salt).update(name).digest("base64");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `|1|${salt.toString("base64")}|${hash} ${blobType(blob)} ${blob.toString("base64")}\n`, { mode: 0o600 });
}
