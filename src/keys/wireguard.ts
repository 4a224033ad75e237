// WireGuard keys (Curve25519) with node:crypto, and the 0600 secrets file that holds them.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync, unlinkSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { EXIT, fileSystemError, UserError } from "../errors.js";
import { parseYamlFile, readYamlText, type YamlFileKind } from "../yaml-file.js";

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
  if (!isWireGuardKey(privateKey)) throw new UserError("not a WireGuard private key", [], EXIT.badInput, "a WireGuard private key is 32 bytes of base64 (44 characters), as `wg genkey` prints");
  const der = Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, "base64")]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
  return b64(pub.export({ format: "jwk" }).x!);
}

/** A WireGuard private key as the secrets file holds it. */
const PrivateKey = z.string().refine(isWireGuardKey, {
  message: "must be a WireGuard private key: 44 characters of base64, as `wg genkey` prints",
});
const EndSecrets = z.object({ privateKey: PrivateKey }).strict();

/** The secrets file: one private key per end, nothing else. */
export const SecretsFileSchema = z.object({ vps: EndSecrets.optional(), router: EndSecrets.optional() }).strict();
export type SecretsFile = z.output<typeof SecretsFileSchema>;
export type End = "vps" | "router";
const ENDS: readonly End[] = ["vps", "router"];

const SECRETS_FILE: YamlFileKind = {
  name: "secrets file",
  keysReference: "a secrets file holds only vps.privateKey and router.privateKey",
  reference: "the secrets file format in the README",
  shape: "`vps: {privateKey: KEY}` and `router: {privateKey: KEY}`, as `relay6 keys SITE` writes it",
  secret: true,
};

/** The secrets file that belongs to a site file: `home.yaml` → `home.secrets.yaml`. */
export function defaultSecretsPath(siteFile: string): string {
  const base = basename(siteFile).replace(/\.ya?ml$/i, "");
  return join(dirname(siteFile), `${base}.secrets.yaml`);
}

/** Reads a file that holds secrets: it must be a regular file that only its owner can read.
 *  Undefined when there is none. Errors name the file, never its contents. */
export function readPrivateFile(path: string, what: string, kind: YamlFileKind): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new UserError(`cannot read ${what} ${path}: ${code ?? String(e)}`, [], EXIT.badInput, `give a ${what} you can read`);
  }
  if (!st.isFile()) throw new UserError(`${what} ${path} is not a file`, [], EXIT.badInput, `give the path of the ${what} itself`);
  if ((st.mode & 0o077) !== 0)
    throw new UserError(`${what} ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, [
      { code: "secrets-mode", severity: "error", path: "", file: path, message: "secrets must not be readable by group or others", fix: `chmod 600 ${path}` },
    ]);
  try {
    return readYamlText(path, kind);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, [], EXIT.badInput, `give a ${what} you can read`);
  }
}

/** The secrets file, validated (exit 2 naming file, line and YAML path, never a value);
 *  undefined when there is none. */
export function readSecrets(path: string): SecretsFile | undefined {
  const text = readPrivateFile(path, "secrets file", SECRETS_FILE);
  if (text === undefined) return undefined;
  // An empty (or comment-only) file is not a secrets file relay6 wrote: it might be another
  // file given by mistake, and relay6 would replace it with keys.
  if (text.split("\n").every((l) => /^\s*(#.*)?$/.test(l)))
    throw new UserError(`secrets file ${path} is empty (or only comments)`, [
      { code: "secrets-empty", severity: "error", path: "", file: path, message: "relay6 writes its keys only into a secrets file it makes, or one that holds `vps:`/`router:` keys", fix: `if ${path} is the secrets file you meant, delete it and relay6 makes it again; otherwise give --secrets another path` },
    ]);
  return parseYamlFile(text, path, SecretsFileSchema, SECRETS_FILE).data;
}

/** For every command but keys, render and init: the keys must already exist. They are
 *  never made here (a key made and not kept would change on every run). */
export function requireKeys(path: string, siteFile: string, given: boolean, ends: readonly End[] = ENDS): SecretsFile {
  const secrets = readSecrets(path);
  const make = `run \`relay6 keys ${siteFile}${given ? ` --secrets ${path}` : ""}\` (or relay6 render) to make ${secrets ? "it" : "them"}`;
  if (!secrets)
    throw new UserError(`no secrets file ${path}`, [
      { code: "secrets-missing", severity: "error", path: "", file: path, message: "the site's WireGuard private keys are kept in this file, and it does not exist", fix: given ? make : `${make}, or pass --secrets FILE` },
    ]);
  const missing = ends.filter((e) => !secrets[e]);
  if (missing.length > 0)
    throw new UserError(`secrets file ${path} has no ${missing.map((e) => `${e}.privateKey`).join(" and ")}`, [
      { code: "secrets-missing-key", severity: "error", path: `${missing[0]}.privateKey`, file: path, message: `the private key of the ${missing.join(" and the ")} is not there`, fix: make },
    ]);
  return secrets;
}

function secretsText(secrets: SecretsFile): string {
  return "# relay6 secrets: WireGuard private keys. Mode 0600; keep it out of version control.\n" + stringify(secrets);
}

/** A secrets file written beside its final path (mode 0600 from its creation on, never
 *  briefly readable) that takes its place only on commit: a command writes it first, then
 *  everything else, then commits, so that a refusal in between leaves no trace. */
export interface StagedSecrets {
  commit(): void;
  abort(): void;
}

export function stageSecrets(given: string, secrets: SecretsFile): StagedSecrets {
  // A symbolic link is written through: the file it names is replaced (temp and rename in
  // that file's folder), the link stays. A link to nothing is refused.
  let path = given;
  try {
    if (lstatSync(given).isSymbolicLink()) path = realpathSync(given);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" || path === given && existsLink(given))
      throw new UserError(`secrets file ${given} is a symbolic link to nothing`, [], EXIT.badInput, `point ${given} at the secrets file, or give --secrets the file itself`);
  }
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw fileSystemError(e, `secrets file ${path}`, { badPath: "pass --secrets PATH to keep the secrets file in a folder that exists", refused: "pass --secrets PATH to keep the secrets file where you may write" }, "secrets-unwritable");
  }
  try {
    writeSync(fd, secretsText(secrets));
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  let done = false;
  return {
    commit() {
      if (done) return;
      done = true;
      try {
        renameSync(tmp, path);
      } catch (e) {
        unlinkSync(tmp);
        throw e;
      }
    },
    abort() {
      if (done) return;
      done = true;
      rmSync(tmp, { force: true });
    },
  };
}

/** Writes the secrets file at once (mode 0600 from its creation on). */
export function writeSecrets(path: string, secrets: SecretsFile): void {
  stageSecrets(path, secrets).commit();
}

/** The secrets file with a new key for every one of `ends` that has none; nothing written.
 *  (A standalone site's file holds both ends' keys; under a relay the relay's holds the
 *  VPS's, each site's its router's.) */
export function withMissingKeys(path: string, ends: readonly End[] = ENDS): { secrets: SecretsFile; created: End[] } {
  const secrets: SecretsFile = { ...(readSecrets(path) ?? {}) };
  const created: End[] = [];
  for (const end of ends) {
    if (!secrets[end]) {
      secrets[end] = { privateKey: generateKeyPair().privateKey };
      created.push(end);
    }
  }
  return { secrets, created };
}

/** relay6 keys / init: reads the secrets file, adding (and saving) keys for ends that have none. */
export function ensureKeys(path: string, ends: readonly End[] = ENDS): { secrets: SecretsFile; created: End[] } {
  const r = withMissingKeys(path, ends);
  if (r.created.length > 0) writeSecrets(path, r.secrets);
  return r;
}

/** Replaces `end`'s key in the secrets file with a new one (every other entry kept).
 *  Returns the new public key. */
export function rotateKey(path: string, end: End): string {
  const secrets: SecretsFile = { ...(readSecrets(path) ?? {}) };
  const pair = generateKeyPair();
  secrets[end] = { privateKey: pair.privateKey };
  writeSecrets(path, secrets);
  return pair.publicKey;
}

function existsLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
