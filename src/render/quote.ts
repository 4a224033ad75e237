// Quoting for the output languages that share no rules. Site names and interface names
// are restricted by the schema; these functions are the second line, and the only one for
// free text (descriptions) and anything a future key lets through.

/** A POSIX shell word: single quotes, with ' written as '\''. Safe for any string. */
export function shQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text for a `#` comment in shell, wg-quick, bird, sysctl, radvd or FRR files: one line. */
export function commentText(value: string): string {
  // Control characters (newline above all) would end the comment and start a directive.
  return value.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/** A bird2 string literal. bird's lexer has no escapes inside "...", so a string that
 *  holds a quote or a newline cannot be written at all: refuse it. */
export function birdString(value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`internal: value ${JSON.stringify(value)} cannot be a bird string`);
  return `"${value}"`;
}

/** A bird2 symbol (protocol names): letters, digits, underscore; must start with a letter. */
export function birdSymbol(value: string): string {
  const s = value.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `p_${s}`;
}
