// Secrets out of what apply shows: a file read from a host may be one the user made by hand
// (a wg0.conf with `PrivateKey = …`, a bird.conf with `password "…"`), and apply prints its
// diff, --json included. Redaction goes by content, not by file name: every value that is
// a secret is replaced by <redacted> before a diff is made, on both sides.

export const REDACTED = "<redacted>";

// A WireGuard key's shape (32 bytes of base64); public keys have it too.
const KEY_SHAPE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])/g;
const PUBLIC_LINE = /public[-_ ]?key/i;

// `name = value`, `name: value`, `name="value"`: a name that says secret.
const SECRET_NAME = String.raw`[A-Za-z0-9_-]*(?:private[-_ ]?key|pre-?shared[-_ ]?key|psk|password|passwd|passphrase|secret|token|api[-_]?key|auth[-_]?key|credentials?)`;
const VALUE = String.raw`"[^"]*"|'[^']*'|[^\s;,#"']+`;
const ASSIGNED = new RegExp(String.raw`(\b${SECRET_NAME}\s*[=:]\s*)(${VALUE})`, "gi");
// `password "value"` (bird), `neighbor X password value` (FRR), `private-key VALUE`: the
// word, a space, its value.
const WORD_THEN_VALUE = new RegExp(String.raw`(\b(?:password|passwd|secret|psk|private-key|preshared-key|key-string)\s+)(${VALUE})`, "gi");
const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|SECRET)[A-Z0-9 ]*-----/;
const PEM_END = /-----END [A-Z0-9 ]*-----/;

/** A file named as the value (`private-key /etc/wireguard/wg0.key`) is a reference, not
 *  the secret: kept, unless it has a key's shape (base64 may start with `/`). */
const isPathReference = (v: string) => /^\/[\w./%@+-]*$/.test(v) && !new RegExp(KEY_SHAPE.source).test(v);

function hideValue(v: string): string {
  if (isPathReference(v)) return v;
  if (v.startsWith('"') || v.startsWith("'")) return `${v[0]}${REDACTED}${v[0]}`;
  return REDACTED;
}

/** The text with every secret value replaced by <redacted>, line by line: secret-named
 *  values, key-shaped tokens on lines that are not a public key's, PEM private key blocks. */
export function redactSecrets(text: string): { text: string; redacted: boolean } {
  let redacted = false;
  let inPem = false;
  const lines = text.split("\n").map((line) => {
    if (inPem) {
      if (PEM_END.test(line)) inPem = false;
      else if (line.trim() !== "") {
        redacted = true;
        return REDACTED;
      }
      return line;
    }
    if (PEM_BEGIN.test(line)) {
      inPem = !PEM_END.test(line.slice(line.search(PEM_BEGIN) + 10));
      return line;
    }
    let out = line.replace(ASSIGNED, (_m, name: string, value: string) => name + hideValue(value));
    out = out.replace(WORD_THEN_VALUE, (_m, name: string, value: string) => name + hideValue(value));
    if (!PUBLIC_LINE.test(out)) out = out.replace(KEY_SHAPE, REDACTED);
    if (out !== line) redacted = true;
    return out;
  });
  return { text: lines.join("\n"), redacted };
}
