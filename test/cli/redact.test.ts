// No password in any CLI message (issue 19, item 6): generated passwords with `/`, `#`, `?`, `@`,
// `%`, `:` … in BROKER_BACKEND_TARGET (raw and URL-encoded) or BROKER_BACKEND_PASSWORD, through the
// error paths (nothing listens on port 1, malformed URLs) and the success paths of init, --status
// --json and --cleanup on the real Postgres server (trust authentication ignores the password).
import { describe, expect, test } from "bun:test";
import { runCli, tempDir, uniqueName } from "../helpers.ts";
import { expectHidden, passwords } from "../lib/backends/passwords.ts";

const SLOW = 120_000;

async function cli(args: string[], env: Record<string, string>, pw: string) {
  using d = tempDir();
  const r = await runCli(args, { cwd: d.path, env });
  expectHidden(r.stdout + r.stderr, pw);
  return r;
}

describe("postgres", () => {
  test.concurrent(
    "unreachable or malformed targets: exit 1, the password never shows",
    async () => {
      for (const pw of passwords(8, 11)) {
        for (const target of [
          `postgres://postgres:${pw}@127.0.0.1:1/test`,
          `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:1/test`,
        ]) {
          const env = { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: target };
          expect((await cli(["--status", "--json"], env, pw)).exitCode).toBe(1);
          expect((await cli(["write", "q", "x"], env, pw)).exitCode).toBe(1);
        }
        const parts = {
          BROKER_BACKEND: "postgres",
          BROKER_BACKEND_HOST: "127.0.0.1",
          BROKER_BACKEND_PORT: "1",
          BROKER_BACKEND_PASSWORD: pw,
        };
        expect((await cli(["--status"], parts, pw)).exitCode).toBe(1);
      }
    },
    SLOW,
  );

  test.concurrent(
    "init, --status --json and --cleanup on the real server show the target without the password",
    async () => {
      for (const pw of passwords(4, 12)) {
        const schema = uniqueName("sb_redact");
        const env = {
          BROKER_BACKEND: "postgres",
          BROKER_BACKEND_HOST: "127.0.0.1",
          BROKER_BACKEND_USER: "postgres",
          BROKER_BACKEND_DATABASE: "test",
          BROKER_BACKEND_PASSWORD: pw,
          BROKER_BACKEND_SCHEMA: schema,
        };
        const shown = `postgresql://postgres:***@127.0.0.1:5432/test (schema ${schema})`;
        expect(await cli(["init"], env, pw)).toEqual({
          stdout: "",
          stderr: `Initialized SimpleBroker target: ${shown}\n`,
          exitCode: 0,
        });
        expect((await cli(["--status", "--json"], env, pw)).exitCode).toBe(0);
        expect(await cli(["--cleanup"], env, pw)).toEqual({
          stdout: "",
          stderr: `Cleaned up SimpleBroker target: ${shown}\n`,
          exitCode: 0,
        });
      }
    },
    SLOW,
  );
});

describe("redis", () => {
  test.concurrent(
    "unreachable or malformed targets: exit 1, the password never shows",
    async () => {
      for (const pw of passwords(2, 13)) {
        for (const target of [`redis://:${pw}@127.0.0.1:1/0`, `redis://user:${encodeURIComponent(pw)}@127.0.0.1:1/0`]) {
          expect(
            (await cli(["--status", "--json"], { BROKER_BACKEND: "redis", BROKER_BACKEND_TARGET: target }, pw)).exitCode,
          ).toBe(1);
        }
        const env = { BROKER_BACKEND: "redis", BROKER_BACKEND_TARGET: "redis://127.0.0.1:1/0", BROKER_BACKEND_PASSWORD: pw };
        expect((await cli(["read", "q"], env, pw)).exitCode).toBe(1);
      }
    },
    SLOW,
  );
});
