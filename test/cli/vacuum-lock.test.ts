// The vacuum lock through the real CLI (issue 19, item 8 and the vacuum part of item 7): a lock
// whose owner process is gone is taken over at once instead of blocking --vacuum for 300 s, a live
// owner's lock is respected, and a vacuum stopped by SIGTERM/SIGINT/SIGHUP removes its lock.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createSqliteBackend } from "../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { CLI, childEnv, runCli, tempDir } from "../helpers.ts";

const SLOW = 60_000;

/** A folder whose .broker.db holds `claimed` claimed messages. */
async function withClaimed(dir: string, claimed: number): Promise<void> {
  const b = createSqliteBackend(join(dir, ".broker.db"), resolveConfig());
  await b.write(
    "q",
    Array.from({ length: claimed }, (_, i) => `m${i}`),
  );
  expect((await b.claim("q", { limit: claimed })).length).toBe(claimed);
  await b.close();
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

describe("--vacuum and its lock file", () => {
  test.concurrent(
    "a lock left by a process that is gone is taken over at once",
    async () => {
      using d = tempDir();
      await withClaimed(d.path, 3);
      const lock = join(d.path, ".broker.vacuum.lock");
      writeFileSync(lock, `${await deadPid()}\n`);
      const r = await runCli(["--vacuum"], { cwd: d.path });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("Vacuumed 3 claimed messages");
      expect(r.stderr).toContain(`Removed stale vacuum lock file: ${lock} (owner process`);
      expect(r.stderr).not.toContain("skipped");
      expect(existsSync(lock)).toBe(false);
    },
    SLOW,
  );

  test.concurrent(
    "a live owner's lock is respected; the same pid with another start time is not that owner",
    async () => {
      using d = tempDir();
      await withClaimed(d.path, 2);
      const lock = join(d.path, ".broker.vacuum.lock");
      writeFileSync(lock, `${process.pid}\n`);
      expect(await runCli(["--vacuum"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: "Vacuum skipped: another process holds the vacuum lock\n",
        exitCode: 0,
      });
      expect(existsSync(lock)).toBe(true);
      // Our pid, but a start time it never had: the pid was reused, the owner is gone.
      writeFileSync(lock, `${process.pid}\n1\n${hostname()}\n`);
      const r = await runCli(["--vacuum"], { cwd: d.path });
      expect(r.stderr).toContain("Vacuumed 2 claimed messages");
      expect(existsSync(lock)).toBe(false);
    },
    SLOW,
  );

  // SIGINT ends as 3.6.1 ends on Ctrl-C (a blank line, `simplebroker: interrupted`, exit 0); the others 128 + n.
  const ENDINGS = {
    SIGINT: { stdout: "", stderr: "\nsimplebroker: interrupted\n", exitCode: 0 },
    SIGTERM: { stdout: "", stderr: "", exitCode: 143 },
    SIGHUP: { stdout: "", stderr: "", exitCode: 129 },
  };
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test.concurrent(
      `${signal} during a vacuum removes its lock and ends with the usual status; the next --vacuum runs`,
      async () => {
        using d = tempDir();
        await withClaimed(d.path, 3000);
        const lock = join(d.path, ".broker.vacuum.lock");
        // One row per batch: thousands of transactions, so the signal lands mid-vacuum.
        const env = childEnv({ BROKER_VACUUM_BATCH_SIZE: "1", BROKER_SYNC_MODE: "OFF" });
        const proc = Bun.spawn([process.execPath, CLI, "--vacuum"], { cwd: d.path, env, stdout: "pipe", stderr: "pipe" });
        while (!existsSync(lock) && proc.exitCode === null) await Bun.sleep(2);
        expect(proc.exitCode).toBeNull();
        proc.kill(signal);
        const [stdout, stderr, exitCode] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        expect({ stdout, stderr, exitCode }).toEqual(ENDINGS[signal]);
        expect(existsSync(lock)).toBe(false);
        const r = await runCli(["--vacuum"], { cwd: d.path });
        expect(r.exitCode).toBe(0);
        expect(r.stderr).toMatch(/^Vacuumed \d+ claimed messages in/);
      },
      SLOW,
    );
  }
});
