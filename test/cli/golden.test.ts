// Guards drop-in compatibility of the CLI as a whole (issue 2): every scenario
// recorded from the original SimpleBroker 3.6.1 (test/golden/transcript.json)
// must give the same exit codes and byte-identical stdout when replayed
// against `bun cli/index.ts`.
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { CLI } from "../helpers.ts";

const GOLDEN = resolve(import.meta.dir, "../golden");

/** Run golden.py check against a CLI command line; returns its last line and FAIL blocks. */
async function goldenCheck(cli: string): Promise<{ summary: string; output: string; exitCode: number }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BROKER_") && v !== undefined) env[k] = v;
  const proc = Bun.spawn(
    [
      "python3",
      `${GOLDEN}/golden.py`,
      "check",
      "--cli",
      cli,
      "--scenarios",
      `${GOLDEN}/scenarios.json`,
      "--transcript",
      `${GOLDEN}/transcript.json`,
    ],
    { env, stdout: "pipe", stderr: "pipe" },
  );
  const [output, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const lines = output.trimEnd().split("\n");
  return { summary: lines[lines.length - 1] ?? "", output: output + stderr, exitCode };
}

test("all 49 golden scenarios match the 3.6.1 transcript", async () => {
  const { summary, output, exitCode } = await goldenCheck(`${process.execPath} ${CLI}`);
  if (summary !== "49 passed, 0 failed") console.error(output);
  expect(summary).toBe("49 passed, 0 failed");
  expect(exitCode).toBe(0);
}, 120_000);
