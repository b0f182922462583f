/**
 * SIGINT, SIGTERM and SIGHUP during `read --all`, `move --all` and `watch`:
 * the message taken but not yet printed goes back before the process exits,
 * so printed + still pending == written, with nothing printed twice. Exit
 * statuses: `read`/`move` end on SIGINT as SimpleBroker 3.6.1 ends on Ctrl-C
 * (stderr "simplebroker: interrupted", 0), on SIGTERM with 143 and on SIGHUP
 * with 129; `watch` exits 0 on SIGINT and SIGTERM, 129 on SIGHUP. The
 * signal comes after a random number of printed lines (seeded), so it lands
 * at different points of the claim-print cycle; NORMAL sync keeps each run short.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { CLI, childEnv, seededRandom, tempDir } from "../helpers.ts";

const WRITTEN = 50_000;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Sig = (typeof SIGNALS)[number];
const WALK_EXIT: Record<Sig, number> = { SIGINT: 0, SIGTERM: 143, SIGHUP: 129 };
const WATCH_EXIT: Record<Sig, number> = { SIGINT: 0, SIGTERM: 0, SIGHUP: 129 };

const template = tempDir();
afterAll(() => template[Symbol.dispose]());
const written = Array.from({ length: WRITTEN }, (_, i) => `message ${i}`);
{
  using q = new Queue("q", { dbPath: join(template.path, "q.db"), config: { syncMode: "NORMAL" } });
  q.writeMany(written);
}

/** A fresh database in `dir` whose queue `queue` holds the `WRITTEN` messages. */
function fill(dir: string, queue: string): string[] {
  copyFileSync(join(template.path, "q.db"), join(dir, ".broker.db"));
  if (queue !== "q") {
    using q = new Queue("q", { dbPath: join(dir, ".broker.db") });
    q.moveMany(queue, WRITTEN);
  }
  return written;
}

/** Run the CLI, send `signal` once `after` lines were printed, and collect everything it printed. */
async function interrupt(dir: string, args: string[], signal: Sig, after: number) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    cwd: dir,
    env: childEnv({ BROKER_SYNC_MODE: "NORMAL" }),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const decoder = new TextDecoder();
  let text = "";
  let lines = 0;
  let sent = false;
  for await (const chunk of proc.stdout) {
    const part = decoder.decode(chunk, { stream: true });
    text += part;
    for (const c of part) if (c === "\n") lines++;
    if (!sent && lines >= after) {
      sent = true;
      proc.kill(signal);
    }
  }
  text += decoder.decode();
  const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(sent).toBe(true);
  return {
    printed: text === "" ? [] : text.replace(/\n$/, "").split("\n"),
    endsWithNewline: text === "" || text.endsWith("\n"),
    stderr,
    exitCode,
  };
}

/** The pending bodies of `queue`, oldest first, and the number of claimed rows. */
function remaining(dir: string, queue: string): { pending: string[]; claimed: number } {
  using q = new Queue(queue, { dbPath: join(dir, ".broker.db") });
  const pending = [...q.peekGenerator()].map((m) => m.body);
  return { pending, claimed: q.stats().claimed };
}

/** Printed and pending together are exactly the written messages, in order, each once. */
function expectNothingLostOrDuplicated(written: string[], printed: string[], pending: string[]): void {
  // Printed oldest first, what is left follows them: together exactly what was written, each once.
  expect(printed.length + pending.length).toBe(written.length);
  expect(printed.join("\n")).toBe(written.slice(0, printed.length).join("\n"));
  expect(pending.join("\n")).toBe(written.slice(printed.length).join("\n"));
}

describe("stop signals put back the message not yet printed", () => {
  const random = seededRandom(19);
  const rounds = SIGNALS.flatMap((s) => [s, s, s]);

  test.each(rounds.map((s, i) => [s, i] as const))("read --all, %s (round %d)", async (signal) => {
    using dir = tempDir();
    const written = fill(dir.path, "q");
    const r = await interrupt(dir.path, ["read", "q", "--all"], signal, 100 + Math.floor(random() * 1500));
    expect(r.endsWithNewline).toBe(true);
    expect(r.exitCode).toBe(WALK_EXIT[signal]);
    if (signal === "SIGINT") expect(r.stderr).toContain("simplebroker: interrupted");
    const left = remaining(dir.path, "q");
    expectNothingLostOrDuplicated(written, r.printed, left.pending);
    expect(left.claimed).toBe(r.printed.length);
  });

  test.each(SIGNALS.map((s) => [s] as const))("move --all, %s", async (signal) => {
    using dir = tempDir();
    const written = fill(dir.path, "src");
    const r = await interrupt(dir.path, ["move", "src", "dst", "--all"], signal, 100 + Math.floor(random() * 1500));
    // A move commits a page before printing it and Bun queues a child's output while nobody reads it, so on a
    // loaded machine the whole move can end before the signal reaches it: then nothing was left to stop.
    const finished = r.printed.length === written.length && !r.stderr.includes("interrupted");
    expect(r.exitCode).toBe(finished ? 0 : WALK_EXIT[signal]);
    const src = remaining(dir.path, "src");
    const dst = remaining(dir.path, "dst");
    expectNothingLostOrDuplicated(written, r.printed, src.pending);
    expect(dst.pending.join("\n")).toBe(r.printed.join("\n"));
  });

  test.each(SIGNALS.map((s) => [s] as const))("watch, %s", async (signal) => {
    using dir = tempDir();
    const written = fill(dir.path, "q");
    const r = await interrupt(dir.path, ["watch", "q"], signal, 100 + Math.floor(random() * 1500));
    expect(r.exitCode).toBe(WATCH_EXIT[signal]);
    const left = remaining(dir.path, "q");
    expectNothingLostOrDuplicated(written, r.printed, left.pending);
    expect(left.claimed).toBe(r.printed.length);
  });
});
