/**
 * Wake latency of watchers: how long after a write does a waiting watcher
 * hand the message to its handler?
 *
 *     bun bench/wake.ts [--samples 200] [--json]
 *
 * Four scenarios, `--samples` messages each, written one at a time with a
 * short random pause in between (so the watcher is sometimes still in its
 * burst of quick checks and sometimes backing off):
 *
 * - in-process: a QueueWatcher and a persistent Queue writer in this process
 *   (woken by the in-process notification of lib/watch/activity.ts);
 * - cross-process: the writer is a child process (this file with `--writer`),
 *   the watcher is here (woken by inotify on the -wal file or data_version).
 *
 * each with a consuming watcher (the default; its claim is a committed
 * transaction, so with BROKER_SYNC_MODE=FULL it pays an fsync before the
 * handler runs) and a peeking one (no write on the watcher's side).
 *
 * Latency is measured from the writer's timestamp in the message body
 * (`performance.timeOrigin + performance.now()`, taken just before `write()`,
 * comparable across processes) to the handler call, so it includes the
 * writer's own commit. The "after commit" column, which the targets use,
 * starts when the writer's commit returned: the wake-up itself plus the
 * watcher's read (in-process: the hand-over of lib/watch/activity.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, QueueWatcher, resolveConfig, type Message } from "../index.ts";
import { readLines } from "../test/helpers.ts";

const TARGETS = { inProcessP50Ms: 0.2, crossProcessP50Ms: 2 };
const QUEUE = "wake";

const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === "--writer") await writerChild(process.argv[3]!);
else await main();

/** Child mode: write one message per "go" line on stdin; report `<id> <commitDoneMs>`. */
async function writerChild(db: string): Promise<void> {
  using q = new Queue(QUEUE, { dbPath: db, persistent: true });
  q.generateTimestamp(); // open the connection before the first sample
  console.log("ready");
  for await (const line of console) {
    if (line !== "go") break;
    const id = q.write(String(now()));
    console.log(`${id} ${now()}`);
  }
}

interface Sample {
  endToEnd: number;
  afterCommit: number;
  commit: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.indexOf(name);
  const samples = flag("--samples") >= 0 ? Number(args[flag("--samples") + 1]) : 200;
  const json = flag("--json") >= 0;
  const dir = mkdtempSync(join(tmpdir(), "sb-wake-"));
  const db = join(dir, "wake.db");
  const results: Record<string, Sample[]> = {};
  try {
    for (const peek of [false, true]) {
      const mode = peek ? "peek" : "consume";
      results[`in-process ${mode}`] = await inProcess(db, samples, peek);
      results[`cross-process ${mode}`] = await crossProcess(db, samples, peek);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(results, samples, json);
}

/** A watcher whose handler resolves the promise returned by `next()`. */
async function startWatcher(db: string, peek: boolean) {
  let deliver: ((m: { body: string; at: number }) => void) | undefined;
  const watcher = new QueueWatcher(
    QUEUE,
    (m: Message) => {
      const at = now();
      deliver?.({ body: m.body, at });
    },
    { db, peek },
  ).start();
  const next = () => new Promise<{ body: string; at: number }>((resolve) => (deliver = resolve));
  // Warm up: the first delivery proves the watcher is running.
  const first = next();
  using q = new Queue(QUEUE, { dbPath: db });
  q.write("warm-up");
  await first;
  return { watcher, next };
}

async function inProcess(db: string, samples: number, peek: boolean): Promise<Sample[]> {
  const { watcher, next } = await startWatcher(db, peek);
  using writer = new Queue(QUEUE, { dbPath: db, persistent: true });
  writer.generateTimestamp();
  const out: Sample[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      await pause();
      const delivered = next();
      const t0 = now();
      writer.write(String(t0));
      const t1 = now();
      const got = await delivered;
      out.push({ endToEnd: got.at - Number(got.body), afterCommit: got.at - t1, commit: t1 - t0 });
    }
  } finally {
    await watcher.stop();
  }
  return out;
}

async function crossProcess(db: string, samples: number, peek: boolean): Promise<Sample[]> {
  const { watcher, next } = await startWatcher(db, peek);
  const child = Bun.spawn([process.execPath, import.meta.path, "--writer", db], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    env: process.env,
  });
  const lines = readLines(child.stdout);
  const out: Sample[] = [];
  try {
    if ((await lines.next()).value !== "ready") throw new Error("writer child failed to start");
    for (let i = 0; i < samples; i++) {
      await pause();
      const delivered = next();
      child.stdin.write("go\n");
      child.stdin.flush();
      const [got, line] = await Promise.all([delivered, lines.next()]);
      const [, committed] = String(line.value).split(" ");
      const t1 = Number(committed);
      const t0 = Number(got.body);
      out.push({ endToEnd: got.at - t0, afterCommit: got.at - t1, commit: t1 - t0 });
    }
  } finally {
    child.stdin.end();
    await child.exited;
    await watcher.stop();
  }
  return out;
}

/** 1–12 ms, so samples find the watcher both in its burst and in its backoff. */
function pause(): Promise<void> {
  return Bun.sleep(1 + Math.random() * 11);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function report(results: Record<string, Sample[]>, samples: number, json: boolean): void {
  const rows = Object.entries(results).map(([name, s]) => ({
    scenario: name,
    p50: percentile(
      s.map((x) => x.endToEnd),
      50,
    ),
    p99: percentile(
      s.map((x) => x.endToEnd),
      99,
    ),
    afterCommitP50: percentile(
      s.map((x) => x.afterCommit),
      50,
    ),
    afterCommitP99: percentile(
      s.map((x) => x.afterCommit),
      99,
    ),
    writerCommitP50: percentile(
      s.map((x) => x.commit),
      50,
    ),
  }));
  const syncMode = resolveConfig().syncMode;
  if (json) {
    console.log(JSON.stringify({ samples, syncMode, targets: TARGETS, rows }, null, 2));
    return;
  }
  const ms = (v: number) => v.toFixed(3).padStart(8);
  console.log(`wake latency, ${samples} samples per scenario, BROKER_SYNC_MODE=${syncMode} (ms)`);
  console.log("scenario                 p50      p99   | after commit p50   p99 | writer commit p50");
  for (const r of rows) {
    console.log(
      `${r.scenario.padEnd(22)} ${ms(r.p50)} ${ms(r.p99)} |      ${ms(r.afterCommitP50)} ${ms(r.afterCommitP99)} |   ${ms(r.writerCommitP50)}`,
    );
  }
  const find = (name: string) => rows.find((r) => r.scenario === name)!;
  const verdict = (value: number, target: number) => `${value.toFixed(3)} ${value < target ? "met" : "MISSED"}`;
  console.log("targets: wake latency p50, from the writer's commit to the handler (the after-commit column):");
  for (const [label, prefix, target] of [
    ["in-process   ", "in-process", TARGETS.inProcessP50Ms],
    ["cross-process", "cross-process", TARGETS.crossProcessP50Ms],
  ] as const) {
    const parts = (["consume", "peek"] as const).map(
      (mode) => `${mode} ${verdict(find(`${prefix} ${mode}`).afterCommitP50, target)}`,
    );
    console.log(`  ${label} < ${target} ms: ${parts.join(";  ")}`);
  }
  console.log(
    "  note: the p50/p99 columns start before the writer's own commit, so they add its fsync\n" +
      "  (BROKER_SYNC_MODE=FULL; the last column). In-process, an idle watcher gets the message from\n" +
      "  the write itself (consume: inserted claimed, no claim transaction of its own; peek: a copy);\n" +
      "  across processes, a consuming watcher commits its claim (an fsync at FULL) before its handler.",
  );
}
