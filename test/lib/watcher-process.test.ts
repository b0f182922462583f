// Watchers across processes (docs/compatibility.md#watchers): a write committed by one process
// wakes a watcher in another (inotify on the -wal file, PRAGMA data_version,
// the poll as the safety net). Child scripts: test/fixtures/watch-fixture.ts
// and test/fixtures/queue-write-fixture.ts. No sleeps: every wait is on a
// child's output or a handler's promise.
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { Queue, QueueMoveWatcher, QueueWatcher, type Message } from "../../index.ts";
import { tempDir, readLines } from "../helpers.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures");
const TIMEOUT = 20_000;

/** A child `bun` process with its stdout read line by line. */
function spawnChild(script: string, args: string[]) {
  const proc = Bun.spawn([process.execPath, join(FIXTURES, script), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: process.env,
  });
  const lines = readLines(proc.stdout);
  return {
    proc,
    /** The next line of stdout (rejects if the child exits first). */
    async nextLine(): Promise<string> {
      const { value, done } = await lines.next();
      if (done) throw new Error(`child exited (${await proc.exited}): ${await new Response(proc.stderr).text()}`);
      return value;
    },
    [Symbol.dispose]: () => {
      if (proc.exitCode === null) proc.kill();
    },
  };
}

/** Messages handed to a watcher in this process, with a wait for the next one. */
function inbox() {
  const queued: Message[] = [];
  const waiting: Array<(m: Message) => void> = [];
  return {
    handler: (m: Message) => {
      const w = waiting.shift();
      if (w) w(m);
      else queued.push(m);
    },
    next: (): Promise<Message> => {
      const m = queued.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

function setup() {
  const dir = tempDir("sb-xproc-");
  return { db: join(dir.path, "test.db"), [Symbol.dispose]: () => dir[Symbol.dispose]() };
}

describe("watchers across processes", () => {
  test(
    "a watcher here receives a message written by a child process",
    async () => {
      using t = setup();
      using q = new Queue("jobs", { dbPath: t.db });
      const box = inbox();
      await using _w = new QueueWatcher("jobs", box.handler, { db: t.db }).start();
      // Make sure the watcher ran its first drain and is now waiting.
      q.write("probe");
      expect((await box.next()).body).toBe("probe");

      using child = spawnChild("queue-write-fixture.ts", [t.db, "jobs", "from the child"]);
      const id = BigInt(await child.nextLine());
      expect(await child.proc.exited).toBe(0);
      expect(await box.next()).toEqual({ body: "from the child", ts: id });
      expect(q.stats()).toMatchObject({ pending: 0, claimed: 2 });
    },
    TIMEOUT,
  );

  test(
    "a watcher in a child process receives a message written here",
    async () => {
      using t = setup();
      using child = spawnChild("watch-fixture.ts", [t.db, "jobs", "consume", "2"]);
      expect(await child.nextLine()).toBe("ready");
      using q = new Queue("jobs", { dbPath: t.db });
      const first = q.write("from the test");
      expect(JSON.parse(await child.nextLine())).toEqual({ body: "from the test", ts: String(first) });
      const second = q.write("and another");
      expect(JSON.parse(await child.nextLine())).toEqual({ body: "and another", ts: String(second) });
      expect(await child.proc.exited).toBe(0);
      expect(q.hasPending()).toBe(false); // consumed by the child
    },
    TIMEOUT,
  );

  test(
    "a peek watcher in a child process sees the message and leaves it",
    async () => {
      using t = setup();
      using child = spawnChild("watch-fixture.ts", [t.db, "jobs", "peek", "1"]);
      expect(await child.nextLine()).toBe("ready");
      using q = new Queue("jobs", { dbPath: t.db });
      const id = q.write("look, don't touch");
      expect(JSON.parse(await child.nextLine())).toEqual({ body: "look, don't touch", ts: String(id) });
      expect(await child.proc.exited).toBe(0);
      expect(q.peekOne({ exactId: id })?.body).toBe("look, don't touch");
    },
    TIMEOUT,
  );

  test(
    "a move watcher here moves what two child processes write",
    async () => {
      using t = setup();
      using q = new Queue("inbox", { dbPath: t.db });
      using done = new Queue("done", { dbPath: t.db });
      const box = inbox();
      await using w = new QueueMoveWatcher("inbox", "done", box.handler, { db: t.db }).start();
      q.write("probe");
      expect((await box.next()).body).toBe("probe");
      for (const body of ["one", "two"]) {
        using child = spawnChild("queue-write-fixture.ts", [t.db, "inbox", body]);
        const id = BigInt(await child.nextLine());
        expect(await box.next()).toEqual({ body, ts: id });
      }
      expect(w.moveCount).toBe(3);
      expect(done.peekMany().map((m) => m.body)).toEqual(["probe", "one", "two"]);
      expect(q.exists()).toBe(false);
    },
    TIMEOUT,
  );
});
