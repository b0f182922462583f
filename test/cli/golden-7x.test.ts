// The additions adopted from SimpleBroker 7.x (write -t/--json, rename, broadcast --queue,
// peek --include-claimed, dump/load, JSON ids as strings, batched read --all) against the
// transcript recorded from SimpleBroker 7.3.2 (test/golden/transcript-7x.json): every scenario
// is replayed against `bun cli/index.ts` once, and each scenario is its own test, so a failure
// names the scenario. Which feature each belongs to:
//   7x-write-*            write -t / --json           7x-rename-*      rename
//   7x-broadcast-queue*   broadcast --queue           7x-peek-*        peek --include-claimed
//   7x-dump-*, 7x-load-*  dump / load                 7x-read-all-*    BROKER_READ_COMMIT_INTERVAL
// Steps that print JSON ids set BROKER_JSON_IDS=string (7.x always prints ids as strings).
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { childEnv, CLI } from "../helpers.ts";

const GOLDEN = join(import.meta.dir, "../golden");
const scenarios = (await Bun.file(join(GOLDEN, "scenarios-7x.json")).json()) as { name: string }[];

let failures = new Map<string, string>();
let summary = "";

beforeAll(async () => {
  const proc = Bun.spawn(
    [
      "python3", join(GOLDEN, "golden.py"), "check", "--cli", `${process.execPath} ${CLI}`,
      "--scenarios", join(GOLDEN, "scenarios-7x.json"), "--transcript", join(GOLDEN, "transcript-7x.json"),
    ],
    { env: childEnv(), stdout: "pipe", stderr: "pipe" },
  );
  const [output, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (stderr.trim()) console.error(stderr);
  failures = new Map();
  let current: string | undefined;
  for (const line of output.split("\n")) {
    if (line.startsWith("FAIL ")) failures.set((current = line.slice(5)), "");
    else if (current && line.startsWith("  ")) failures.set(current, `${failures.get(current)}${line}\n`);
  }
  summary = output.trimEnd().split("\n").at(-1) ?? "";
}, 300_000);

test("the 7.3.2 transcript has every scenario of the scenario file", async () => {
  const transcript = (await Bun.file(join(GOLDEN, "transcript-7x.json")).json()) as Record<string, unknown>;
  expect(Object.keys(transcript).sort()).toEqual(scenarios.map((s) => s.name).sort());
  expect(summary).toBe(`${scenarios.length - failures.size} passed, ${failures.size} failed`);
});

for (const { name } of scenarios) {
  test(`7.3.2 scenario ${name}`, () => {
    // The failing steps, as golden.py reports them (empty when the scenario matched).
    expect(failures.has(name) ? `${name}\n${failures.get(name)}` : "").toBe("");
  });
}
