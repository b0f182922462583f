/**
 * A SQLite watch whose database file is removed or replaced
 * (docs/outages.md#a-database-file-removed-or-replaced): a new file at the
 * path is reopened and its messages delivered, a missing file is waited for
 * (and not recreated), a missing folder ends the watch with one line; and a
 * database deleted and recreated in one process gets its schema again.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { openBroker } from "../../lib/queue/open.ts";
import { QueueWatcher } from "../../lib/watch/watcher.ts";
import { runCli, tempDir } from "../helpers.ts";
import { spawnCli, waitFor } from "./_watch-outage-helpers.ts";

function removeDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

describe("SQLite watch: database file removed or replaced", () => {
  test("broker watch follows --cleanup and a fresh file; exits 1 with one line when the folder goes", async () => {
    using dir = tempDir();
    const folder = join(dir.path, "work");
    const db = join(folder, "q.db");
    expect((await runCli(["-f", db, "write", "jobs", "one"])).exitCode).toBe(0);
    const w = spawnCli(["-f", db, "watch", "jobs"], {});
    try {
      await waitFor(() => w.out.length === 1, 10_000, "first");
      expect((await runCli(["-f", db, "--cleanup"])).exitCode).toBe(0);
      await Bun.sleep(300);
      expect(existsSync(db)).toBe(false); // waiting on a missing file creates nothing
      expect((await runCli(["-f", db, "write", "jobs", "two"])).exitCode).toBe(0);
      const t0 = performance.now();
      await waitFor(() => w.out.length === 2, 5_000, "the new file's message");
      expect(performance.now() - t0).toBeLessThan(2000);
      expect((await runCli(["-f", db, "write", "jobs", "three"])).exitCode).toBe(0);
      await waitFor(() => w.out.length === 3, 5_000, "the next message");
      expect(w.out).toEqual(["one", "two", "three"]);

      rmSync(folder, { recursive: true, force: true });
      const code = await Promise.race([w.proc.exited, Bun.sleep(5_000).then(() => "still running")]);
      expect(code).toBe(1);
      const errors = w.err.filter((l) => !l.startsWith("Watching queue"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("was removed");
    } finally {
      await w.stop();
    }
  }, 30_000);

  test("QueueWatcher reopens a replaced file and keeps running while it is missing", async () => {
    using dir = tempDir();
    const db = join(dir.path, "q.db");
    expect((await runCli(["-f", db, "write", "jobs", "one"])).exitCode).toBe(0);
    const got: string[] = [];
    const watcher = new QueueWatcher("jobs", (m) => void got.push(m.body), { db }).start();
    try {
      await waitFor(() => got.length === 1, 10_000, "first");
      removeDb(db);
      await Bun.sleep(500);
      expect(watcher.isRunning).toBe(true);
      expect(existsSync(db)).toBe(false);
      expect((await runCli(["-f", db, "write", "jobs", "two"])).exitCode).toBe(0);
      await waitFor(() => got.length === 2, 5_000, "the new file's message");
      expect(got).toEqual(["one", "two"]);
    } finally {
      await watcher.stop();
    }
  }, 30_000);

  test("one process: a database deleted and opened again at the same path is set up again", async () => {
    using dir = tempDir();
    const db = join(dir.path, "q.db");
    let broker = await openBroker(db);
    await broker.write("jobs", "one");
    await broker.close();
    removeDb(db);
    broker = await openBroker(db);
    try {
      await broker.write("jobs", "two");
      expect((await broker.read("jobs")).map((m) => m.body)).toEqual(["two"]);
    } finally {
      await broker.close();
    }
  });
});
