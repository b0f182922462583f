/** Generated passwords for the redaction tests, and the check that none of their forms shows. */
import { seededRandom } from "../../helpers.ts";

const SPECIAL = "/#?@%:!$&'()*+,;=[] \\\"~^`|<>{}é€";
const PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** `count` passwords of 8–20 characters, each with at least two special characters. */
export function passwords(count: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const char = (set: string) => set[Math.floor(rand() * set.length)]!;
  return Array.from({ length: count }, () => {
    const n = 8 + Math.floor(rand() * 13);
    const chars = Array.from({ length: n }, () => char(rand() < 0.4 ? SPECIAL : PLAIN));
    chars[Math.floor(rand() * n)] = char(SPECIAL);
    chars[Math.floor(rand() * n)] = char("/#?@%:");
    return `Zq${chars.join("")}`;
  });
}

/** Every way a password could show: as given, URL-encoded (also as Python's `quote`), and libpq-escaped. */
function forms(pw: string): string[] {
  const encoded = encodeURIComponent(pw);
  const quoted = encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [pw, encoded, quoted, pw.replaceAll("\\", "\\\\").replaceAll("'", "\\'")];
}

/** Throw (naming the password and the text) when any form of `pw` shows in `text`. */
export function expectHidden(text: string, pw: string): void {
  for (const f of forms(pw)) {
    if (text.includes(f)) throw new Error(`password ${JSON.stringify(pw)} shows in: ${text}`);
  }
}
