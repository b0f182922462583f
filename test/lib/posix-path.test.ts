import { describe, expect, test } from "bun:test";
import * as node from "node:path";
import * as ours from "../../lib/util/posix-path.ts";
import { seededRandom } from "../helpers.ts";

const ATOMS = ["", "a", "b", ".", "..", "/", "//", "...", "a.b", " ", "/a", "a/", "./", "../", "é"];

function randomPath(rand: () => number, maxAtoms: number): string {
  let s = "";
  const n = Math.floor(rand() * maxAtoms);
  for (let i = 0; i < n; i++) s += ATOMS[Math.floor(rand() * ATOMS.length)];
  return s;
}

describe("posix-path gives node:path's answers", () => {
  test.each([
    ["/", "/"],
    ["//a", "//"],
    ["a//b", "a/"],
    ["/a/b/", "/a"],
    ["a", "."],
    ["", "."],
  ])("dirname(%p) = %p", (input, want) => {
    expect(ours.dirname(input)).toBe(want);
    expect(node.dirname(input)).toBe(want);
  });

  test("join, resolve, normalize, dirname, basename and isAbsolute on 50,000 generated paths", () => {
    const rand = seededRandom(20261127);
    const mismatches: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const [p, q, r] = [randomPath(rand, 7), randomPath(rand, 5), randomPath(rand, 4)];
      const pairs: [string, unknown, unknown][] = [
        ["dirname", node.dirname(p), ours.dirname(p)],
        ["basename", node.basename(p), ours.basename(p)],
        ["isAbsolute", node.isAbsolute(p), ours.isAbsolute(p)],
        ["normalize", node.normalize(p), ours.normalize(p)],
        ["join", node.join(p, q, r), ours.join(p, q, r)],
        ["resolve", node.resolve(p, q, r), ours.resolve(p, q, r)],
        ["resolve1", node.resolve(p), ours.resolve(p)],
      ];
      for (const [name, want, got] of pairs)
        if (want !== got)
          mismatches.push(`${name}(${JSON.stringify([p, q, r])}): ${JSON.stringify(want)} != ${JSON.stringify(got)}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(ours.join()).toBe(node.join());
  });
});
