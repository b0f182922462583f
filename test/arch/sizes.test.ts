// Guards the size budget of the source tree: a lib/ file of at most 300 lines,
// a median lib/ file of at most 150, a CLI command file of at most 80. A file
// over its budget is split by responsibility, not trimmed by squeezing lines.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

const LIB_MAX = 300;
const LIB_MEDIAN_MAX = 150;
const COMMAND_MAX = 80;

/** Line counts of the .ts files matching `pattern` under the repository root, by path. */
async function lineCounts(pattern: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const path of new Bun.Glob(pattern).scan({ cwd: ROOT })) {
    const text = await Bun.file(join(ROOT, path)).text();
    // Lines as `wc -l` counts them when the file ends in a newline; a last line without one counts too.
    counts.set(path, text.length === 0 ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0));
  }
  return counts;
}

/** "path (N lines)" for every file over `max`, longest first. */
function over(counts: Map<string, number>, max: number): string[] {
  return [...counts]
    .filter(([, n]) => n > max)
    .sort((a, b) => b[1] - a[1])
    .map(([path, n]) => `${path} (${n} lines)`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe("source sizes", () => {
  test(`every lib/ file has at most ${LIB_MAX} lines`, async () => {
    const lib = await lineCounts("lib/**/*.ts");
    expect(lib.size).toBeGreaterThan(0);
    expect(over(lib, LIB_MAX)).toEqual([]);
  });

  test(`the median lib/ file has at most ${LIB_MEDIAN_MAX} lines`, async () => {
    const lib = await lineCounts("lib/**/*.ts");
    expect(lib.size).toBeGreaterThan(0);
    expect(median([...lib.values()])).toBeLessThanOrEqual(LIB_MEDIAN_MAX);
  });

  test(`every cli/commands/ file has at most ${COMMAND_MAX} lines`, async () => {
    const commands = await lineCounts("cli/commands/**/*.ts");
    expect(commands.size).toBeGreaterThan(0);
    expect(over(commands, COMMAND_MAX)).toEqual([]);
  });
});

describe("the size helpers", () => {
  test("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
