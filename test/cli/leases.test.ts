// Leases, delayed delivery and the --exec worker through the real CLI in subprocesses
// (docs/leases.md#library-and-cli): read --lease, ack and release exit codes, expiry
// re-delivery with attempt + 1, DUR errors (one line, exit 1), write --delay/--at,
// broadcast --delay, held counts in stats/list, and watch --exec acking on exit 0,
// retrying, then dead-lettering.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, childEnv, runCli, tempDir } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

setDefaultTimeout(20_000);

/** Run the CLI in `dir` (its default database). */
const cli = (dir: string, ...args: string[]) => runCli(args, { cwd: dir });

/** `ID<TAB>body` → [id, body]. */
function leased(stdout: string): [string, string] {
  const [id, body] = stdout.replace(/\n$/, "").split("\t");
  return [id!, body!];
}

async function waitUntil(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await Bun.sleep(50);
  }
}

describe("read --lease, ack, release", () => {
  test("read --lease prints the id with the body; the message is held, not pending; ack deletes it", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "one");
    await cli(d.path, "write", "q", "two");
    const r = await cli(d.path, "read", "q", "--lease", "30s");
    expect([r.exitCode, r.stderr]).toEqual([0, ""]);
    const [id, body] = leased(r.stdout);
    expect(id).toMatch(/^\d{19}$/);
    expect(body).toBe("one");
    expect((await cli(d.path, "peek", "q", "--all")).stdout).toBe("two\n");
    // Held messages are merged with the rows in id order; without --all the oldest is shown, whichever it is.
    expect((await cli(d.path, "peek", "q", "--all", "--include-claimed")).stdout).toBe("one\ntwo\n");
    expect((await cli(d.path, "peek", "q", "--include-claimed")).stdout).toBe("one\n");
    expect((await cli(d.path, "peek", "q", "-m", id!, "--include-claimed")).stdout).toBe("one\n");
    expect((await cli(d.path, "peek", "q", "--after", id!, "--include-claimed", "--all")).stdout).toBe("two\n");
    expect((await cli(d.path, "peek", "q", "--before", id!, "--include-claimed", "--all")).exitCode).toBe(2);
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 1 (1 total, 0 claimed, 1 leased, 0 scheduled)\n");
    expect((await cli(d.path, "stats", "q", "--json")).stdout).toBe(
      '{"queue": "q", "pending": 1, "claimed": 0, "total": 1, "exists": true, "leased": 1, "scheduled": 0}\n',
    );
    const json = await cli(d.path, "read", "q", "--lease", "1m", "--json");
    expect(JSON.parse(json.stdout)).toEqual({ message: "two", timestamp: expect.any(Number), attempt: 1 });
    expect((await cli(d.path, "read", "q", "--lease", "30s")).exitCode).toBe(2);

    const ack = await cli(d.path, "ack", "q", id);
    expect([ack.exitCode, ack.stdout, ack.stderr]).toEqual([0, "", ""]);
    expect((await cli(d.path, "ack", "q", id)).exitCode).toBe(2);
    expect((await cli(d.path, "ack", "q", "1234567890123456789")).exitCode).toBe(2);
    const bad = await cli(d.path, "ack", "q", "12");
    expect([bad.exitCode, bad.stderr.trimEnd().split("\n").length]).toEqual([1, 1]);
  });

  test("a partial ack exits 0 and names the ids that were not leased on stderr", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "a");
    await cli(d.path, "write", "q", "b");
    const [a] = leased((await cli(d.path, "read", "q", "--lease", "30s")).stdout);
    const [b] = leased((await cli(d.path, "read", "q", "--lease", "30s")).stdout);
    const r = await cli(d.path, "ack", "q", a, "1234567890123456789", b);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, "", "Not leased: 1234567890123456789\n"]);
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 0\n");
  });

  test("release puts it back at once, or after --delay; attempt counts each lease", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "job");
    await cli(d.path, "write", "q", "next");
    const [id] = leased((await cli(d.path, "read", "q", "--lease", "30s")).stdout);
    const now = await cli(d.path, "release", "q", id);
    expect([now.exitCode, now.stdout, now.stderr]).toEqual([0, "", ""]);
    expect((await cli(d.path, "release", "q", id)).exitCode).toBe(2);
    const again = await cli(d.path, "read", "q", "--lease", "30s", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ message: "job", attempt: 2 });
    expect((await cli(d.path, "release", "q", id, "--delay", "1s")).exitCode).toBe(0);
    expect((await cli(d.path, "peek", "q", "--all")).stdout).toBe("next\n");
    expect((await cli(d.path, "list", "--stats")).stdout).toBe("q: 1 (1 total, 0 claimed, 0 leased, 1 scheduled)\n");
    await Bun.sleep(1200);
    expect((await cli(d.path, "peek", "q", "--all", "-t")).stdout.split("\n")[0]).toBe(`${id}\tjob`);
    expect((await cli(d.path, "read", "q")).stdout).toBe("job\n");
  });

  test("a lease that reaches its deadline comes back under its id, in its place, with attempt + 1", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "first");
    await cli(d.path, "write", "q", "second");
    const [id] = leased((await cli(d.path, "read", "q", "--lease", "300ms")).stdout);
    await Bun.sleep(500);
    expect((await cli(d.path, "peek", "q", "--all")).stdout).toBe("first\nsecond\n");
    const r = (await cli(d.path, "read", "q", "--lease", "30s", "--json")).stdout;
    expect(r).toBe(`{"message": "first", "timestamp": ${id}, "attempt": 2}\n`);
    // The CLI acks by id, whichever lease holds the message.
    expect((await cli(d.path, "ack", "q", id)).exitCode).toBe(0);
    expect((await cli(d.path, "read", "q", "--all")).stdout).toBe("second\n");
  });

  test("nothing held: stats and list --stats print what 3.6.1 prints", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "x");
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 1\n");
    expect((await cli(d.path, "stats", "q", "--json")).stdout).toBe(
      '{"queue": "q", "pending": 1, "claimed": 0, "total": 1, "exists": true}\n',
    );
    expect((await cli(d.path, "list", "--stats", "--json")).stdout).toBe(
      '{"queue": "q", "pending": 1, "claimed": 0, "total": 1, "exists": true}\n',
    );
  });
});

describe("DUR values", () => {
  const bad = ["0", "-5", "abc", "1.5s", "5x", "10 s", "0ms", "s"];
  for (const value of bad) {
    test(`'${value}' is a one-line error, exit 1, for --lease, --delay and release --delay`, async () => {
      using d = tempDir();
      await cli(d.path, "write", "q", "x");
      for (const args of [
        ["read", "q", "--lease", value],
        ["write", "q", "m", "--delay", value],
        ["release", "q", "1234567890123456789", "--delay", value],
        ["broadcast", "--delay", value, "m"],
      ]) {
        const r = await cli(d.path, ...args);
        expect({ args, exitCode: r.exitCode, stdout: r.stdout, lines: r.stderr.trimEnd().split("\n").length }).toEqual({
          args,
          exitCode: 1,
          stdout: "",
          lines: 1,
        });
      }
      expect((await cli(d.path, "peek", "q", "--all")).stdout).toBe("x\n");
    });
  }

  test("a bare integer is seconds; ms, s, m and h are accepted", async () => {
    using d = tempDir();
    for (const v of ["1", "500ms", "2s", "1m", "1h"]) await cli(d.path, "write", "q", v);
    for (const v of ["1", "500ms", "2s", "1m", "1h"]) {
      expect((await cli(d.path, "read", "q", "--lease", v)).exitCode).toBe(0);
    }
  });
});

describe("delayed delivery", () => {
  test("write --delay and --at: invisible until due, then in id order; --at in the past writes at once", async () => {
    using d = tempDir();
    const w = await cli(d.path, "write", "q", "later", "--delay", "1s", "-t");
    expect(w.exitCode).toBe(0);
    const at = new Date(Date.now() + 1000).toISOString();
    expect((await cli(d.path, "write", "q", "at", "--at", at)).exitCode).toBe(0);
    expect((await cli(d.path, "write", "q", "now")).exitCode).toBe(0);
    expect((await cli(d.path, "write", "q", "past", "--at", "2020-01-01T00:00:00Z")).exitCode).toBe(0);
    expect((await cli(d.path, "peek", "q", "--all")).stdout).toBe("now\npast\n");
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 2 (2 total, 0 claimed, 0 leased, 2 scheduled)\n");
    await cli(d.path, "write", "only-held", "x", "--delay", "1m");
    expect((await cli(d.path, "exists", "only-held", "--json")).stdout).toBe('{"queue": "only-held", "exists": true}\n');
    expect((await cli(d.path, "list")).stdout).toBe("q: 2\n");
    await Bun.sleep(1300);
    expect((await cli(d.path, "read", "q", "--all", "-t")).stdout.split("\n")[0]).toBe(`${w.stdout.trim()}\tlater`);
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 0 (4 total, 4 claimed)\n");
    const both = await cli(d.path, "write", "q", "x", "--delay", "1s", "--at", at);
    expect([both.exitCode, both.stderr.trimEnd().split("\n").length]).toEqual([1, 1]);
    const badAt = await cli(d.path, "write", "q", "x", "--at", "tomorrow");
    expect([badAt.exitCode, badAt.stderr.trimEnd().split("\n").length]).toEqual([1, 1]);
  });

  test("broadcast --delay reaches every existing queue when due; list --stats shows queues whose messages are all held", async () => {
    using d = tempDir();
    await cli(d.path, "write", "a", "x");
    await cli(d.path, "write", "b", "y");
    await cli(d.path, "read", "b");
    expect((await cli(d.path, "broadcast", "--delay", "1s", "hello")).exitCode).toBe(0);
    expect((await cli(d.path, "read", "a", "--all")).stdout).toBe("x\n");
    expect((await cli(d.path, "list", "--stats", "--json")).stdout).toBe(
      [
        '{"queue": "a", "pending": 0, "claimed": 1, "total": 1, "exists": true, "leased": 0, "scheduled": 1}',
        '{"queue": "b", "pending": 0, "claimed": 1, "total": 1, "exists": true, "leased": 0, "scheduled": 1}',
        "",
      ].join("\n"),
    );
    await Bun.sleep(1300);
    expect((await cli(d.path, "read", "a")).stdout).toBe("hello\n");
    expect((await cli(d.path, "read", "b")).stdout).toBe("hello\n");
  });
});

describe("watch --exec", () => {
  /** Start `watch q --exec CMD …` in `dir`; stop() sends SIGTERM and returns its exit code and output. */
  function startWorker(dir: string, ...args: string[]) {
    const proc = Bun.spawn([process.execPath, CLI, "watch", "q", ...args], {
      cwd: dir,
      env: childEnv(),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = new Response(proc.stdout).text();
    const stderr = new Response(proc.stderr).text();
    return {
      stop: async () => {
        proc.kill("SIGTERM");
        return { exitCode: await proc.exited, stdout: await stdout, stderr: await stderr };
      },
    };
  }

  test("runs CMD per message with the body on stdin and the id and attempt in env; exit 0 acks", async () => {
    using d = tempDir();
    const ids = [];
    for (const m of ["a", "b c", "d"]) ids.push((await cli(d.path, "write", "q", m, "-t")).stdout.trim());
    const w = startWorker(
      d.path,
      "--exec",
      'printf "%s|%s|%s\\n" "$(cat)" "$BROKER_MESSAGE_ID" "$BROKER_ATTEMPT"',
      "--lease",
      "10s",
    );
    await waitUntil(async () => (await cli(d.path, "stats", "q")).stdout === "q: 0\n");
    await cli(d.path, "write", "q", "e"); // another process's write wakes the idle worker
    await waitUntil(async () => (await cli(d.path, "stats", "q")).stdout === "q: 0\n");
    const r = await w.stop();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual([`a|${ids[0]}|1`, `b c|${ids[1]}|1`, `d|${ids[2]}|1`]);
    expect(r.stdout).toContain("e|");
    expect(r.stderr).toBe("Watching queue 'q' (exec mode)...\n");
  }, 30_000);

  test("a failing CMD is retried with backoff, then the message moves to <queue>.dead", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "good");
    await cli(d.path, "write", "q", "bad");
    const w = startWorker(
      d.path,
      "--exec",
      'b=$(cat); echo "$b $BROKER_ATTEMPT"; [ "$b" = good ]',
      "--max-attempts",
      "2",
      "--concurrency",
      "2",
    );
    await waitUntil(async () => (await cli(d.path, "peek", "q.dead")).stdout === "bad\n", 15_000);
    const r = await w.stop();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n").sort()).toEqual(["", "bad 1", "bad 2", "good 1"]);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("Watching queue 'q' (exec mode)...");
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^Message \d{19} \(attempt 1\): command exited with status 1; will retry$/),
      expect.stringMatching(/^Message \d{19} \(attempt 2\): command exited with status 1; moving it to 'q\.dead'$/),
    ]);
    expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 0\n");
  }, 30_000);

  test("worker options need --exec; --exec refuses the printing options; bad counts are one-line errors", async () => {
    using d = tempDir();
    await cli(d.path, "write", "q", "x");
    for (const args of [
      ["--lease", "5s"],
      ["--max-attempts", "3"],
      ["--exec", "true", "--peek"],
      ["--exec", "true", "--json"],
      ["--exec", "true", "--max-attempts", "0"],
      ["--exec", "true", "--concurrency", "two"],
      ["--exec", "true", "--lease", "0"],
    ]) {
      const r = await cli(d.path, "watch", "q", ...args);
      expect({ args, exitCode: r.exitCode, lines: r.stderr.trimEnd().split("\n").length }).toEqual({
        args,
        exitCode: 1,
        lines: 1,
      });
    }
    expect((await cli(d.path, "peek", "q")).stdout).toBe("x\n");
  });
});

describe("on PostgreSQL and Redis", () => {
  for (const backend of ["postgres", "redis"] as const) {
    test(`${backend}: read --lease, ack, release --delay, write --delay, held counts and watch --exec`, async () => {
      using d = tempDir();
      const url = backend === "postgres" ? await postgresUrl() : await redisUrl();
      const option = backend === "postgres" ? "schema" : "namespace";
      const store = `sb_cli_lease_${process.pid}_${Date.now().toString(36)}`;
      writeFileSync(
        join(d.path, ".broker.toml"),
        `version = 1\nbackend = "${backend}"\ntarget = "${url}"\n\n[backend_options]\n${option} = "${store}"\n`,
      );
      try {
        await cli(d.path, "write", "q", "one");
        await cli(d.path, "write", "q", "two");
        const [id, body] = leased((await cli(d.path, "read", "q", "--lease", "30s")).stdout);
        expect(body).toBe("one");
        expect((await cli(d.path, "stats", "q")).stdout).toBe("q: 1 (1 total, 0 claimed, 1 leased, 0 scheduled)\n");
        expect((await cli(d.path, "release", "q", id, "--delay", "500ms")).exitCode).toBe(0);
        expect((await cli(d.path, "ack", "q", id)).exitCode).toBe(2);
        expect((await cli(d.path, "write", "q", "three", "--delay", "500ms")).exitCode).toBe(0);
        expect((await cli(d.path, "stats", "q", "--json")).stdout).toBe(
          '{"queue": "q", "pending": 1, "claimed": 0, "total": 1, "exists": true, "leased": 0, "scheduled": 2}\n',
        );
        await Bun.sleep(800);
        const all = (await cli(d.path, "peek", "q", "--all")).stdout;
        expect(all).toBe("one\ntwo\nthree\n");
        const worker = Bun.spawn([process.execPath, CLI, "watch", "q", "--exec", 'echo "$(cat):$BROKER_ATTEMPT"'], {
          cwd: d.path,
          env: childEnv(),
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
        });
        const out = new Response(worker.stdout).text();
        await waitUntil(async () => (await cli(d.path, "stats", "q")).stdout === "q: 0\n");
        worker.kill("SIGTERM");
        expect(await worker.exited).toBe(0);
        expect(await out).toBe("one:2\ntwo:1\nthree:1\n");
      } finally {
        await cli(d.path, "--cleanup");
      }
    }, 30_000);
  }
});

test("peek --all --include-claimed merges held messages with the rows in id order across pages", async () => {
  using d = tempDir();
  const { openBroker } = await import("../../index.ts");
  {
    await using broker = await openBroker(join(d.path, ".broker.db"));
    await broker.write(
      "q",
      Array.from({ length: 2500 }, (_, i) => `m${i}`),
    );
    // Every third message leased (held), every fifth of the rest claimed: three kinds interleaved.
    const all = await broker.peek("q", { limit: 2500 });
    for (const [i, m] of all.entries()) {
      if (i % 3 === 0) expect((await broker.leases.lease("q", { exactId: m.ts, leaseMs: 60_000 })).length).toBe(1);
      else if (i % 5 === 0) expect((await broker.read("q", { exactId: m.ts })).length).toBe(1);
    }
  }
  const r = await cli(d.path, "peek", "q", "--all", "--include-claimed");
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toBe(Array.from({ length: 2500 }, (_, i) => `m${i}\n`).join(""));
  const pending = await cli(d.path, "peek", "q", "--all");
  expect(pending.stdout.split("\n").length - 1).toBe(2500 - 834 - 333);
});
