// A suite that needs PostgreSQL or Redis fails at once, with one line naming
// the server, when nothing answers where BROKER_TEST_*_URL points (issue 15:
// with a server down, `npm test` had not finished after 5 minutes). Each case
// runs a real suite in a `bun test` subprocess against a 127.0.0.1 port that
// is closed, or that accepts connections and never answers.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { childEnv } from "./helpers.ts";
import { PREFLIGHT_SECONDS } from "./services.ts";

const ROOT = join(import.meta.dir, "..");
/** A `bun test` subprocess, plus the preflight's wait for a silent server, on a possibly loaded machine. */
const SUBPROCESS_TIMEOUT_MS = 30_000;

/** A 127.0.0.1 port that was free a moment ago and has nothing listening now. */
function closedPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function runSuite(file: string, env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, "test", file], {
    cwd: ROOT,
    env: { ...childEnv(), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: stdout + stderr };
}

describe("test-service preflight", () => {
  test.concurrent(
    "a closed Postgres port fails the suite with one line",
    async () => {
      const port = closedPort();
      const { code, output } = await runSuite("test/cli/postgres-golden.test.ts", {
        BROKER_TEST_POSTGRES_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/test`,
      });
      expect(code).not.toBe(0);
      expect(output).toContain(
        `PostgreSQL for the tests does not answer at postgres://postgres:***@127.0.0.1:${port}/test (BROKER_TEST_POSTGRES_URL): `,
      );
      expect(output).not.toContain("hunter2");
      expect(output).toMatch(/\b0 pass\b/);
    },
    SUBPROCESS_TIMEOUT_MS,
  );

  test.concurrent(
    "a closed Redis port fails the suite with one line",
    async () => {
      const port = closedPort();
      const { code, output } = await runSuite("test/cli/redis-golden.test.ts", {
        BROKER_TEST_REDIS_URL: `redis://127.0.0.1:${port}/0`,
      });
      expect(code).not.toBe(0);
      expect(output).toContain(`Redis for the tests does not answer at redis://127.0.0.1:${port}/0 (BROKER_TEST_REDIS_URL): `);
      expect(output).toMatch(/\b0 pass\b/);
    },
    SUBPROCESS_TIMEOUT_MS,
  );

  test.concurrent(
    "a Redis port that accepts and never answers fails the suite after the preflight wait",
    async () => {
      let accepted = 0;
      const silent = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: { open: () => void accepted++, data() {} },
      });
      try {
        const { code, output } = await runSuite("test/cli/redis-golden.test.ts", {
          BROKER_TEST_REDIS_URL: `redis://127.0.0.1:${silent.port}/0`,
        });
        expect(code).not.toBe(0);
        expect(output).toContain(`(BROKER_TEST_REDIS_URL): no answer within ${PREFLIGHT_SECONDS} s.`);
        expect(accepted).toBeGreaterThan(0);
      } finally {
        silent.stop(true);
      }
    },
    SUBPROCESS_TIMEOUT_MS,
  );
});
