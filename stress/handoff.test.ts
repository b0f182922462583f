/**
 * The in-process hand-over (the offerIdle capability, lib/backends/sqlite/local.ts) under load: three
 * consuming watchers and a peeking one in this process, a writer here that
 * mixes single writes (hand-over candidates), small batches and writeAsync
 * bursts with and without pauses, and a reader in another process claiming
 * from the same queue. Every message is delivered exactly once in total;
 * each consumer sees increasing ids; the peeking watcher never repeats or
 * goes backwards.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Queue, QueueWatcher, type Message } from "../index.ts";
import { childEnv, seededRandom, tempDir } from "../test/helpers.ts";

const READER = resolve(import.meta.dir, "../test/fixtures/reader-fixture.ts");

describe("hand-over under load", () => {
  test("3 consuming watchers + 1 peeking watcher here, a claiming reader in another process: exactly once", async () => {
    using dir = tempDir("sb-handoff-");
    const db = join(dir.path, ".broker.db");
    const writer = new Queue("q", { dbPath: db, persistent: true });
    writer.write("seed");
    const rand = seededRandom(20261127);
    const consumed: Message[][] = [[], [], []];
    const watchers = consumed.map((got) => new QueueWatcher("q", (m) => void got.push(m), { db }).start());
    const peeked: bigint[] = [];
    const peeker = new QueueWatcher("q", (m) => void peeked.push(m.ts), { db, peek: true }).start();
    const reader = Bun.spawn([process.execPath, READER, dir.path, "lib"], { env: childEnv(), stdout: "pipe", stderr: "pipe" });

    const written: bigint[] = [];
    const N = 3000;
    while (written.length < N) {
      const r = rand();
      if (r < 0.7) written.push(writer.write(`m${written.length}`));
      else if (r < 0.85)
        written.push(...writer.writeMany([`b${written.length}`, `b${written.length + 1}`, `b${written.length + 2}`]));
      else written.push(...(await Promise.all(Array.from({ length: 4 }, (_, i) => writer.writeAsync(`a${written.length + i}`)))));
      const pause = rand();
      if (pause < 0.3) await Bun.sleep(0);
      else if (pause < 0.35) await Bun.sleep(2);
    }
    writeFileSync(join(dir.path, "writers-done"), "");
    const [out, err, code] = await Promise.all([
      new Response(reader.stdout).text(),
      new Response(reader.stderr).text(),
      reader.exited,
    ]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    // Let the watchers finish what was handed to them, then stop them.
    for (let i = 0; i < 500 && writer.stats().pending > 0; i++) await Bun.sleep(2);
    await Promise.all([...watchers, peeker].map((w) => w.stop()));
    expect(writer.stats().pending).toBe(0);

    const byReader =
      out.trimEnd() === ""
        ? []
        : out
            .trimEnd()
            .split("\n")
            .map((l) => BigInt(l.split("\t")[0]!));
    const byWatchers = consumed.flat().map((m) => m.ts);
    const all = [...byReader, ...byWatchers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const expected = [...written].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // The seed was written before anyone watched: whoever claimed it, it is one more delivery.
    expect(all.length).toBe(expected.length + 1);
    expect(new Set(all).size).toBe(all.length);
    for (const id of expected) expect(all.includes(id)).toBe(true);
    for (const got of consumed) for (let i = 1; i < got.length; i++) expect(got[i]!.ts > got[i - 1]!.ts).toBe(true);
    for (let i = 1; i < peeked.length; i++) expect(peeked[i]! > peeked[i - 1]!).toBe(true);
    // Each side took part: the hand-over did not starve the other process, nor the reverse.
    expect(byReader.length).toBeGreaterThan(0);
    expect(byWatchers.length).toBeGreaterThan(0);
    writer.close();
  }, 300_000);
});
