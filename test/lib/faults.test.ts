/**
 * Guards the library under faults (docs/on-disk-format.md#recognition, #setup, #transactions):
 * `Queue` and `openBroker` on damaged or foreign database files throw
 * BackendError (never a raw SQLite error) and leave the file byte-identical;
 * a zero-byte file is initialised as a new database; bad arguments throw the
 * typed errors before touching the file; a lock held past the busy timeout,
 * a full disk and a read-only mount surface as BackendError while earlier
 * messages stay readable.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { ArgumentError, BackendError, MessageError, openBroker, Queue, QueueNameError } from "../../index.ts";
import { tempDir } from "../helpers.ts";

const LOCK_FIXTURE = resolve(import.meta.dir, "../fixtures/stress-lock-fixture.ts");
const root = tempDir("sb-faults-");
let n = 0;
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  root[Symbol.dispose]();
});

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

function freshDir(): string {
  const dir = join(root.path, `d${n++}`);
  mkdirSync(dir);
  return dir;
}

let template: string | undefined;

/**
 * A valid database with three pending messages in queue `q`, copied to a
 * path this process never opened (the schema check runs once per path and
 * process, so a file damaged after we opened it would not be re-checked).
 */
function validDb(dir = freshDir()): string {
  if (!template) {
    template = join(root.path, "template.db");
    using q = new Queue("q", { dbPath: template });
    q.writeMany(["one", "two", "three"]);
  }
  const path = join(dir, "ok.db");
  copyFileSync(template, path);
  return path;
}

function overwrite(path: string, offset: number, length: number): void {
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, offset);
  closeSync(fd);
}

function rootPage(path: string, name: string): number {
  const db = new Database(path, { readonly: true });
  const row = db.query("SELECT rootpage FROM sqlite_master WHERE name = ?").get(name) as { rootpage: number };
  db.close();
  return Number(row.rootpage);
}

function edit(path: string, sql: string): void {
  const db = new Database(path, { readwrite: true });
  db.run(sql);
  db.close();
}

function pendingBodies(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const rows = db.query("SELECT body FROM messages WHERE claimed = 0 ORDER BY id").all() as { body: string }[];
  db.close();
  return rows.map((r) => r.body);
}

const damaged: Array<[string, (path: string) => void, RegExp]> = [
  ["plain text", (p) => writeFileSync(p, "not a database\n"), /not a valid SQLite database/],
  ["10-byte file", (p) => writeFileSync(p, Buffer.from("SQLite for")), /not a valid SQLite database/],
  [
    "foreign SQLite file",
    (p) => {
      rmSync(p);
      const db = new Database(p, { create: true });
      db.run("CREATE TABLE users (id INTEGER PRIMARY KEY)");
      db.close();
    },
    /Database is missing SimpleBroker metadata/,
  ],
  [
    "wrong meta.magic",
    (p) => edit(p, "UPDATE meta SET value = 'other-v1' WHERE key = 'magic'"),
    /Database magic string mismatch/,
  ],
  [
    "schema_version 5",
    (p) => edit(p, "UPDATE meta SET value = 5 WHERE key = 'schema_version'"),
    /schema version 5 is newer than supported version 4/,
  ],
  ["corrupt messages page", (p) => overwrite(p, (rootPage(p, "messages") - 1) * 4096, 4096), /malformed/],
  ["corrupt schema page", (p) => overwrite(p, 100, 3996), /malformed/],
  ["truncated file", (p) => truncateSync(p, 8192), /malformed/],
];

describe("Queue and openBroker on damaged or foreign files", () => {
  for (const [label, damage, pattern] of damaged) {
    test(`${label}: every operation throws BackendError; the file is unchanged`, async () => {
      const path = validDb();
      damage(path);
      const hash = sha256(path);
      const ops: Array<[string, (q: Queue) => unknown]> = [
        ["write", (q) => q.write("x")],
        ["readOne", (q) => q.readOne()],
        ["peekOne", (q) => q.peekOne()],
        ["moveOne", (q) => q.moveOne("other")],
        ["stats", (q) => q.stats()],
        ["readGenerator", (q) => [...q.readGenerator()]],
      ];
      for (const [name, op] of ops) {
        for (const persistent of [false, true]) {
          const q = new Queue("q", { dbPath: path, persistent });
          let caught: unknown;
          try {
            op(q);
          } catch (error) {
            caught = error;
          } finally {
            q.close();
          }
          if (!(caught instanceof BackendError)) console.log(`${label} ${name} persistent=${persistent}:`, caught);
          expect(caught).toBeInstanceOf(BackendError);
          expect((caught as BackendError).code).toBe("ERROR");
          expect((caught as Error).message).toMatch(pattern);
        }
      }
      const broker = await openBroker(path);
      try {
        for (const call of [
          () => broker.write("q", "x"),
          () => broker.peek("q"),
          () => broker.read("q"),
          () => broker.listStats(),
        ]) {
          const result = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(result).toBeInstanceOf(BackendError);
          expect((result as Error).message).toMatch(pattern);
        }
      } finally {
        await broker.close();
      }
      expect(sha256(path)).toBe(hash);
    });
  }

  test("a zero-byte file is a new database: Queue initialises it", () => {
    const path = join(freshDir(), "empty.db");
    writeFileSync(path, "");
    using q = new Queue("q", { dbPath: path });
    const id = q.write("first");
    expect(q.peekOne()).toEqual({ body: "first", ts: id });
    const db = new Database(path, { readonly: true });
    const meta = (db.query("SELECT key FROM meta ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    db.close();
    expect(meta).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);
  });
});

describe("bad arguments are refused before the file is touched", () => {
  test("queue names, sizes, limits, same source and destination", () => {
    const path = validDb();
    const hash = sha256(path);
    const cases: Array<[() => unknown, new (...a: never[]) => Error, RegExp]> = [
      [() => new Queue("", { dbPath: path }).write("x"), QueueNameError, /cannot be empty/],
      [() => new Queue("a".repeat(513), { dbPath: path }).write("x"), QueueNameError, /exceeds 512 characters/],
      [() => new Queue("a b", { dbPath: path }).readOne(), QueueNameError, /must contain only letters/],
      [() => new Queue("-a", { dbPath: path }).peekOne(), QueueNameError, /Cannot begin with a hyphen/],
      [() => new Queue("abc\n", { dbPath: path }).write("x"), QueueNameError, /must contain only letters/],
      [() => new Queue("q", { dbPath: path }).moveOne("a:b"), QueueNameError, /must contain only letters/],
      [() => new Queue("q", { dbPath: path }).moveOne("q"), ArgumentError, /Source and destination queues cannot be the same/],
      [
        () => new Queue("q", { dbPath: path, config: { maxMessageSize: 4 } }).write("12345"),
        MessageError,
        /Message size \(5 bytes\) exceeds maximum allowed size \(4 bytes\)/,
      ],
      [
        () => new Queue("q", { dbPath: path, config: { maxMessageSize: 4 } }).writeMany(["ok", "ééé"]),
        MessageError,
        /Message size \(6 bytes\)/,
      ],
      [() => new Queue("q", { dbPath: path }).readMany(0), ArgumentError, /limit must be at least 1/],
      [() => new Queue("q", { dbPath: path }).peekMany(-1), ArgumentError, /limit must be at least 1/],
    ];
    for (const [fn, type, pattern] of cases) {
      expect(fn).toThrow(type);
      expect(fn).toThrow(pattern);
    }
    expect(sha256(path)).toBe(hash);
    expect(pendingBodies(path)).toEqual(["one", "two", "three"]);
  });

  test("a closed Queue refuses work", () => {
    const q = new Queue("q", { dbPath: validDb() });
    q.close();
    expect(() => q.write("x")).toThrow(BackendError);
  });

  test("writeAsync rejects oversize messages without writing", async () => {
    const path = validDb();
    const hash = sha256(path);
    using q = new Queue("q", { dbPath: path, config: { maxMessageSize: 3 } });
    await expect(q.writeAsync("toolong")).rejects.toBeInstanceOf(MessageError);
    expect(await q.writeAsync("ok")).toBeGreaterThan(0n);
    expect(sha256(path)).not.toBe(hash);
    expect(pendingBodies(path)).toEqual(["one", "two", "three", "ok"]);
  });
});

describe("a lock held past the busy timeout", () => {
  test("write and read throw a retryable BackendError; nothing changes", async () => {
    const path = validDb();
    const hash = sha256(path);
    const holder = Bun.spawn([process.execPath, LOCK_FIXTURE, path, "0"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    try {
      const reader = holder.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("locked\n");
      reader.releaseLock();
      using q = new Queue("q", { dbPath: path, config: { busyTimeout: 20 } });
      for (const op of [() => q.write("x"), () => q.readOne()]) {
        let caught: unknown;
        try {
          op();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(BackendError);
        expect((caught as BackendError).retryable).toBe(true);
        expect((caught as Error).message).toMatch(/database is locked/);
      }
      // Reading without claiming still works while the writer holds the lock (WAL).
      expect(q.peekOne()?.body).toBe("one");
      expect(sha256(path)).toBe(hash);
    } finally {
      holder.kill("SIGKILL");
      await holder.exited;
    }
    expect(pendingBodies(path)).toEqual(["one", "two", "three"]);
  }, 60_000);
});

describe("storage failures (mounts; skipped with a reason where not permitted)", () => {
  function mount(args: string[], target: string): string | undefined {
    const r = Bun.spawnSync(["mount", ...args, target], { stderr: "pipe" });
    if (r.exitCode !== 0) return `mount ${args.join(" ")} failed: ${r.stderr.toString().trim()}`;
    mounts.push(target);
    return undefined;
  }
  function unmount(target: string): void {
    Bun.spawnSync(["umount", target]);
    mounts.splice(mounts.indexOf(target), 1);
  }

  test("full disk: a write that cannot fit throws BackendError, earlier messages stay readable", () => {
    const dir = freshDir();
    const skip = mount(["-t", "tmpfs", "-o", "size=256k", "tmpfs"], dir);
    if (skip) {
      console.log(`skipped full disk: ${skip}`);
      return;
    }
    try {
      const path = join(dir, "full.db");
      {
        using q = new Queue("q", { dbPath: path });
        q.writeMany(["a", "b"]);
      }
      const hash = sha256(path);
      for (const persistent of [false, true]) {
        using q = new Queue("q", { dbPath: path, persistent });
        expect(() => q.write("x".repeat(400_000))).toThrow(BackendError);
        expect(() => q.writeMany(["y".repeat(200_000), "z".repeat(200_000)])).toThrow(/database or disk is full/);
      }
      expect(sha256(path)).toBe(hash);
      using q = new Queue("q", { dbPath: path });
      expect(q.readMany(10).map((m) => m.body)).toEqual(["a", "b"]);
    } finally {
      unmount(dir);
    }
  });

  test("read-only folder: writes and claims throw BackendError, the file is unchanged", () => {
    const dir = freshDir();
    const path = validDb(dir);
    const hash = sha256(path);
    const skip = mount(["--bind", dir], dir);
    if (skip) {
      console.log(`skipped read-only folder: ${skip}`);
      return;
    }
    try {
      const ro = Bun.spawnSync(["mount", "-o", "remount,ro,bind", dir], { stderr: "pipe" });
      if (ro.exitCode !== 0) {
        console.log(`skipped read-only folder: remount,ro,bind failed: ${ro.stderr.toString().trim()}`);
        return;
      }
      using q = new Queue("q", { dbPath: path });
      expect(() => q.write("x")).toThrow(BackendError);
      expect(() => q.readOne()).toThrow(BackendError);
      expect(sha256(path)).toBe(hash);
    } finally {
      unmount(dir);
    }
    expect(pendingBodies(path)).toEqual(["one", "two", "three"]);
  });
});
