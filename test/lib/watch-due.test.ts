// A SQLite watcher wakes when a held message of its queue falls due, also when another process held it
// (docs/leases.md): nobody writes at that moment, and without a due timer only the watcher's safety poll
// (2.5-7.5 s) would find the message.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker } from "../../lib/queue/open.ts";
import { watchQueue } from "../../lib/watch/watcher.ts";
import { runCli, tempDir } from "../helpers.ts";

/** Far below the safety poll's shortest sleep (2.5 s), far above a timer on a loaded machine. */
const LATE_MS = 1500;

test("another process's delayed write reaches an idle watcher when it falls due, not at the safety poll", async () => {
  using dir = tempDir("sb-watch-due-");
  const file = join(dir.path, "q.db");
  await using broker = await openBroker(file);
  await broker.queue("q").write("warm-up"); // the file exists before the watcher starts
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 15_000);
  const got: { body: string; at: number }[] = [];
  const watching = (async () => {
    for await (const m of watchQueue("q", { target: broker, signal: stop.signal })) {
      got.push({ body: m.body, at: Date.now() });
      if (m.body === "later") break;
    }
  })();
  try {
    while (got.length === 0) await Bun.sleep(20); // the watcher took the warm-up message and is idle now
    await Bun.sleep(300);
    const written = Date.now();
    const r = await runCli(["-f", file, "write", "q", "later", "--delay", "1s"]);
    expect(r.exitCode).toBe(0);
    await watching;
    const later = got.find((g) => g.body === "later");
    expect(later).toBeDefined();
    expect(later!.at - written).toBeGreaterThanOrEqual(1000); // never early
    expect(later!.at - (written + 1000)).toBeLessThan(LATE_MS);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}, 20_000);
