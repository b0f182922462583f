// Watchers of one process share one connection and one wake-up source per
// SQLite database (issue 19), so a thousand cost little more than one: the
// open file descriptors barely grow, every watcher still gets its message
// written by another process, also under a low `ulimit -n`. A watcher that
// cannot start says so through `started` and its errorHandler, never silently.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { QueueWatcher } from "../../index.ts";
import { childEnv, tempDir } from "../helpers.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/many-watchers-fixture.ts");

interface Report {
  before: number;
  after: number;
  delivered: number;
  startFailures: number;
  reported: number;
  writer: number;
  rssMb: number;
}

async function runFixture(db: string, count: number, ulimit?: number): Promise<Report> {
  const cmd = [process.execPath, FIXTURE, db, String(count)];
  const argv = ulimit === undefined ? cmd : ["sh", "-c", `ulimit -n ${ulimit} && exec "$@"`, "sh", ...cmd];
  const proc = Bun.spawn(argv, { env: childEnv(), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`fixture exited ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").pop()!) as Report;
}

test("1,000 QueueWatchers on one SQLite file: fds grow by a small constant, all deliver", async () => {
  using d = tempDir();
  const r = await runFixture(join(d.path, "many.db"), 1000);
  expect(r.startFailures).toBe(0);
  expect(r.reported).toBe(0);
  expect(r.writer).toBe(0);
  expect(r.after - r.before).toBeLessThanOrEqual(8);
  expect(r.delivered).toBe(1000);
}, 60_000);

test("under ulimit -n 256, 1,000 watchers still all start and deliver", async () => {
  using d = tempDir();
  const r = await runFixture(join(d.path, "low.db"), 1000, 256);
  expect(r.startFailures).toBe(0);
  expect(r.reported).toBe(0);
  expect(r.delivered).toBe(1000);
}, 60_000);

test("a watcher that cannot open its database rejects `started` and calls its errorHandler", async () => {
  using d = tempDir();
  const notDb = join(d.path, "notes.txt");
  writeFileSync(notDb, "plain text, not a database\n");
  const calls: Array<[string, unknown]> = [];
  const w = new QueueWatcher("q", () => {}, {
    db: notDb,
    errorHandler: (error, message) => {
      calls.push([error.message, message]);
      return false;
    },
  }).start();
  await expect(w.started).rejects.toThrow(/not a valid SQLite database/);
  expect(calls).toEqual([[expect.stringMatching(/not a valid SQLite database/), undefined]]);
  expect(w.isRunning).toBe(false);
  await w.stop();
});

test("without an errorHandler, run() rejects with the start error", async () => {
  using d = tempDir();
  const blocker = join(d.path, "file");
  writeFileSync(blocker, "");
  const w = new QueueWatcher("q", () => {}, { db: join(blocker, "sub", "x.db") });
  await expect(w.run()).rejects.toThrow(/ENOTDIR/);
});
