// Watchers of one process share one connection and one wake-up source per
// SQLite database (issue 19), so a thousand cost little more than one: the
// open file descriptors barely grow, every watcher still gets its message
// written by another process, also under a low `ulimit -n`. A watcher that
// cannot start says so through `started` and its errorHandler, never silently.
// Watchers of one PostgreSQL schema share one pool and one LISTEN connection too.
import { expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openBroker, QueueWatcher } from "../../index.ts";
import type { BrokerTarget } from "../../lib/core/types.ts";
import { childEnv, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl } from "../services.ts";

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

test("200 QueueWatchers on one PostgreSQL schema share one pool and one LISTEN connection; all deliver", async () => {
  const url = await postgresUrl();
  const schema = uniqueName("sbshare");
  const target: BrokerTarget = {
    backendName: "postgres",
    target: url,
    backendOptions: { schema },
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
  const fds = () => readdirSync("/proc/self/fd").length;
  const got = new Set<string>();
  const first = new QueueWatcher("warm-up", () => {}, { db: target }).start();
  const watchers: QueueWatcher[] = [];
  try {
    await first.started;
    const before = fds();
    for (let i = 0; i < 200; i++) watchers.push(new QueueWatcher(`w${i}`, (m) => void got.add(m.body), { db: target }).start());
    await Promise.all(watchers.map((w) => w.started));
    expect(fds() - before).toBeLessThanOrEqual(8);
    await using writer = await openBroker(target);
    for (let i = 0; i < 200; i++) await writer.write(`w${i}`, `m${i}`);
    const deadline = Date.now() + 20_000;
    while (got.size < 200 && Date.now() < deadline) await Bun.sleep(20);
    expect(got.size).toBe(200);
  } finally {
    await Promise.all([first, ...watchers].map((w) => w.stop()));
    await using admin = await openBroker(target);
    await admin.backend.cleanup?.();
  }
}, 60_000);
