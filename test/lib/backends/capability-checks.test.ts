/**
 * Shared code asks a backend what it can do, never which one it is: outside
 * lib/backends/ no source compares a backend name (`=== "sqlite"`,
 * `target.backendName !== …`, `case "redis":`). The scan reads lib/, cli/
 * and index.ts without comments.
 */
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../../..");
const NAMES = "sqlite|postgres|postgresql|redis|valkey";
const CHECKS = [
  new RegExp(`(===|!==|==|!=)\\s*["'\`](${NAMES})["'\`]`),
  new RegExp(`["'\`](${NAMES})["'\`]\\s*(===|!==|==|!=)`),
  new RegExp(`\\bcase\\s+["'\`](${NAMES})["'\`]`),
  /\b(backendName|backend\.name|config\.backend)\s*(===|!==|==|!=)/,
  /(===|!==|==|!=)\s*[\w.]*\b(backendName|backend\.name|config\.backend)\b/,
];

/** Lines of `source` (comments blanked) that compare a backend name. */
function nameChecks(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  return code
    .split("\n")
    .filter((line) => CHECKS.some((re) => re.test(line)))
    .map((line) => line.trim());
}

test("the scan finds each form of name check, and ignores comments and assignments", () => {
  const found = nameChecks(
    [
      `if (backend.name === "sqlite") a();`,
      `const x = target.backendName !== 'redis';`,
      `switch (n) { case "postgres": break; }`,
      `if ("valkey" == name) b();`,
      `if (config.backend === DEFAULT) c();`,
      `// if (backend.name === "sqlite")`,
      `/* target.backendName === "redis" */`,
      `const t = { backendName: "sqlite" };`,
    ].join("\n"),
  );
  expect(found.length).toBe(5);
});

test("no backend-name comparison outside lib/backends/", async () => {
  const offenders: string[] = [];
  for (const pattern of ["lib/**/*.ts", "cli/**/*.ts", "index.ts"]) {
    for await (const path of new Glob(pattern).scan({ cwd: ROOT })) {
      if (path.startsWith("lib/backends/")) continue;
      for (const line of nameChecks(await Bun.file(resolve(ROOT, path)).text())) offenders.push(`${path}: ${line}`);
    }
  }
  expect(offenders).toEqual([]);
});
