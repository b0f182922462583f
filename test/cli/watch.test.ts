/**
 * `broker watch` end to end (issue 4): consume, peek and move modes, JSON
 * lines, a message written after the watcher started arrives, SIGINT and
 * SIGTERM end it with exit 0 and nothing lost, and its argument errors.
 */
import { describe, expect, test } from "bun:test";
import { CLI, runCli, tempDir, childEnv } from "../helpers.ts";

/** A running `broker watch …` whose stdout/stderr can be awaited line by line. */
function startWatch(args: string[], cwd: string) {
  const proc = Bun.spawn([process.execPath, CLI, "watch", ...args], {
    cwd,
    env: childEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = (stream: ReadableStream<Uint8Array>) => {
    const state = { text: "", ended: false, waiters: [] as Array<() => void> };
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        state.text += decoder.decode(chunk, { stream: true });
        for (const w of state.waiters.splice(0)) w();
      }
      state.ended = true;
      for (const w of state.waiters.splice(0)) w();
    })();
    return state;
  };
  const out = collect(proc.stdout);
  const errs = collect(proc.stderr);
  /** Resolve once `state.text` satisfies `pred`; fail if the stream ends first. */
  const until = async (state: typeof out, pred: (t: string) => boolean) => {
    while (!pred(state.text)) {
      if (state.ended) throw new Error(`watch output ended before the expected text: ${JSON.stringify(state.text)}`);
      await new Promise<void>((r) => state.waiters.push(r));
    }
    return state.text;
  };
  return {
    proc,
    stdout: (pred: (t: string) => boolean) => until(out, pred),
    stderr: (pred: (t: string) => boolean) => until(errs, pred),
    get out() {
      return out.text;
    },
    get err() {
      return errs.text;
    },
  };
}

describe("broker watch", () => {
  test.concurrent("consume: existing and later messages are printed and claimed; SIGINT exits 0", async () => {
    using dir = tempDir("sb-watch-");
    await runCli(["write", "q", "before"], { cwd: dir.path });
    const w = startWatch(["q"], dir.path);
    await w.stderr((t) => t.includes("Watching queue 'q' (consume mode)..."));
    await w.stdout((t) => t === "before\n");
    expect((await runCli(["write", "q", "after"], { cwd: dir.path })).exitCode).toBe(0);
    await w.stdout((t) => t === "before\nafter\n");
    w.proc.kill("SIGINT");
    expect(await w.proc.exited).toBe(0);
    expect(w.out).toBe("before\nafter\n");
    expect((await runCli(["list", "--stats"], { cwd: dir.path })).stdout).toBe(
      "q: 0 (2 total, 2 claimed)\n\nTotal claimed messages: 2/2\n",
    );
  }, 30_000);

  test.concurrent("peek with --json and -t: messages stay, each printed once; SIGTERM exits 0", async () => {
    using dir = tempDir("sb-watch-");
    const w = startWatch(["q", "--peek", "--json"], dir.path);
    await w.stderr((t) => t.includes("(peek mode)"));
    await runCli(["write", "q", 'a "quoted"\nline'], { cwd: dir.path });
    await runCli(["write", "q", "b"], { cwd: dir.path });
    await w.stdout((t) => t.split("\n").length === 3);
    w.proc.kill("SIGTERM");
    expect(await w.proc.exited).toBe(0);
    const lines = w.out.trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['a "quoted"\nline', "b"]);
    expect(lines[0]).toMatch(/^\{"message": "a \\"quoted\\"\\nline", "timestamp": \d{19}\}$/);
    expect((await runCli(["list"], { cwd: dir.path })).stdout).toBe("q: 2\n");
  }, 30_000);

  test.concurrent("move mode moves each message to the destination and prints it with -t", async () => {
    using dir = tempDir("sb-watch-");
    const w = startWatch(["inbox", "--move", "work", "-t"], dir.path);
    await w.stderr((t) => t.includes("Watching queue 'inbox' (move to work mode)..."));
    await runCli(["write", "inbox", "job1"], { cwd: dir.path });
    await w.stdout((t) => t.endsWith("\tjob1\n"));
    w.proc.kill("SIGINT");
    expect(await w.proc.exited).toBe(0);
    expect(w.out).toMatch(/^\d{19}\tjob1\n$/);
    expect((await runCli(["read", "work"], { cwd: dir.path })).stdout).toBe("job1\n");
    expect((await runCli(["read", "inbox"], { cwd: dir.path })).exitCode).toBe(2);
  }, 30_000);

  test.concurrent("--after filters in consume mode too (Q5 fixed)", async () => {
    using dir = tempDir("sb-watch-");
    await runCli(["write", "q", "old"], { cwd: dir.path });
    const ts = (await runCli(["peek", "q", "-t"], { cwd: dir.path })).stdout.split("\t")[0]!;
    const w = startWatch(["q", "--after", ts], dir.path);
    await w.stderr((t) => t.includes("(consume mode)"));
    await runCli(["write", "q", "new"], { cwd: dir.path });
    await w.stdout((t) => t === "new\n");
    w.proc.kill("SIGINT");
    expect(await w.proc.exited).toBe(0);
    expect((await runCli(["peek", "q", "--all"], { cwd: dir.path })).stdout).toBe("old\n");
  }, 30_000);

  test.concurrent("argument errors: --move with --after, --move to the same queue, bad --after", async () => {
    using dir = tempDir("sb-watch-");
    const a = await runCli(["watch", "q", "--move", "d", "--after", "0"], { cwd: dir.path });
    expect(a).toEqual({
      stdout: "",
      stderr: "simplebroker: error: --move drains ALL messages from source queue, incompatible with --after filtering\n",
      exitCode: 1,
    });
    const b = await runCli(["watch", "q", "--move", "q"], { cwd: dir.path });
    expect(b).toEqual({
      stdout: "",
      stderr: "Watching queue 'q' (move to q mode)...\nsimplebroker: error: Cannot move messages to the same queue\n",
      exitCode: 1,
    });
    const c = await runCli(["watch", "q", "--after", "garbage"], { cwd: dir.path });
    expect(c).toEqual({ stdout: "", stderr: "simplebroker: error: Invalid timestamp: garbage\n", exitCode: 1 });
    const d = await runCli(["-q", "watch", "q", "--move", "q"], { cwd: dir.path });
    expect(d.stderr).toBe("simplebroker: error: Cannot move messages to the same queue\n");
  }, 30_000);
});
