// A small reader for wg-quick/INI files, so tests check what the file means.
export interface Section {
  name: string;
  values: Record<string, string[]>;
}

export function parse(text: string): Section[] {
  const out: Section[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      out.push({ name: sec[1]!, values: {} });
      continue;
    }
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (!kv || out.length === 0) throw new Error(`not an INI line: ${raw}`);
    (out[out.length - 1]!.values[kv[1]!] ??= []).push(kv[2]!);
  }
  return out;
}
