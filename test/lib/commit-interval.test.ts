/**
 * `read --all` with BROKER_READ_COMMIT_INTERVAL = N > 1: batches of N claimed
 * in one transaction, delivered, committed. When delivery stops inside a
 * batch, what arrived stays claimed and the rest is pending again; N = 1
 * stays one message per transaction. Through the library (a consumer that
 * fails on a chosen message) and through the real CLI.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker } from "../../index.ts";
import type { Message } from "../../lib/core/types.ts";
import { runCli, tempDir } from "../helpers.ts";

async function drainUntil(dir: string, interval: number, failAt: number): Promise<{ got: string[]; pending: string[] }> {
  await using b = await openBroker(join(dir, ".broker.db"));
  await b.write(
    "q",
    Array.from({ length: 25 }, (_, i) => `m${i}`),
  );
  const got: string[] = [];
  const deliver = async (m: Message) => {
    if (got.length === failAt) throw new Error("consumer went away");
    got.push(m.body);
  };
  await expect(b.deliver({ queue: "q", kind: "claim", selection: {}, commitInterval: interval }, deliver)).rejects.toThrow(
    "consumer went away",
  );
  const pending = (await b.peek("q", { limit: 100 })).map((m) => m.body);
  return { got, pending };
}

describe("commit interval", () => {
  test("N = 10, the consumer fails on the 14th: 13 delivered and claimed, the other 12 pending in order", async () => {
    using d = tempDir("sb-ci-");
    const { got, pending } = await drainUntil(d.path, 10, 13);
    expect(got).toEqual(Array.from({ length: 13 }, (_, i) => `m${i}`));
    expect(pending).toEqual(Array.from({ length: 12 }, (_, i) => `m${i + 13}`));
  });

  test("N = 1 (exactly-once): the same stop leaves the same state", async () => {
    using d = tempDir("sb-ci-");
    const { got, pending } = await drainUntil(d.path, 1, 13);
    expect(got.length).toBe(13);
    expect(pending.length).toBe(12);
  });

  test("CLI: read --all with N = 10 prints every message once, in order, and empties the queue", async () => {
    using d = tempDir("sb-ci-");
    for (let i = 0; i < 25; i++) await runCli(["write", "q", `m${i}`], { cwd: d.path });
    const r = await runCli(["read", "q", "--all"], { cwd: d.path, env: { BROKER_READ_COMMIT_INTERVAL: "10" } });
    expect(r).toEqual({ stdout: Array.from({ length: 25 }, (_, i) => `m${i}\n`).join(""), stderr: "", exitCode: 0 });
    expect((await runCli(["read", "q"], { cwd: d.path })).exitCode).toBe(2);
  }, 60_000);
});
