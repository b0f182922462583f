// Runs every program in examples/ briefly (EXAMPLE_LIMIT=N makes each stop
// after N messages) in a temporary directory, so the examples cannot rot.
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";

const EXAMPLES = resolve(import.meta.dir, "../../examples");
const TIMEOUT = 20_000;

/** Start an example with cwd = `dir` (so it uses `<dir>/.broker.db`). */
function start(example: string, dir: string, limit: number) {
  const proc = Bun.spawn([process.execPath, join(EXAMPLES, example)], {
    cwd: dir,
    env: { ...process.env, EXAMPLE_LIMIT: String(limit) },
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    proc,
    /** Wait for the exit; resolves with its output (fails the test on a non-zero exit). */
    async finish(): Promise<string> {
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      if (code !== 0) throw new Error(`${example} exited ${code}: ${stderr}`);
      return stdout;
    },
    [Symbol.dispose]: () => {
      if (proc.exitCode === null) proc.kill();
    },
  };
}

/** The first line a process prints. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<{ line: string; rest: Promise<string> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const nl = text.indexOf("\n");
  const rest = (async () => {
    let more = text.slice(nl + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return more;
      more += decoder.decode(value, { stream: true });
    }
  })();
  return { line: nl === -1 ? text : text.slice(0, nl), rest };
}

describe("examples", () => {
  test(
    "worker.ts consumes jobs with for await ... of q.watch(), including ones written later",
    async () => {
      using d = tempDir("sb-example-");
      using jobs = new Queue("jobs", { dbPath: d.path });
      const [first] = jobs.writeMany(["resize a.png"]);
      using run = start("worker.ts", d.path, 2);
      const { line, rest } = await firstLine(run.proc.stdout);
      expect(line).toBe(`job ${first}: resize a.png`);
      const second = jobs.write("resize b.png"); // the worker is waiting for it
      jobs.write("left for later"); // usually written before the worker stops: it must stay
      expect(await run.proc.exited).toBe(0);
      expect(await rest).toBe(`job ${second}: resize b.png\nworker stopped after 2 job(s)\n`);
      expect(jobs.peekMany().map((m) => m.body)).toEqual(["left for later"]);
    },
    TIMEOUT,
  );

  test(
    "peek-ack-worker.ts acknowledges each job after processing it",
    async () => {
      using d = tempDir("sb-example-");
      using jobs = new Queue("jobs", { dbPath: d.path });
      jobs.writeMany(["mail 1", "mail 2", "mail 3"]);
      using run = start("peek-ack-worker.ts", d.path, 3);
      expect(await run.finish()).toBe("done: mail 1\ndone: mail 2\ndone: mail 3\n");
      expect(jobs.stats()).toMatchObject({ pending: 0, claimed: 3 });
    },
    TIMEOUT,
  );

  test(
    "dead-letter.ts moves failed jobs to <queue>.dead, keeping their ids",
    async () => {
      using d = tempDir("sb-example-");
      using orders = new Queue("orders", { dbPath: d.path });
      const [, bad, , incomplete] = orders.writeMany(['{"id": 1, "qty": 2}', "not json", '{"id": 2, "qty": 1}', '{"id": 3}']);
      using run = start("dead-letter.ts", d.path, 4);
      const out = await run.finish();
      expect(out).toContain("order 1: 2 item(s)\n");
      expect(out).toContain("order 2: 1 item(s)\n");
      expect(out).toContain(`order message ${bad} moved to orders.dead`);
      using dead = new Queue("orders.dead", { dbPath: d.path });
      expect(dead.peekMany()).toEqual([
        { body: "not json", ts: bad! },
        { body: '{"id": 3}', ts: incomplete! },
      ]);
      expect(orders.hasPending()).toBe(false);
    },
    TIMEOUT,
  );

  test(
    "serve-enqueue.ts enqueues POST bodies and answers with their ids",
    async () => {
      using d = tempDir("sb-example-");
      using run = start("serve-enqueue.ts", d.path, 3);
      const { line } = await firstLine(run.proc.stdout);
      const url = line.slice(line.indexOf("http"));
      expect(url).toMatch(/^http:\/\/.+:\d+\/$/);
      expect((await fetch(url)).status).toBe(405);
      const replies = await Promise.all(
        ["one", "two", "three"].map(async (body) => {
          const res = await fetch(url, { method: "POST", body });
          expect(res.status).toBe(201);
          return (await res.json()) as { queue: string; id: string };
        }),
      );
      expect(await run.proc.exited).toBe(0);
      using jobs = new Queue("jobs", { dbPath: d.path });
      const stored = jobs.peekMany();
      expect(stored.map((m) => m.body).sort()).toEqual(["one", "three", "two"]);
      expect(replies.map((r) => r.id).sort()).toEqual(stored.map((m) => String(m.ts)).sort());
      expect(replies.every((r) => r.queue === "jobs")).toBe(true);
    },
    TIMEOUT,
  );
});
