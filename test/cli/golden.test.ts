// Guards drop-in compatibility of the CLI as a whole (issue 2): every scenario
// recorded from the original SimpleBroker 3.6.1 (test/golden/transcript.json)
// must give the same exit codes and byte-identical stdout when replayed
// against `bun cli/index.ts`.
import { expect, test } from "bun:test";
import { CLI, goldenCheck } from "../helpers.ts";

test("all 49 golden scenarios match the 3.6.1 transcript", async () => {
  const { summary, output, exitCode } = await goldenCheck(`${process.execPath} ${CLI}`);
  if (summary !== "49 passed, 0 failed") console.error(output);
  expect(summary).toBe("49 passed, 0 failed");
  expect(exitCode).toBe(0);
}, 120_000);
