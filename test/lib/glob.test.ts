// The glob matcher against Python's own `fnmatch.fnmatchcase` (issue 19, item 1):
// the same answer on thousands of generated patterns and names, and in linear time.
import { describe, expect, test } from "bun:test";
import { globLiteralPrefix, globMatch } from "../../lib/util/glob.ts";
import { seededRandom } from "../helpers.ts";

/** Python's answers for `[name, pattern]` pairs, from one python3 process ("E" when fnmatch raises). */
async function pythonAnswers(pairs: Array<[string, string]>): Promise<string[]> {
  const script = [
    "import sys, json, fnmatch",
    "for line in sys.stdin:",
    "    name, pat = json.loads(line)",
    "    try: r = '1' if fnmatch.fnmatchcase(name, pat) else '0'",
    "    except Exception: r = 'E'",
    "    sys.stdout.write(r + '\\n')",
  ].join("\n");
  const proc = Bun.spawn(["python3", "-c", script], {
    stdin: new Blob([pairs.map((p) => JSON.stringify(p)).join("\n") + "\n"]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  return out.trimEnd().split("\n");
}

function pick(rand: () => number, alphabet: string, maxLen: number): string {
  const n = Math.floor(rand() * (maxLen + 1));
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

/** A name shaped like `pattern` (wildcards filled in at random), so that about half of the pairs match. */
function instantiate(rand: () => number, pattern: string, alphabet: string): string {
  let s = "";
  for (const c of pattern) {
    if (c === "*") s += pick(rand, alphabet, 2);
    else if (c === "?" || c === "[" || c === "]" || c === "!") s += alphabet[Math.floor(rand() * alphabet.length)];
    else if (c !== "-") s += c;
  }
  return s;
}

describe("globMatch", () => {
  test("agrees with python3 fnmatch.fnmatchcase on 20,000 generated patterns and names", async () => {
    const rand = seededRandom(19);
    const pairs: Array<[string, string]> = [];
    // Set syntax dense on purpose: odd ranges, `]` first, `!`, `^`, `\\`, unclosed `[`, dashes everywhere.
    const patternChars = "ab-z*?[]!^\\%.&~|A_";
    const nameChars = "abz-!^]\\%._A&";
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick(rand, patternChars, 10);
      const name = rand() < 0.3 ? pick(rand, nameChars, 6) : instantiate(rand, pattern, nameChars);
      pairs.push([name, pattern]);
    }
    const expected = await pythonAnswers(pairs);
    const mismatches = pairs.filter(([name, pattern], i) => (globMatch(name, pattern) ? "1" : "0") !== expected[i]);
    expect(mismatches).toEqual([]);
    // The generator must reach both answers often, or the comparison proves little.
    const ones = expected.filter((r) => r === "1").length;
    expect(ones).toBeGreaterThan(2000);
    expect(expected.length - ones).toBeGreaterThan(2000);
  }, 30_000);

  test("the odd cases, as Python answers them", async () => {
    const cases: Array<[string, string]> = [
      ["a", "[z-a]"],
      ["-", "[z-a]"],
      ["q", "[!z-a]"],
      ["a", "[%-z]x"],
      ["ax", "[%-z]*"],
      ["]", "[]]"],
      ["]", "[!]]"],
      ["[", "["],
      ["[ab", "[ab"],
      ["a", "[a-]"],
      ["-", "[a-]"],
      ["-", "[a-c-e]"],
      ["d", "[a-c-e]"],
      ["-", "[z-a!-c]"],
      ["c", "[z-a!-c]"],
      ["b", "[z-a!b]"],
      ["x", "[z-a!b]"],
      ["^", "[^]"],
      ["\\", "[\\]"],
      ["a.b", "a.b"],
      ["aXb", "a.b"],
      ["", "*"],
      ["", "?"],
      ["abc", "a**c"],
    ];
    const expected = await pythonAnswers(cases);
    expect(cases.map(([n, p]): string => (globMatch(n, p) ? "1" : "0"))).toEqual(expected);
  }, 30_000);

  test("patterns that make backtracking matchers explode finish on 512-character names", () => {
    const name = "a".repeat(511) + "c";
    for (const pattern of ["*a*a*a*b", "*a*a*a*a*b", "*****b", `${"*a".repeat(40)}*b`]) {
      expect(globMatch(name, pattern)).toBe(false);
      expect(globMatch(name.slice(0, -1) + "b", pattern)).toBe(true);
    }
  });

  test("literal prefix stops at the first wildcard or bracket", () => {
    expect(globLiteralPrefix("jobs.*")).toBe("jobs.");
    expect(globLiteralPrefix("a[b")).toBe("a");
    expect(globLiteralPrefix("plain")).toBe("plain");
  });
});
