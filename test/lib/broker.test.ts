// openBroker and the target/config helpers of the public API (docs/compatibility.md#library):
// cross-queue operations, aliases, vacuum, status, `await using`.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ArgumentError,
  Broker,
  ConfigError,
  Queue,
  QueueNameError,
  openBroker,
  resolveConfig,
  targetForDirectory,
} from "../../index.ts";
import { tempDir } from "../helpers.ts";

describe("openBroker", () => {
  test("a directory opens its .broker.db; a file path opens that file", async () => {
    using d = tempDir("sb-broker-");
    {
      await using b = await openBroker(d.path);
      expect(b).toBeInstanceOf(Broker);
      expect(b.target?.target).toBe(join(d.path, ".broker.db"));
      await b.write("jobs", "in the default file");
    }
    expect(existsSync(join(d.path, ".broker.db"))).toBe(true);
    const file = join(d.path, "custom.db");
    {
      await using b = await openBroker(file);
      expect(b.target?.target).toBe(file);
      expect(b.backend.name).toBe("sqlite");
      await b.write("jobs", "in the custom file");
    }
    using q = new Queue("jobs", { dbPath: file });
    expect(q.peekMany().map((m) => m.body)).toEqual(["in the custom file"]);
  });

  test("write, read, peek, move and delete by queue name", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    const ids = await b.write("a", ["1", "2", "3"]);
    expect(ids).toHaveLength(3);
    expect((await b.peek("a", { limit: 10 })).map((m) => m.body)).toEqual(["1", "2", "3"]);
    expect(await b.read("a")).toEqual([{ body: "1", ts: ids[0]! }]);
    expect((await b.move("a", "b", { limit: 5 })).map((m) => m.ts)).toEqual(ids.slice(1));
    await expect(b.move("b", "b")).rejects.toThrow("Source and destination queues cannot be the same");
    expect(await b.hasPending("a")).toBe(false);
    expect(await b.exists("a")).toBe(true); // the claimed row
    expect(await b.deleteMessage("b", ids[1]!)).toBe(true);
    expect(await b.delete("a")).toBe(1);
    expect(await b.delete()).toBe(2);
    await expect(b.write("bad name", "x")).rejects.toBeInstanceOf(QueueNameError);
  });

  test("listStats with prefix and pattern", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    await b.write("jobs.high", ["1", "2"]);
    await b.write("jobs.low", "3");
    await b.write("other", "4");
    await b.read("jobs.high");
    expect(await b.listStats()).toEqual([
      { queue: "jobs.high", pending: 1, claimed: 1, total: 2, exists: true },
      { queue: "jobs.low", pending: 1, claimed: 0, total: 1, exists: true },
      { queue: "other", pending: 1, claimed: 0, total: 1, exists: true },
    ]);
    expect((await b.listStats({ prefix: "jobs." })).map((s) => s.queue)).toEqual(["jobs.high", "jobs.low"]);
    expect((await b.listStats({ pattern: "*.low" })).map((s) => s.queue)).toEqual(["jobs.low"]);
    await expect(b.listStats({ prefix: "a", pattern: "b*" })).rejects.toThrow("prefix and pattern cannot be used together");
    expect(await b.queueStats("missing")).toEqual({ queue: "missing", pending: 0, claimed: 0, total: 0, exists: false });
  });

  test("broadcast writes once to every existing queue (or those matching a pattern)", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    await b.write("alpha", "a");
    await b.write("beta", "b");
    await b.read("beta"); // claimed-only queues still exist and get the broadcast
    expect(await b.broadcast("hello all")).toBe(2);
    expect(await b.broadcast("only a", "al*")).toBe(1);
    expect((await b.peek("alpha", { limit: 10 })).map((m) => m.body)).toEqual(["a", "hello all", "only a"]);
    expect((await b.peek("beta", { limit: 10 })).map((m) => m.body)).toEqual(["hello all"]);
  });

  test("aliases: add, resolve @alias operands, list, remove", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    expect(await b.addAlias("work", "jobs.v2")).toBeUndefined();
    expect(await b.listAliases()).toEqual([["work", "jobs.v2"]]);
    expect(await b.resolveQueue("@work")).toBe("jobs.v2");
    expect(await b.resolveQueue("work")).toBe("work"); // plain names are literal queues
    await b.write("@work", "via alias");
    expect((await b.read("jobs.v2")).map((m) => m.body)).toEqual(["via alias"]);
    await expect(b.addAlias("work", "x")).rejects.toThrow("Alias 'work' already exists");
    await expect(b.addAlias("x", "@work")).rejects.toThrow("Target names should not include the '@' prefix");
    await expect(b.addAlias("same", "same")).rejects.toBeInstanceOf(ArgumentError);
    await b.write("legacy", "m");
    expect(await b.addAlias("legacy", "elsewhere")).toContain("Queue 'legacy' already exists with messages");
    expect(await b.removeAlias("work")).toBe(true);
    await expect(b.read("@work")).rejects.toThrow("Alias 'work' is not defined");
    expect(await b.listAliases()).toEqual([["legacy", "elsewhere"]]);
  });

  test("vacuum removes claimed rows; status reports totals", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    const ids = await b.write("q", ["1", "2", "3", "4"]);
    await b.read("q", { limit: 3 });
    expect(await b.overallStats()).toEqual({ claimed: 3, total: 4 });
    const before = await b.status();
    expect(before.totalMessages).toBe(4);
    expect(before.lastTimestamp).toBe(ids[3]!);
    expect(before.dbSize).toBeGreaterThan(0);
    expect(await b.vacuum()).toEqual({ vacuumed: 3, ran: true });
    expect(await b.vacuum(true)).toEqual({ vacuumed: 0, ran: true });
    expect((await b.status()).totalMessages).toBe(1);
    expect(await b.overallStats()).toEqual({ claimed: 0, total: 1 });
  });

  test("generateTimestamp and lastTimestamp", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    const [w] = await b.write("q", "x");
    const g = await b.generateTimestamp();
    expect(g > w!).toBe(true);
    expect(await b.lastTimestamp()).toBe(g);
  });

  test("reserve: an at-least-once batch is revocable until commit", async () => {
    using d = tempDir("sb-broker-");
    await using b = await openBroker(d.path);
    await b.write("q", ["1", "2", "3"]);
    const r = await b.reserve("q", { limit: 2 });
    expect(r.messages.map((m) => m.body)).toEqual(["1", "2"]);
    await r.rollback();
    expect((await b.queueStats("q")).pending).toBe(3);
    const r2 = await b.reserve("q", { limit: 2 });
    await r2.commit();
    expect((await b.queueStats("q")).pending).toBe(1);
  });

  test("await using closes the broker; config overrides apply", async () => {
    using d = tempDir("sb-broker-");
    let escaped: Broker;
    {
      await using b = await openBroker(d.path, { config: { maxMessageSize: 3 } });
      escaped = b;
      expect(b.config.maxMessageSize).toBe(3);
      await expect(b.write("q", "four")).rejects.toThrow("exceeds maximum allowed size (3 bytes)");
      await b.write("q", "ok");
    }
    // Closing is idempotent.
    await escaped.close();
  });
});

describe("resolveConfig", () => {
  test("defaults, environment and overrides", () => {
    const defaults = resolveConfig({}, {});
    expect(defaults).toMatchObject({
      busyTimeout: 5000,
      maxMessageSize: 10 * 1024 * 1024,
      generatorBatchSize: 100,
      autoVacuum: true,
      autoVacuumInterval: 100,
      vacuumThreshold: 0.1,
      syncMode: "FULL",
      defaultDbName: ".broker.db",
      backend: "sqlite",
    });
    const env = resolveConfig({}, { BROKER_BUSY_TIMEOUT: "250", BROKER_VACUUM_THRESHOLD: "25", BROKER_SYNC_MODE: "normal" });
    expect(env).toMatchObject({ busyTimeout: 250, vacuumThreshold: 0.25, syncMode: "NORMAL" });
    const over = resolveConfig({ busyTimeout: 10, BROKER_MAX_MESSAGE_SIZE: "99" }, { BROKER_BUSY_TIMEOUT: "250" });
    expect(over).toMatchObject({ busyTimeout: 10, maxMessageSize: 99 });
    expect(Object.isFrozen(over)).toBe(true);
  });

  test("invalid numbers are ConfigErrors naming the variable", () => {
    expect(() => resolveConfig({}, { BROKER_CACHE_MB: "lots" })).toThrow(ConfigError);
    try {
      resolveConfig({ initialChecks: "x" }, {});
      throw new Error("not reached");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe("BROKER_INITIAL_CHECKS");
    }
  });
});

describe("targetForDirectory", () => {
  const cfg = (overrides: Record<string, unknown> = {}) => resolveConfig(overrides, {});

  test("default: <dir>/.broker.db (or BROKER_DEFAULT_DB_NAME)", () => {
    using d = tempDir("sb-target-");
    expect(targetForDirectory(d.path, cfg())).toMatchObject({
      backendName: "sqlite",
      target: join(d.path, ".broker.db"),
      projectRoot: d.path,
      configPath: null,
      usedProjectScope: false,
    });
    expect(targetForDirectory(d.path, cfg({ defaultDbName: "data/q.db" })).target).toBe(join(d.path, "data", "q.db"));
  });

  test("a .broker.toml in that directory wins, relative targets resolve against it", () => {
    using d = tempDir("sb-target-");
    writeFileSync(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "state/queue.db"\n');
    const t = targetForDirectory(d.path, cfg());
    expect(t).toMatchObject({
      backendName: "sqlite",
      target: join(d.path, "state", "queue.db"),
      projectRoot: d.path,
      configPath: join(d.path, ".broker.toml"),
      usedProjectScope: true,
    });
    // No upward search: a subdirectory without its own file gets its default database.
    const sub = join(d.path, "sub");
    mkdirSync(sub);
    expect(targetForDirectory(sub, cfg()).target).toBe(join(sub, ".broker.db"));
  });

  test("an invalid .broker.toml is a ConfigError", () => {
    using d = tempDir("sb-target-");
    writeFileSync(join(d.path, ".broker.toml"), 'version = 2\nbackend = "sqlite"\ntarget = "x.db"\n');
    expect(() => targetForDirectory(d.path, cfg())).toThrow("Unsupported .broker.toml version 2; expected 1");
  });

  test("a non-sqlite BROKER_BACKEND synthesises its target (password redacted in display only)", () => {
    using d = tempDir("sb-target-");
    const pg = targetForDirectory(
      d.path,
      cfg({ backend: "postgres", backendTarget: "postgresql://app:secret@db.local:5433/queues" }),
    );
    expect(pg).toMatchObject({
      backendName: "postgres",
      target: "postgresql://app:secret@db.local:5433/queues",
      projectRoot: d.path,
      configPath: null,
    });
    expect(pg.backendOptions).toMatchObject({ schema: "simplebroker_pg_v1" });
    const redis = targetForDirectory(d.path, cfg({ BROKER_BACKEND: "redis" }));
    expect(redis).toMatchObject({ backendName: "redis", target: "redis://127.0.0.1:6379/0" });
    expect(() => targetForDirectory(d.path, cfg({ backend: "mongo" }))).toThrow("Requested backend 'mongo' is not available.");
  });

  test("openBroker accepts a resolved target", async () => {
    using d = tempDir("sb-target-");
    writeFileSync(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "q.db"\n');
    await using b = await openBroker(targetForDirectory(d.path));
    await b.write("jobs", "x");
    expect(existsSync(join(d.path, "q.db"))).toBe(true);
    // openBroker(dir) uses the same resolution.
    await using again = await openBroker(d.path);
    expect((await again.peek("jobs")).map((m) => m.body)).toEqual(["x"]);
  });
});
