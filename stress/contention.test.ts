/**
 * Guards correctness under contention (docs/on-disk-format.md#setup, #transactions; docs/compatibility.md#delivery):
 *   - 8 processes mixing write / read / move / broadcast on one file for
 *     10,000 written messages: nothing lost, nothing delivered twice;
 *   - 16 processes creating the same fresh database at once: all succeed,
 *     the schema is complete and each meta row exists exactly once;
 *   - a process holding BEGIN IMMEDIATE while writers run with
 *     BROKER_BUSY_TIMEOUT: writers that wait less than their retry budget
 *     succeed; past it the CLI prints one line on stderr, exits 1 and the
 *     database is unchanged.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, runCli, tempDir, childEnv } from "../test/helpers.ts";

const FIXTURES = resolve(import.meta.dir, "../test/fixtures");
const bun = process.execPath;

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

async function finish(proc: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

describe("8 processes mixing write / read / move / broadcast", () => {
  test("10,000 messages: no loss, no duplicate", async () => {
    using dir = tempDir("sb-mix-");
    const db = join(dir.path, "mix.db");
    const WORKERS = 8;
    const PER_WORKER = 1250;
    // Create the file first so every worker starts on the same schema.
    expect((await runCli(["-f", db, "write", "a", "seed"])).exitCode).toBe(0);

    const started = performance.now();
    const procs = Array.from({ length: WORKERS }, (_, i) =>
      Bun.spawn(
        [
          bun,
          join(FIXTURES, "stress-mix-fixture.ts"),
          db,
          join(dir.path, `w${i}.log`),
          String(i),
          String(PER_WORKER),
          String(1000 + i),
        ],
        {
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
          env: childEnv({ BROKER_AUTO_VACUUM: "0" }),
        },
      ),
    );
    const results = await Promise.all(procs.map(finish));
    for (const r of results) {
      if (r.code !== 0) console.log(r.stderr);
      expect(r.code).toBe(0);
    }

    const written = new Map<bigint, string>();
    const delivered = new Map<bigint, number>();
    const broadcasts = new Map<string, number>();
    let duplicates = 0;
    const deliver = (id: bigint) => {
      const n = (delivered.get(id) ?? 0) + 1;
      delivered.set(id, n);
      if (n > 1) duplicates++;
    };
    for (let i = 0; i < WORKERS; i++) {
      for (const line of readFileSync(join(dir.path, `w${i}.log`), "utf8").split("\n")) {
        if (!line) continue;
        const [kind, a, body] = line.split("\t") as [string, string, string];
        if (kind === "W") written.set(BigInt(a), body);
        else if (kind === "R") deliver(BigInt(a));
        else if (kind === "B") broadcasts.set(body, Number(a));
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    // Drain whatever is still pending; then every row must have been delivered exactly once.
    const conn = new Database(db, { readwrite: true, safeIntegers: true });
    try {
      expect((conn.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
      const drained = conn.query("UPDATE messages SET claimed = 1 WHERE claimed = 0 RETURNING ts").all() as { ts: bigint }[];
      for (const r of drained) deliver(r.ts);
      const rows = conn.query("SELECT ts, body, queue FROM messages").all() as { ts: bigint; body: string; queue: string }[];
      const byTs = new Map(rows.map((r) => [r.ts, r]));

      let lost = 0;
      for (const [id, body] of written) if (byTs.get(id)?.body !== body) lost++;
      const neverDelivered = rows.filter((r) => !delivered.has(r.ts)).length;
      const phantom = [...delivered.keys()].filter((id) => !byTs.has(id)).length;
      let broadcastCopies = 0;
      for (const [body, count] of broadcasts) {
        broadcastCopies += count;
        expect(rows.filter((r) => r.body === body).length).toBe(count);
      }
      console.log(
        `contention: workers=${WORKERS} written=${written.size} broadcasts=${broadcasts.size} (copies ${broadcastCopies}) ` +
          `delivered=${delivered.size} drained_at_end=${drained.length} lost=${lost} duplicated=${duplicates} seconds=${seconds}`,
      );
      expect(written.size).toBe(WORKERS * PER_WORKER);
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);
      expect(neverDelivered).toBe(0);
      expect(phantom).toBe(0);
      // seed + written + broadcast copies, nothing else.
      expect(rows.length).toBe(1 + written.size + broadcastCopies);
    } finally {
      conn.close();
    }
  }, 300_000);
});

const EXPECTED_SCHEMA = [
  "index:idx_messages_queue_ts_id",
  "index:idx_messages_ts_unique",
  "index:idx_messages_unclaimed",
  "index:idx_queue_aliases_target",
  "index:sqlite_autoindex_messages_1",
  "index:sqlite_autoindex_meta_1",
  "index:sqlite_autoindex_queue_aliases_1",
  "table:messages",
  "table:meta",
  "table:queue_aliases",
  "table:sqlite_sequence",
];

describe("16 processes creating the same fresh database", () => {
  const variants: Array<[string, (i: number) => "cli" | "queue" | "broker"]> = [
    ["16 CLI writers", () => "cli"],
    ["16 library writers (Queue and openBroker)", (i) => (i % 2 ? "queue" : "broker")],
    ["8 CLI + 8 library writers", (i) => (i % 2 ? "cli" : "queue")],
  ];
  for (const [name, kindOf] of variants) {
    test(name, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        using dir = tempDir("sb-create-");
        const db = join(dir.path, "sub", "fresh.db");
        const startAt = Date.now() + 400;
        const procs = Array.from({ length: 16 }, (_, i) => {
          const kind = kindOf(i);
          const cmd =
            kind === "cli"
              ? [bun, CLI, "-f", db, "write", "q", `m${i}`]
              : [bun, join(FIXTURES, "stress-create-fixture.ts"), db, String(startAt), `m${i}`, kind];
          return Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: childEnv() });
        });
        const results = await Promise.all(procs.map(finish));
        for (const r of results) {
          if (r.code !== 0) console.log(r.stderr);
          expect(r.code).toBe(0);
          expect(r.stderr).toBe("");
        }
        const conn = new Database(db, { readonly: true, safeIntegers: true });
        try {
          const schema = (
            conn.query("SELECT type, name FROM sqlite_master ORDER BY type, name").all() as { type: string; name: string }[]
          ).map((r) => `${r.type}:${r.name}`);
          expect(schema).toEqual(EXPECTED_SCHEMA);
          const meta = conn.query("SELECT key, COUNT(*) AS n FROM meta GROUP BY key ORDER BY key").all() as {
            key: string;
            n: bigint;
          }[];
          expect(meta.map((r) => `${r.key}=${r.n}`)).toEqual(["alias_version=1", "last_ts=1", "magic=1", "schema_version=1"]);
          expect((conn.query("SELECT COUNT(*) AS n FROM meta").get() as { n: bigint }).n).toBe(4n);
          expect((conn.query("SELECT value FROM meta WHERE key = 'magic'").get() as { value: string }).value).toBe(
            "simplebroker-v1",
          );
          expect((conn.query("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: bigint }).value).toBe(4n);
          const bodies = (conn.query("SELECT body FROM messages ORDER BY body").all() as { body: string }[]).map((r) => r.body);
          expect(bodies).toEqual(Array.from({ length: 16 }, (_, i) => `m${i}`).sort());
          expect((conn.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
          expect((conn.query("PRAGMA auto_vacuum").get() as { auto_vacuum: bigint }).auto_vacuum).toBe(2n);
          expect((conn.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
        } finally {
          conn.close();
        }
        expect(statSync(db).mode & 0o777).toBe(0o600);
      }
    }, 120_000);
  }
});

describe("a process holding the write lock", () => {
  async function holdLock(db: string, ms: number) {
    const proc = Bun.spawn([bun, join(FIXTURES, "stress-lock-fixture.ts"), db, String(ms)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv(),
    });
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe("locked\n");
    reader.releaseLock();
    return proc;
  }

  test("writers that wait less than the busy timeout succeed", async () => {
    using dir = tempDir("sb-lock-");
    const db = join(dir.path, "lock.db");
    expect((await runCli(["-f", db, "write", "q", "before"])).exitCode).toBe(0);
    const holder = await holdLock(db, 800);
    const started = performance.now();
    const writers = Array.from({ length: 4 }, (_, i) =>
      runCli(["-f", db, "write", "q", `w${i}`], { env: { BROKER_BUSY_TIMEOUT: "3000" } }),
    );
    const results = await Promise.all(writers);
    const waited = performance.now() - started;
    expect(await holder.exited).toBe(0);
    for (const r of results) expect(r).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    // They really waited for the lock.
    expect(waited).toBeGreaterThan(500);
    const peek = await runCli(["-f", db, "peek", "q", "--all"]);
    expect(peek.stdout.split("\n").filter(Boolean).sort()).toEqual(["before", "w0", "w1", "w2", "w3"]);
  }, 60_000);

  for (const [label, args] of [
    ["write", ["write", "q", "blocked"]],
    ["read", ["read", "q"]],
  ] as const) {
    test(`${label} past the busy timeout: one stderr line, exit 1, database unchanged`, async () => {
      using dir = tempDir("sb-lock-");
      const db = join(dir.path, "lock.db");
      expect((await runCli(["-f", db, "write", "q", "before"])).exitCode).toBe(0);
      const hash = sha256(db);
      const holder = await holdLock(db, 0);
      try {
        const started = performance.now();
        const r = await runCli(["-f", db, ...args], { env: { BROKER_BUSY_TIMEOUT: "100" } });
        const waited = performance.now() - started;
        console.log(
          `lock: ${label} with BROKER_BUSY_TIMEOUT=100 gave up after ${(waited / 1000).toFixed(1)}s: ${r.stderr.trim()}`,
        );
        expect(r.exitCode).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^simplebroker: error: .*database is locked[^\n]*\n$/);
        expect(sha256(db)).toBe(hash);
      } finally {
        holder.kill("SIGKILL");
        await holder.exited;
      }
      expect(sha256(db)).toBe(hash);
      const peek = await runCli(["-f", db, "peek", "q", "--all"]);
      expect(peek).toEqual({ stdout: "before\n", stderr: "", exitCode: 0 });
    }, 90_000);
  }
});
