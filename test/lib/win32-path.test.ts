// The Windows path rules run on every machine: lib/util/win32-path.ts must
// give node:path's `win32` answers (drive letters, `\` and `/`, UNC shares,
// device paths), checked on generated inputs as posix-path.test.ts does for
// POSIX. A Windows binary depends on these (issue 15: `-d C:\data` was not
// even absolute).
import { describe, expect, test } from "bun:test";
import { win32 as node } from "node:path";
import * as ours from "../../lib/util/win32-path.ts";
import { seededRandom } from "../helpers.ts";

const ATOMS = [
  "",
  "a",
  "b",
  ".",
  "..",
  "\\",
  "/",
  "\\\\",
  "//",
  "...",
  "a.b",
  " ",
  "C:",
  "c:",
  "D:",
  "C:\\",
  "\\a",
  "a\\",
  ".\\",
  "..\\",
  "\\\\srv\\share",
  "//srv/share/",
  "\\\\?\\",
  "\\\\.\\",
  ":",
  "é",
];

function randomPath(rand: () => number, maxAtoms: number): string {
  let s = "";
  const n = Math.floor(rand() * maxAtoms);
  for (let i = 0; i < n; i++) s += ATOMS[Math.floor(rand() * ATOMS.length)];
  return s;
}

describe("win32-path gives node:path's win32 answers", () => {
  test.each([
    ["C:\\data", true],
    ["C:/data", true],
    ["C:data", false],
    ["\\\\server\\share\\q.db", true],
    ["\\data", true],
    ["data\\x", false],
  ])("isAbsolute(%p) = %p", (input, want) => {
    expect(ours.isAbsolute(input)).toBe(want);
    expect(node.isAbsolute(input)).toBe(want);
  });

  test.each([
    [["C:\\queues", ".broker.db"], "C:\\queues\\.broker.db"],
    [["\\\\server\\share", "q", "..", "x.db"], "\\\\server\\share\\x.db"],
    [["C:/a//b/", "./c"], "C:\\a\\b\\c"],
  ])("join(%p) = %p", (parts, want) => {
    expect(ours.join(...parts)).toBe(want);
    expect(node.join(...parts)).toBe(want);
  });

  test.each([
    ["C:\\", "C:\\"],
    ["C:\\a\\b.db", "C:\\a"],
    ["\\\\server\\share\\b.db", "\\\\server\\share\\"],
    ["\\\\server\\share", "\\\\server\\share"],
    ["C:a", "C:"],
  ])("dirname(%p) = %p", (input, want) => {
    expect(ours.dirname(input)).toBe(want);
    expect(node.dirname(input)).toBe(want);
  });

  test("join, resolve, normalize, dirname, basename and isAbsolute on 20,000 generated paths", () => {
    const rand = seededRandom(20261130);
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const [p, q, r] = [randomPath(rand, 6), randomPath(rand, 4), randomPath(rand, 3)];
      const pairs: [string, unknown, unknown][] = [
        ["dirname", node.dirname(p), ours.dirname(p)],
        ["basename", node.basename(p), ours.basename(p)],
        ["isAbsolute", node.isAbsolute(p), ours.isAbsolute(p)],
        ["normalize", node.normalize(p), ours.normalize(p)],
        ["join", node.join(p, q, r), ours.join(p, q, r)],
        ["resolve", node.resolve(p, q, r), ours.resolve(p, q, r)],
        ["resolve1", node.resolve(p), ours.resolve(p)],
      ];
      for (const [name, want, got] of pairs) {
        if (want !== got)
          mismatches.push(`${name}(${JSON.stringify([p, q, r])}): ${JSON.stringify(want)} != ${JSON.stringify(got)}`);
      }
    }
    expect(mismatches.slice(0, 8)).toEqual([]);
    expect(ours.join()).toBe(node.join());
  });
});
