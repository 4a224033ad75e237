// Secrets out of what apply shows: a file read from a host may be one the user made by hand
// (a wg0.conf with `PrivateKey = …`, a bird.conf with `password "…"`), and apply prints its
// diff, --json included. Redaction goes by content, not by file name: every value that is
// a secret is replaced by <redacted> before a diff is made, on both sides.

export const REDACTED = "<redacted>";

// A WireGuard key's shape (32 bytes of base64); public keys have it too. A key-shaped token
// is kept only right after a public key's name (`PublicKey = K`, `public-key="K"`).
const KEY_SHAPE = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=(?![A-Za-z0-9+/=])/g;
const AFTER_PUBLIC_NAME = /public[-_ ]?key\s*[=:]?\s*["']?$/i;

// `name = value`, `name: value`, `name="value"`: a name that says secret.
const SECRET_NAME = String.raw`[A-Za-z0-9_-]*(?:private[-_ ]?key|pre-?shared[-_ ]?key|psk|password|passwd|passphrase|secret|token|api[-_]?key|auth[-_]?key|credentials?)`;
// A process substitution (`preshared-key <(echo K)`) is a value as a whole.
const VALUE = String.raw`<\([^)]*\)?|"[^"]*"|'[^']*'|[^\s;,#"']+`;
const ASSIGNED = new RegExp(String.raw`(\b${SECRET_NAME}\s*[=:]\s*)(${VALUE})`, "gi");
// The words whose next word is the secret: `password "value"` (bird, `password"value"` too),
// `neighbor X password value` (FRR), `private-key VALUE`, `ip ospf authentication-key V`.
const SECRET_WORD = String.raw`password|passwd|secret|psk|private-key|preshared-key|key-string|authentication-key`;
const WORD_THEN_VALUE = new RegExp(String.raw`(\b(?:${SECRET_WORD})(?:\s+|(?=["'])))(${VALUE})`, "gi");
// Forms whose secret comes after a type word or a key number (`isis password clear V`,
// `area-password md5 V`, `enable password 7 V`, `ip ospf message-digest-key 1 md5 V`,
// `snmp-server community V ro`): everything after the keyword, to the end of the line.
const REST_OF_LINE = new RegExp(
  String.raw`(\b(?:message-digest-key|area-password|domain-password|snmp-server\s+community|(?:password|secret|authentication-key)(?=\s+(?:clear|md5|hmac-md5|hmac-sha-\d+|text|encrypted|\d)\s+\S)))\s+\S.*$`,
  "i",
);
// `Authorization: Bearer V`, `Authorization: V`, `bearer V` anywhere (a curl in a PostUp).
const AUTHORIZATION = /(\bauthorization\s*[:=]\s*(?:(?:bearer|basic|token|digest)\s+)?|\bbearer\s+)([^\s"';,]+)/gi;
// A line that ends with a secret's word: its value is on the next line (bird allows it).
const WORD_AT_END = new RegExp(String.raw`\b(?:${SECRET_WORD})\s*$`, "i");
const LEADING_VALUE = new RegExp(String.raw`^(\s*)(${VALUE})`);
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
 *  values (the next line's first word after a secret's word that ends a line), what follows
 *  a keyword whose secret comes after a type word, authorization tokens, key-shaped tokens
 *  not right after a public key's name, PEM private key blocks. */
export function redactSecrets(text: string): { text: string; redacted: boolean } {
  let redacted = false;
  let inPem = false;
  let valueNext = false;
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
    let out = line;
    if (valueNext && line.trim() !== "") {
      out = out.replace(LEADING_VALUE, (_m, space: string, value: string) => space + hideValue(value));
      valueNext = false;
    }
    out = out.replace(REST_OF_LINE, (_m, name: string) => `${name} ${REDACTED}`);
    out = out.replace(ASSIGNED, (_m, name: string, value: string) => name + hideValue(value));
    out = out.replace(WORD_THEN_VALUE, (_m, name: string, value: string) => name + hideValue(value));
    out = out.replace(AUTHORIZATION, (_m, name: string) => name + REDACTED);
    out = out.replace(KEY_SHAPE, (key: string, at: number, whole: string) => (AFTER_PUBLIC_NAME.test(whole.slice(0, at)) ? key : REDACTED));
    if (WORD_AT_END.test(out)) valueNext = true;
    if (out !== line) redacted = true;
    return out;
  });
  return { text: lines.join("\n"), redacted };
}
