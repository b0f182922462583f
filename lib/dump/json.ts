/**
 * The `simplebroker-dump` line encoding: each record serialised exactly as
 * Python's `json.dumps(record, ensure_ascii=False, sort_keys=True)` writes it,
 * so dumps compare byte for byte with SimpleBroker 7.x's. Keys sorted, `", "`
 * and `": "` separators, non-ASCII characters (and lone surrogates) kept as
 * they are; only `"`, `\` and the C0 controls are escaped, the five with a
 * short form (`\b \t \n \f \r`) that way, the others as lowercase `\u00XX`.
 * @module
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are exactly what gets escaped
const NEEDS_ESCAPE = /[\u0000-\u001f"\\]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are exactly what gets escaped
const ESCAPES = /[\u0000-\u001f"\\]/g;
const SHORT: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

/** A string as a JSON string literal, byte-compatible with Python's `json.dumps(s, ensure_ascii=False)`. */
export function pyJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPES, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

/** An id as the format writes it: 19 zero-padded decimal digits. */
export function idText(id: bigint): string {
  return id.toString().padStart(19, "0");
}

/** The header line. */
export function headerLine(backend: string, lastTs: bigint): string {
  return `{"backend": ${pyJsonString(backend)}, "format": "simplebroker-dump", "last_ts": "${idText(lastTs)}", "type": "header", "version": 1}`;
}

/** An alias line. */
export function aliasLine(alias: string, target: string): string {
  return `{"alias": ${pyJsonString(alias)}, "target": ${pyJsonString(target)}, "type": "alias"}`;
}

/** A message line. */
export function messageLine(queue: string, body: string, id: bigint): string {
  return `{"body": ${pyJsonString(body)}, "id": "${idText(id)}", "queue": ${pyJsonString(queue)}, "type": "message"}`;
}
