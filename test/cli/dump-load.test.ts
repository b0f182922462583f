/**
 * `dump` / `load` through the real CLI: interchange with SimpleBroker 7.3.2
 * (the real package, run from /work/shared/reference) in both directions,
 * the filters, every input error, the future-watermark guard, and
 * all-or-nothing loads: a bad line 500,000 lines deep leaves SQLite and
 * PostgreSQL exactly as they were (a full dump before and after).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { childEnv, runCli, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

setDefaultTimeout(60_000); // several CLI and Python runs per test on a loaded 2-core machine

const REF = resolve(import.meta.dir, "../../../shared/reference/simplebroker-7.3.2");
const HAVE_REF = existsSync(join(REF, "simplebroker"));
if (!HAVE_REF) console.warn(`skipping 7.3.2 interchange: ${REF} is absent`);

/** Run SimpleBroker 7.3.2's CLI in `cwd`. */
function py(args: string[], cwd: string, stdin?: string) {
  const r = Bun.spawnSync(["python3", "-m", "simplebroker", ...args], {
    cwd,
    env: childEnv({ PYTHONPATH: REF }),
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exitCode };
}

const TRICKY = ["plain", "two\nlines", "é ✓ 日本", "tab\there \u0001\u001f\u007f", 'quote " and \\ backslash', "😀 astral", ""];

describe.if(HAVE_REF)("interchange with SimpleBroker 7.3.2", () => {
  test("a 7.3.2 dump loads into ours, and our dump of it is the same bytes", async () => {
    using dir = tempDir("sb-dump7-");
    const pyDir = join(dir.path, "py");
    Bun.spawnSync(["mkdir", pyDir]);
    for (const [i, body] of TRICKY.entries()) expect(py(["write", i % 2 ? "jobs" : "other-q", body], pyDir).exitCode).toBe(0);
    expect(py(["read", "jobs"], pyDir).exitCode).toBe(0); // a claimed row stays out of the dump
    expect(py(["alias", "add", "inbox", "jobs"], pyDir).exitCode).toBe(0);
    const theirs = py(["dump"], pyDir);
    expect(theirs.exitCode).toBe(0);
    expect(theirs.stdout.split("\n").length).toBe(TRICKY.length + 2 - 1 + 1);
    const load = await runCli(["load"], { cwd: dir.path, stdin: theirs.stdout });
    expect(load).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect((await runCli(["dump"], { cwd: dir.path })).stdout).toBe(theirs.stdout);
    expect((await runCli(["read", "@inbox"], { cwd: dir.path })).stdout).toBe(`${TRICKY[3]}\n`);
  }, 240_000); // ten Python start-ups

  test("our dump loads into 7.3.2, whose dump of it is ours byte for byte except last_ts one above (7.3.2's load moves its watermark past the header's)", async () => {
    using dir = tempDir("sb-dump7-");
    for (const [i, body] of TRICKY.entries()) await runCli(["write", i % 2 ? "jobs" : "other-q", body], { cwd: dir.path });
    await runCli(["read", "other-q"], { cwd: dir.path });
    await runCli(["alias", "add", "inbox", "jobs"], { cwd: dir.path });
    const ours = (await runCli(["dump"], { cwd: dir.path })).stdout;
    const pyDir = join(dir.path, "py");
    Bun.spawnSync(["mkdir", pyDir]);
    expect(py(["load"], pyDir, ours)).toMatchObject({ exitCode: 0, stderr: "" });
    const theirs = py(["dump"], pyDir).stdout.split("\n");
    const mine = ours.split("\n");
    const ts = (line: string) => BigInt(JSON.parse(line).last_ts as string);
    expect(ts(theirs[0]!)).toBe(ts(mine[0]!) + 1n);
    expect(theirs.slice(1)).toEqual(mine.slice(1));
    expect(theirs[0]!.replace(/"last_ts": "\d+"/, "")).toBe(mine[0]!.replace(/"last_ts": "\d+"/, ""));
  });
});

describe("dump", () => {
  test("an empty broker is its header; ids are 19 digits; the database is created", async () => {
    using dir = tempDir("sb-dump-");
    const r = await runCli(["dump"], { cwd: dir.path });
    expect(r).toEqual({
      stdout:
        '{"backend": "sqlite", "format": "simplebroker-dump", "last_ts": "0000000000000000000", "type": "header", "version": 1}\n',
      stderr: "",
      exitCode: 0,
    });
    expect(existsSync(join(dir.path, ".broker.db"))).toBe(true);
  });

  test("--include / --exclude: repeatable, exclude wins, aliases ride on either name", async () => {
    using dir = tempDir("sb-dump-");
    for (const q of ["a1", "a2", "b1"]) await runCli(["write", q, q], { cwd: dir.path });
    await runCli(["alias", "add", "al", "a2"], { cwd: dir.path });
    const queues = async (...args: string[]) =>
      (await runCli(["dump", ...args], { cwd: dir.path })).stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => JSON.parse(l).queue ?? `@${JSON.parse(l).alias}`);
    expect(await queues()).toEqual(["@al", "a1", "a2", "b1"]);
    expect(await queues("--include", "a*", "--exclude", "a2")).toEqual(["a1"]);
    expect(await queues("--exclude", "a*")).toEqual(["b1"]);
    expect(await queues("--include", "b*", "--include", "a2")).toEqual(["@al", "a2", "b1"]);
    expect(await queues("--include", "al")).toEqual(["@al"]);
  });
});

const HEADER = (lastTs = "1796042391990595584") =>
  `{"backend": "sqlite", "format": "simplebroker-dump", "last_ts": "${lastTs}", "type": "header", "version": 1}`;
const MSG = (id: string, queue = "jobs", body = "x") => JSON.stringify({ body, id, queue, type: "message" });

describe("load errors: one line, exit 1, nothing changed", () => {
  const cases: [string, string, string][] = [
    ["empty input", "", "invalid dump input: missing header (is this a simplebroker dump?)"],
    ["blank lines only", "\n  \n", "invalid dump input: missing header (is this a simplebroker dump?)"],
    ["malformed JSON", "garbage\n", "invalid dump input at line 1: malformed JSON"],
    ["not an object", "[1]\n", "invalid dump input at line 1: record must be a JSON object"],
    ["no header first", `${MSG("1796042391740297216")}\n`, "invalid dump input at line 1: first record must be the dump header"],
    ["wrong format", '{"type": "header", "format": "x", "version": 1, "last_ts": "0"}\n', "line 1: unrecognized dump format"],
    ["wrong version", `${HEADER().replace('"version": 1', '"version": 99')}\n`, "line 1: unsupported dump version 99"],
    ["no last_ts", '{"type": "header", "format": "simplebroker-dump", "version": 1}\n', "line 1: header requires 'last_ts'"],
    ["bad last_ts", `${HEADER("12")}\n`, "line 1: invalid header last_ts"],
    ["second header", `${HEADER()}\n\n${HEADER()}\n`, "line 3: duplicate header"],
    ["unknown type", `${HEADER()}\n{"type": "queue"}\n`, 'line 2: unknown record type "queue"'],
    [
      "alias without target",
      `${HEADER()}\n{"type": "alias", "alias": "a"}\n`,
      "line 2: alias record requires string 'alias' and 'target' fields",
    ],
    [
      "message without body",
      `${HEADER()}\n{"type": "message", "queue": "q", "id": "1796042391740297216"}\n`,
      "line 2: message record requires string 'queue' and 'body' fields",
    ],
    ["invalid id", `${HEADER()}\n${MSG("123")}\n`, "line 2: invalid message ID"],
    ["id 0", `${HEADER()}\n${MSG("0000000000000000000")}\n`, "line 2: message id 0 is reserved"],
    ["id above last_ts", `${HEADER()}\n${MSG("1796042391990595585")}\n`, "line 2: message id exceeds header last_ts"],
    ["invalid queue name", `${HEADER()}\n${MSG("1796042391740297216", "-bad")}\n`, "line 2: Invalid queue name"],
    [
      "duplicate id in the dump",
      `${HEADER()}\n${MSG("1796042391740297216")}\n${MSG("1796042391740297216", "other")}\n`,
      "line 3: duplicate message id 1796042391740297216",
    ],
  ];
  for (const [name, input, message] of cases) {
    test(name, async () => {
      using dir = tempDir("sb-load-");
      await runCli(["write", "keep", "me"], { cwd: dir.path });
      const before = (await runCli(["dump"], { cwd: dir.path })).stdout;
      const r = await runCli(["load"], { cwd: dir.path, stdin: input });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toStartWith("simplebroker: error: ");
      expect(r.stderr).toContain(message);
      expect(r.stderr.trimEnd().split("\n").length).toBe(1);
      expect((await runCli(["dump"], { cwd: dir.path })).stdout).toBe(before);
    });
  }

  test("a header far ahead of the clock: refused, then loaded with --force and a warning; last_ts is a floor", async () => {
    using dir = tempDir("sb-load-");
    const input = `${HEADER("2999999999999999999")}\n${MSG("2999999999999999999", "jobs", "far")}\n`;
    const refused = await runCli(["load"], { cwd: dir.path, stdin: input });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("future skew exceeds configured maximum of 300 seconds");
    expect((await runCli(["peek", "jobs"], { cwd: dir.path })).exitCode).toBe(2);
    const forced = await runCli(["load", "--force"], { cwd: dir.path, stdin: input });
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain("seconds ahead of local wall time");
    expect((await runCli(["peek", "jobs", "-t"], { cwd: dir.path })).stdout).toBe("2999999999999999999\tfar\n");
    const low = `${HEADER("1796042391990595584")}\n`;
    expect((await runCli(["load"], { cwd: dir.path, stdin: low })).exitCode).toBe(0);
    expect((await runCli(["dump"], { cwd: dir.path })).stdout).toStartWith(
      HEADER("2999999999999999999").replace('"sqlite"', '"sqlite"'),
    );
  });

  test("a message id already in the target: exit 1, nothing of the dump applied", async () => {
    using dir = tempDir("sb-load-");
    await runCli(["write", "jobs", "a"], { cwd: dir.path });
    await runCli(["write", "jobs", "b"], { cwd: dir.path });
    const dump = (await runCli(["dump"], { cwd: dir.path })).stdout;
    await runCli(["read", "jobs"], { cwd: dir.path });
    const before = (await runCli(["dump"], { cwd: dir.path })).stdout;
    const r = await runCli(["load"], { cwd: dir.path, stdin: dump });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("invalid dump input at line 2: duplicate message id"); // a claimed row keeps its id until vacuumed
    expect((await runCli(["dump"], { cwd: dir.path })).stdout).toBe(before);
  });
});

/** A dump of `count` messages whose line `badLine` is broken (or none). */
function bigDump(count: number, badLine: number): string {
  const base = 1796042391740297216n;
  const parts: string[] = [HEADER((base + BigInt(count)).toString())];
  for (let i = 0; i < count; i++) {
    parts.push(
      parts.length + 1 === badLine
        ? '{"type": "message", "queue": "big"'
        : MSG((base + BigInt(i)).toString(), `big${i % 3}`, `m${i}`),
    );
  }
  return `${parts.join("\n")}\n`;
}

const DEEP = 500_000;

async function allOrNothing(cwd: string, env: Record<string, string>): Promise<void> {
  await runCli(["write", "existing", "stays"], { cwd, env });
  await runCli(["alias", "add", "ex", "existing"], { cwd, env });
  const before = (await runCli(["dump"], { cwd, env })).stdout;
  const header = JSON.parse(before.split("\n")[0]!) as { backend: string };
  expect(header.backend).toBe(env.BROKER_BACKEND ?? "sqlite");
  const r = await runCli(["load"], { cwd, env, stdin: bigDump(DEEP, DEEP) });
  expect(r.stderr).toContain(`invalid dump input at line ${DEEP}: malformed JSON`);
  expect(r.exitCode).toBe(1);
  expect((await runCli(["dump"], { cwd, env })).stdout).toBe(before);
  const ok = await runCli(["load"], { cwd, env, stdin: bigDump(1000, 0) });
  expect(ok.exitCode).toBe(0);
  expect((await runCli(["list"], { cwd, env })).stdout).toBe("big0: 334\nbig1: 333\nbig2: 333\nexisting: 1\n");
}

describe("all or nothing", () => {
  test("SQLite: a bad line 500,000 lines deep leaves the file as it was", async () => {
    using dir = tempDir("sb-load-");
    await allOrNothing(dir.path, {});
  }, 240_000);

  test("PostgreSQL: a bad line 500,000 lines deep leaves the schema as it was", async () => {
    using dir = tempDir("sb-load-");
    const schema = uniqueName("sb_load");
    const env = { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: await postgresUrl(), BROKER_BACKEND_SCHEMA: schema };
    try {
      await allOrNothing(dir.path, env);
    } finally {
      await runCli(["--cleanup"], { cwd: dir.path, env });
    }
  }, 300_000);

  test("Redis: a bad line 500,000 lines deep leaves the namespace as it was, staging keys gone", async () => {
    using dir = tempDir("sb-load-");
    const ns = uniqueName("sb_load");
    // BROKER_BACKEND_SCHEMA names the Redis namespace when the target has none.
    const env = { BROKER_BACKEND: "redis", BROKER_BACKEND_TARGET: await redisUrl(), BROKER_BACKEND_SCHEMA: ns };
    try {
      await allOrNothing(dir.path, env);
      const keys = Bun.spawnSync(["redis-cli", "--scan", "--pattern", `simplebroker:${ns}:load:*`]).stdout.toString();
      expect(keys).toBe("");
    } finally {
      await runCli(["--cleanup"], { cwd: dir.path, env });
    }
  }, 300_000);
});
