// WireGuard keys (Curve25519) with node:crypto, and the 0600 secrets file that holds them.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { closeSync, constants, openSync, readFileSync, renameSync, statSync, writeSync, unlinkSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { parse, stringify } from "yaml";
import { UserError } from "../errors.js";

const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

const b64 = (u: string) => Buffer.from(u, "base64url").toString("base64");

export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey: b64(jwk.d!), publicKey: b64(jwk.x!) };
}

export function isWireGuardKey(text: string): boolean {
  return KEY_RE.test(text) && Buffer.from(text, "base64").length === 32;
}

/** `wg pubkey`: the public key of a base64 private key. */
export function publicKeyOf(privateKey: string): string {
  if (!isWireGuardKey(privateKey)) throw new UserError("a WireGuard private key must be 32 bytes of base64 (44 characters)");
  const der = Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, "base64")]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
  return b64(pub.export({ format: "jwk" }).x!);
}

export interface SecretsFile {
  vps?: { privateKey: string };
  router?: { privateKey: string };
}

/** The secrets file that belongs to a site file: `home.yaml` → `home.secrets.yaml`. */
export function defaultSecretsPath(siteFile: string): string {
  const base = basename(siteFile).replace(/\.ya?ml$/i, "");
  return join(dirname(siteFile), `${base}.secrets.yaml`);
}

export function readSecrets(path: string): SecretsFile | undefined {
  let text: string;
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0)
      throw new UserError(`secrets file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, [
        { code: "secrets-mode", severity: "error", path: "", file: path, message: "private keys must not be readable by group or others", fix: `chmod 600 ${path}` },
      ]);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const data = (parse(text) ?? {}) as SecretsFile;
  for (const end of ["vps", "router"] as const) {
    const k = data[end]?.privateKey;
    if (k !== undefined && !isWireGuardKey(k))
      throw new UserError(`secrets file ${path}: ${end}.privateKey is not a WireGuard key`, [
        { code: "secrets-invalid", severity: "error", path: `${end}.privateKey`, file: path, message: "not a 32-byte base64 WireGuard key", fix: `delete the entry and run relay6 keys to make a new one` },
      ]);
  }
  return data;
}

/** Writes the secrets file with mode 0600 from its creation on (never briefly readable). */
export function writeSecrets(path: string, secrets: SecretsFile): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const body =
    "# relay6 secrets: WireGuard private keys. Mode 0600; keep it out of version control.\n" + stringify(secrets);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new UserError(`cannot write secrets file ${path}: ${(e as NodeJS.ErrnoException).code}`, [
      { code: "secrets-unwritable", severity: "error", path: "", file: path, message: "the directory is not writable", fix: "pass --secrets PATH to keep the secrets file elsewhere" },
    ]);
  }
  try {
    writeSync(fd, body);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/** Reads the secrets file, adding keys for ends that have none. Returns what was created. */
export function ensureKeys(path: string): { secrets: SecretsFile; created: ("vps" | "router")[] } {
  const secrets = readSecrets(path) ?? {};
  const created: ("vps" | "router")[] = [];
  for (const end of ["vps", "router"] as const) {
    if (!secrets[end]) {
      secrets[end] = { privateKey: generateKeyPair().privateKey };
      created.push(end);
    }
  }
  if (created.length > 0) writeSecrets(path, secrets);
  return { secrets, created };
}
