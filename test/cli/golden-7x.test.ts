// The additions adopted from SimpleBroker 7.x (write -t/--json, rename, broadcast --queue,
// peek --include-claimed, dump/load, JSON ids as strings, batched read --all) against the
// transcript recorded from SimpleBroker 7.3.2 (test/golden/transcript-7x.json): the scenarios
// are replayed against `bun cli/index.ts` once per backend, and each scenario is its own test,
// so a failure names the scenario and the backend. Which feature each belongs to:
//   7x-write-*            write -t / --json           7x-rename-*      rename
//   7x-broadcast-queue*   broadcast --queue           7x-peek-*        peek --include-claimed
//   7x-dump-*, 7x-load-*  dump / load                 7x-read-all-*    BROKER_READ_COMMIT_INTERVAL
// Steps that print JSON ids set BROKER_JSON_IDS=string (7.x always prints ids as strings).
// On Postgres and Redis (a .broker.toml per scenario folder, one schema / namespace each) the
// dump and load scenarios are left out: a dump's header names its source backend ("sqlite" in
// the recording), and dumps between backends are tested in test/cli/dump-load.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { childEnv, CLI, tempDir } from "../helpers.ts";
import { postgresUrl, redisUrl, unlinkRedisKeys } from "../services.ts";

const GOLDEN = join(import.meta.dir, "../golden");
const scenarios = (await Bun.file(join(GOLDEN, "scenarios-7x.json")).json()) as { name: string }[];
const dir = tempDir("sb-golden-7x-");
const DUMP_LOAD = /^7x-(dump|load)-/;

interface Run {
  pid: number;
  summary: string;
  failures: Map<string, string>;
}

async function replay(extra: string[]): Promise<Run> {
  const proc = Bun.spawn(
    [
      "python3",
      join(GOLDEN, "golden.py"),
      "check",
      "--cli",
      `${process.execPath} ${CLI}`,
      "--scenarios",
      join(GOLDEN, "scenarios-7x.json"),
      "--transcript",
      join(GOLDEN, "transcript-7x.json"),
      ...extra,
    ],
    { env: childEnv(), stdout: "pipe", stderr: "pipe" },
  );
  const [output, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (stderr.trim()) console.error(stderr);
  const failures = new Map<string, string>();
  let current: string | undefined;
  for (const line of output.split("\n")) {
    if (line.startsWith("FAIL ")) failures.set((current = line.slice(5)), "");
    else if (current && line.startsWith("  ")) failures.set(current, `${failures.get(current)}${line}\n`);
  }
  return { pid: proc.pid, summary: output.trimEnd().split("\n").at(-1) ?? "", failures };
}

/** One describe per backend: the replay in beforeAll, then one test per scenario it ran. */
function suite(backend: string, toml: (() => Promise<string>) | undefined, cleanup: (run: Run) => Promise<void>): void {
  const names = scenarios.map((s) => s.name).filter((n) => !toml || !DUMP_LOAD.test(n));
  let run: Run | undefined;
  describe(`7.3.2 transcript on ${backend}`, () => {
    beforeAll(async () => {
      const extra = toml ? ["--toml", await toml(), "--skip", DUMP_LOAD.source] : [];
      run = await replay(extra);
    }, 300_000);
    afterAll(async () => {
      if (run) await cleanup(run);
    });
    test("every scenario ran", () => {
      expect(run!.summary).toBe(`${names.length - run!.failures.size} passed, ${run!.failures.size} failed`);
    });
    for (const name of names) {
      test(`${backend}: ${name}`, () => {
        // The failing steps, as golden.py reports them (empty when the scenario matched).
        expect(run!.failures.has(name) ? `${name}\n${run!.failures.get(name)}` : "").toBe("");
      });
    }
  });
}

afterAll(() => dir[Symbol.dispose]());

test("the 7.3.2 transcript has every scenario of the scenario file", async () => {
  const transcript = (await Bun.file(join(GOLDEN, "transcript-7x.json")).json()) as Record<string, unknown>;
  expect(Object.keys(transcript).sort()).toEqual(scenarios.map((s) => s.name).sort());
});

suite("sqlite", undefined, async () => {});

suite(
  "postgres",
  async () => {
    const file = join(dir.path, "pg.toml");
    writeFileSync(
      file,
      `version = 1\nbackend = "postgres"\ntarget = "${await postgresUrl()}"\n\n[backend_options]\nschema = "{SCHEMA}"\n`,
    );
    return file;
  },
  async (run) => {
    // golden.py names each schema golden_<scenario>_<its pid>: drop exactly this run's.
    const admin = new SQL(await postgresUrl(), { max: 1 });
    try {
      const rows = await admin.unsafe(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'golden\\_7x\\_%' AND nspname LIKE $1",
        [`%\\_${run.pid}`],
      );
      for (const r of rows as { nspname: string }[]) await admin.unsafe(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
    } finally {
      await admin.close();
    }
  },
);

suite(
  "redis",
  async () => {
    const file = join(dir.path, "redis.toml");
    writeFileSync(
      file,
      `version = 1\nbackend = "redis"\ntarget = "${await redisUrl()}"\n\n[backend_options]\nnamespace = "{SCHEMA}"\n`,
    );
    return file;
  },
  async (run) => {
    await unlinkRedisKeys(await redisUrl(), `simplebroker:golden_7x_*_${run.pid}:*`);
  },
);
