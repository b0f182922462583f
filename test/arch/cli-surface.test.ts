/**
 * CLI commands use the public `Broker` surface: no file under cli/ reaches
 * past it into `broker.backend` (what a command needs, Broker offers).
 */
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const CLI_DIR = resolve(import.meta.dir, "../../cli");

test("no cli/ file touches broker.backend", () => {
  const offenders: string[] = [];
  for (const file of new Glob("**/*.ts").scanSync({ cwd: CLI_DIR })) {
    const lines = readFileSync(join(CLI_DIR, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (/\b\w*[bB]roker\(?\)?\.backend\b/.test(line)) offenders.push(`cli/${file}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(offenders).toEqual([]);
});
