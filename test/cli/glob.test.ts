// Globs through the real CLI on SQLite, Postgres and Redis (issue 19, item 1): patterns that make a
// backtracking matcher run for minutes finish at once on 512-character names, `[z-a]` is an empty
// set (no match, not an error), and `broadcast -p '[%-z]*'` reaches the same queues on every backend.
import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient, SQL } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

const PG_URL = await postgresUrl();
const REDIS_URL = await redisUrl();
/** Seconds, not minutes: ample for two CLI runs on a loaded machine, far too little for exponential backtracking. */
const QUICK = 15_000;

const LONG = `${"a".repeat(511)}c`;
const QUEUES = ["9n", "Zed", "_x", "abc", "m-1.d", LONG];
const EVIL = ["*a*a*a*b", "*a*a*a*a*b", "*****b"];

const schema = uniqueName("sb_glob");
const namespace = uniqueName("sb_glob");
const dirs = { sqlite: tempDir("sb-glob-"), postgres: tempDir("sb-glob-pg-"), redis: tempDir("sb-glob-redis-") };
writeFileSync(
  join(dirs.postgres.path, ".broker.toml"),
  `version = 1\nbackend = "postgres"\ntarget = "${PG_URL}"\n\n[backend_options]\nschema = "${schema}"\n`,
);
writeFileSync(
  join(dirs.redis.path, ".broker.toml"),
  `version = 1\nbackend = "redis"\ntarget = "${REDIS_URL}"\n\n[backend_options]\nnamespace = "${namespace}"\n`,
);

afterAll(async () => {
  const pg = new SQL(PG_URL);
  await pg.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await pg.close();
  const redis = new RedisClient(REDIS_URL);
  const [, keys] = (await redis.send("SCAN", ["0", "MATCH", `simplebroker:${namespace}:*`, "COUNT", "100000"])) as [
    string,
    string[],
  ];
  if (keys.length) await redis.send("UNLINK", keys);
  redis.close();
  for (const d of Object.values(dirs)) d[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

const broker = (backend: keyof typeof dirs, args: string[]) =>
  runCli(args, { cwd: dirs[backend].path, env: backend === "sqlite" ? {} : { BROKER_PROJECT_SCOPE: "1" } });

for (const backend of ["sqlite", "postgres", "redis"] as const) {
  describe(backend, () => {
    test("queues for the glob cases", async () => {
      for (const q of QUEUES)
        expect(await broker(backend, ["write", q, "seed"])).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    }, 30_000);

    for (const pattern of EVIL) {
      test(
        `list --pattern and broadcast -p '${pattern}' against a 512-character name finish at once`,
        async () => {
          expect(await broker(backend, ["list", "--pattern", pattern])).toEqual({ stdout: "", stderr: "", exitCode: 0 });
          expect(await broker(backend, ["broadcast", "-p", pattern, "never"])).toEqual({ stdout: "", stderr: "", exitCode: 2 });
        },
        QUICK,
      );
    }

    test(
      "list --pattern '[z-a]' is an empty set: no match, exactly like a pattern that matches nothing",
      async () => {
        const none = await broker(backend, ["list", "--pattern", "zzz*"]);
        expect(none).toEqual({ stdout: "", stderr: "", exitCode: 0 });
        expect(await broker(backend, ["list", "--pattern", "[z-a]"])).toEqual(none);
        expect(await broker(backend, ["broadcast", "-p", "[z-a]*", "never"])).toEqual({ stdout: "", stderr: "", exitCode: 2 });
      },
      QUICK,
    );

    test(
      "broadcast -p '[%-z]*' reaches every queue (the range % to z holds every name's first character)",
      async () => {
        expect(await broker(backend, ["broadcast", "-p", "[%-z]*", "ranged"])).toEqual({ stdout: "", stderr: "", exitCode: 0 });
        const listed = await broker(backend, ["list"]);
        expect(listed.stdout).toBe(
          [...QUEUES]
            .sort()
            .map((q) => `${q}: 2\n`)
            .join(""),
        );
        expect(await broker(backend, ["peek", LONG, "--all"])).toEqual({ stdout: "seed\nranged\n", stderr: "", exitCode: 0 });
      },
      QUICK,
    );
  });
}
