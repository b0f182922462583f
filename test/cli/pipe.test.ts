// Guards docs/compatibility.md#q8-closed-stdout: when the reader of stdout goes away, `read` stops
// claiming, puts back the message it could not deliver and exits 0 without an
// error (3.6.1 lost a message and printed `[Errno 32] Broken pipe`, exit 1).
// No message may be lost: printed + still pending = written.
import { expect, test } from "bun:test";
import { CLI, runCli, tempDir } from "../helpers.ts";

/** A 1 MiB body starting with its number: larger than any pipe buffer, so exactly one fits at a time. */
const big = (i: number) => `m${i}:`.padEnd(1 << 20, "x");

/** Runs argv[1:] with stdout = a pipe whose read end is already closed; prints its exit status to stderr. */
const CLOSED_PIPE = [
  "import os, subprocess, sys",
  "r, w = os.pipe()",
  "os.close(r)",
  "p = subprocess.run(sys.argv[1:], stdout=w)",
  "sys.stderr.write(f'cli-exit={p.returncode}\\n')",
].join("\n");

async function writeAll(cwd: string, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    expect(await runCli(["write", "q", "-"], { cwd, stdin: body })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  }
}

/** First 8 characters of each pending message, oldest first. */
async function pendingHeads(cwd: string): Promise<string[]> {
  const r = await runCli(["peek", "q", "--all", "--json"], { cwd });
  if (r.exitCode === 2) return [];
  expect(r.exitCode).toBe(0);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((line) => (JSON.parse(line) as { message: string }).message.slice(0, 4));
}

/** Run the CLI with stdout to a pipe, read up to the first newline, then close our end. */
async function readFirstLineThenClose(args: string[], cwd: string) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  const chunks: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    seen += value.length;
    if (value.includes(0x0a)) break;
  }
  await reader.cancel();
  const text = Buffer.concat(chunks, seen).toString("utf8");
  const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { firstLine: text.slice(0, text.indexOf("\n") + 1), stderr, exitCode };
}

test.concurrent("read --all into a pipe closed after one line: exit 0, one printed, nine still pending", async () => {
  using d = tempDir();
  await writeAll(
    d.path,
    Array.from({ length: 10 }, (_, i) => big(i + 1)),
  );

  const r = await readFirstLineThenClose(["read", "q", "--all"], d.path);
  expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
  expect(r.firstLine).toBe(`${big(1)}\n`);
  expect(await pendingHeads(d.path)).toEqual(["m2:x", "m3:x", "m4:x", "m5:x", "m6:x", "m7:x", "m8:x", "m9:x", "m10:"]);
}, 60_000);

test.concurrent("sh -c 'read --all | head -1' prints only the first message and the CLI exits 0", async () => {
  using d = tempDir();
  await writeAll(
    d.path,
    Array.from({ length: 10 }, (_, i) => `m${i + 1}`),
  );

  // `$?` of the CLI goes to stderr, so no PIPESTATUS is needed.
  const script = '{ "$0" "$1" read q --all; echo "cli-exit=$?" >&2; } | head -1';
  const r = await runCli([], { cwd: d.path, cmd: ["sh", "-c", script, process.execPath, CLI] });
  expect(r).toEqual({ stdout: "m1\n", stderr: "cli-exit=0\n", exitCode: 0 });

  // Small messages may have been accepted by the pipe buffer before head quit
  // (those were delivered to head); whatever is pending is the untouched tail.
  const pending = await pendingHeads(d.path);
  expect(pending.length).toBeLessThanOrEqual(9);
  expect(pending).toEqual(Array.from({ length: pending.length }, (_, i) => `m${10 - pending.length + i + 1}`.slice(0, 4)));
}, 60_000);

test.concurrent("sh -c 'read --all | head -1' with 1 MiB messages loses nothing", async () => {
  using d = tempDir();
  await writeAll(
    d.path,
    Array.from({ length: 10 }, (_, i) => big(i + 1)),
  );

  const script = '{ "$0" "$1" read q --all; echo "cli-exit=$?" >&2; } | head -1';
  const r = await runCli([], { cwd: d.path, cmd: ["sh", "-c", script, process.execPath, CLI] });
  expect(r).toEqual({ stdout: `${big(1)}\n`, stderr: "cli-exit=0\n", exitCode: 0 });
  // m1 was delivered whole; m2 could not be, so it was put back: 1 printed + 9 pending.
  expect(await pendingHeads(d.path)).toEqual(["m2:x", "m3:x", "m4:x", "m5:x", "m6:x", "m7:x", "m8:x", "m9:x", "m10:"]);
}, 60_000);

test.concurrent("a reader that quits inside a message gets it again later", async () => {
  using d = tempDir();
  await writeAll(d.path, [big(1), big(2)]);
  const script = '{ "$0" "$1" read q --all; echo "cli-exit=$?" >&2; } | head -c 8';
  const r = await runCli([], { cwd: d.path, cmd: ["sh", "-c", script, process.execPath, CLI] });
  expect(r).toEqual({ stdout: "m1:xxxxx", stderr: "cli-exit=0\n", exitCode: 0 });
  expect(await pendingHeads(d.path)).toEqual(["m1:x", "m2:x"]);
}, 60_000);

test.concurrent("a single read into a closed pipe keeps the message", async () => {
  using d = tempDir();
  await writeAll(d.path, ["one", "two"]);

  for (const args of [
    ["read", "q"],
    ["read", "q", "--after", "0"],
    ["read", "q", "-t"],
    ["read", "q", "--json"],
  ]) {
    const r = await runCli(args, { cwd: d.path, cmd: ["python3", "-c", CLOSED_PIPE, process.execPath, CLI] });
    expect({ args, r }).toEqual({ args, r: { stdout: "", stderr: "cli-exit=0\n", exitCode: 0 } });
  }
  expect(await runCli(["peek", "q", "--all"], { cwd: d.path })).toEqual({ stdout: "one\ntwo\n", stderr: "", exitCode: 0 });
}, 60_000);

test.concurrent("peek --all into a closed pipe consumes nothing", async () => {
  using d = tempDir();
  await writeAll(
    d.path,
    Array.from({ length: 10 }, (_, i) => big(i + 1)),
  );
  const r = await readFirstLineThenClose(["peek", "q", "--all"], d.path);
  expect({ exitCode: r.exitCode, stderr: r.stderr, firstLine: r.firstLine }).toEqual({
    exitCode: 0,
    stderr: "",
    firstLine: `${big(1)}\n`,
  });
  expect((await pendingHeads(d.path)).length).toBe(10);
}, 60_000);
