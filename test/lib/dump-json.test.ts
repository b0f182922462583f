/**
 * The dump line encoding against Python itself: thousands of generated
 * strings (ASCII, every C0 control, DEL, quotes, backslashes, Latin-1, BMP,
 * astral pairs and lone surrogates) serialised by pyJsonString and by
 * python3's json.dumps(s, ensure_ascii=False) must be the same text.
 * Strings travel to Python as JSON.stringify output (lone surrogates as
 * \udXXX escapes, which json.loads keeps as lone surrogates, as Python would
 * hold them) and come back ASCII-escaped.
 */
import { describe, expect, test } from "bun:test";
import { aliasLine, headerLine, messageLine, pyJsonString } from "../../lib/dump/json.ts";
import { seededRandom } from "../helpers.ts";

const PY = `
import json, sys
for line in sys.stdin:
    s = json.loads(line)
    print(json.dumps(json.dumps(s, ensure_ascii=False)))
`;

function python(strings: string[]): string[] {
  const input = strings.map((s) => JSON.stringify(s)).join("\n") + "\n";
  const r = Bun.spawnSync(["python3", "-c", PY], { stdin: new TextEncoder().encode(input) });
  expect(r.exitCode).toBe(0);
  return r.stdout
    .toString()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as string);
}

function generate(count: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const pick = (): string => {
    const r = rand();
    if (r < 0.15) return String.fromCharCode(Math.floor(rand() * 0x20)); // C0 controls
    if (r < 0.25) return ['"', "\\", "/", "\u007f", "'"][Math.floor(rand() * 5)]!;
    if (r < 0.5) return String.fromCharCode(0x20 + Math.floor(rand() * 0x5f));
    if (r < 0.6) return String.fromCharCode(0x80 + Math.floor(rand() * 0x780));
    if (r < 0.7) return String.fromCharCode(0x800 + Math.floor(rand() * (0xd800 - 0x800)));
    if (r < 0.8) return String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff)); // a surrogate pair
    if (r < 0.9) return String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)); // a lone surrogate
    return String.fromCharCode(0xe000 + Math.floor(rand() * 0x2000));
  };
  const out: string[] = ["", "plain", "two\nlines", "tab\there", 'say "hi"', "back\\slash", "\u0000\u001f\u007f\u2028\u2029"];
  while (out.length < count) {
    let s = "";
    for (let n = Math.floor(rand() * 24); n > 0; n--) s += pick();
    out.push(s);
  }
  return out;
}

describe("pyJsonString", () => {
  test("equals Python's json.dumps(ensure_ascii=False) on 5,000 generated strings", () => {
    const strings = generate(5000, 13);
    const expected = python(strings);
    expect(expected.length).toBe(strings.length);
    for (let i = 0; i < strings.length; i++) {
      if (pyJsonString(strings[i]!) !== expected[i])
        expect({ input: strings[i], ours: pyJsonString(strings[i]!) }).toEqual({ input: strings[i], ours: expected[i]! });
    }
  });

  test("records: sorted keys and Python's separators", () => {
    const code = `
import json
print(json.dumps({"type": "header", "format": "simplebroker-dump", "version": 1, "backend": "sqlite", "last_ts": "0000000000000000042"}, ensure_ascii=False, sort_keys=True))
print(json.dumps({"type": "alias", "alias": "in", "target": "jobs"}, ensure_ascii=False, sort_keys=True))
print(json.dumps({"type": "message", "queue": "jobs", "body": "é\\n\\u0001", "id": "1796041340028583936"}, ensure_ascii=False, sort_keys=True))
`;
    const r = Bun.spawnSync(["python3", "-c", code]);
    const ours = [headerLine("sqlite", 42n), aliasLine("in", "jobs"), messageLine("jobs", "é\n\u0001", 1796041340028583936n)];
    expect(r.stdout.toString()).toBe(`${ours.join("\n")}\n`);
  });
});
