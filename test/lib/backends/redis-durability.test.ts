// The Redis persistence check (docs/redis.md#durability) against the live server (BROKER_TEST_REDIS_URL):
// one warning line per process when the server keeps nothing on disk, the `persistence` field of
// `--status --json`, silence with BROKER_REDIS_PERSISTENCE_WARNING=0 and where CONFIG is refused.
import { afterAll, describe, expect, spyOn, test } from "bun:test";
import { openBroker } from "../../../lib/queue/open.ts";
import { persistenceFrom } from "../../../lib/backends/redis/durability.ts";
import { runCli, tempDir, uniqueName } from "../../helpers.ts";
import { redisUrl, unlinkRedisKeys } from "../../services.ts";

const REDIS = await redisUrl();
const namespace = uniqueName("sbdur");
const admin = new Bun.RedisClient(REDIS);
const users: string[] = [];

/** What the server really keeps, asked the same way the backend does. */
async function serverPersistence(): Promise<string> {
  const a = (await admin.send("CONFIG", ["GET", "appendonly"])) as Record<string, string>;
  const s = (await admin.send("CONFIG", ["GET", "save"])) as Record<string, string>;
  return persistenceFrom(a.appendonly ?? "", s.save ?? "");
}

const WARNING =
  /^simplebroker: warning: Redis at (\S+) keeps no data on disk \(appendonly no, save ""\); a restart loses every message — see docs\/redis\.md$/;

const env = (extra: Record<string, string> = {}) => ({
  BROKER_BACKEND: "redis",
  BROKER_BACKEND_TARGET: REDIS,
  BROKER_BACKEND_SCHEMA: namespace,
  ...extra,
});

afterAll(async () => {
  for (const user of users) await admin.send("ACL", ["DELUSER", user]);
  admin.close();
  await unlinkRedisKeys(REDIS, `simplebroker:${namespace}:*`);
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

describe("redis persistence check", () => {
  test("persistenceFrom names every combination", () => {
    expect(persistenceFrom("no", "")).toBe("none");
    expect(persistenceFrom("yes", "")).toBe("aof");
    expect(persistenceFrom("no", "3600 1 300 100")).toBe("rdb");
    expect(persistenceFrom("yes", "3600 1")).toBe("aof+rdb");
  });

  test("the CLI warns exactly once per process, on stderr, and --status --json reports it", async () => {
    const expected = await serverPersistence();
    using dir = tempDir();
    const loud = env({ BROKER_REDIS_PERSISTENCE_WARNING: "" });
    for (const body of ["a", "b", "c"]) {
      expect((await runCli(["write", "q", body], { cwd: dir.path, env: env() })).exitCode).toBe(0);
    }
    // read --all runs one script per message: many commands, one warning.
    const read = await runCli(["read", "q", "--all"], { cwd: dir.path, env: loud });
    expect(read.stdout).toBe("a\nb\nc\n");
    expect(read.exitCode).toBe(0);
    const status = await runCli(["--status", "--json"], { cwd: dir.path, env: loud });
    expect(JSON.parse(status.stdout).persistence).toBe(expected);
    if (expected === "none") {
      for (const r of [read, status]) {
        const lines = r.stderr.split("\n").filter(Boolean);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(WARNING);
        expect(lines[0]).not.toContain("sekret");
      }
    } else {
      expect(read.stderr).toBe("");
    }
  });

  test("BROKER_REDIS_PERSISTENCE_WARNING=0 silences it; --status --json still reports", async () => {
    using dir = tempDir();
    const r = await runCli(["--status", "--json"], { cwd: dir.path, env: env({ BROKER_REDIS_PERSISTENCE_WARNING: "0" }) });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).persistence).toBe(await serverPersistence());
  });

  test("the password in the target is redacted in the warning", async () => {
    if ((await serverPersistence()) !== "none") return;
    const user = uniqueName("sbdur_pw");
    users.push(user);
    await admin.send("ACL", ["SETUSER", user, "on", ">sekret123", "~*", "&*", "+@all"]);
    const target = REDIS.replace("redis://", `redis://${user}:sekret123@`);
    using dir = tempDir();
    const r = await runCli(["write", "q", "x"], {
      cwd: dir.path,
      env: env({ BROKER_BACKEND_TARGET: target, BROKER_REDIS_PERSISTENCE_WARNING: "1" }),
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^simplebroker: warning: Redis at redis:\/\/\S+:\*\*\*@\S+ keeps no data on disk/);
    expect(r.stderr).not.toContain("sekret123");
  });

  test("where CONFIG is refused (a managed service's ACL): no warning, persistence unknown", async () => {
    const user = uniqueName("sbdur_noconfig");
    users.push(user);
    await admin.send("ACL", ["SETUSER", user, "on", ">pw-noconfig", "~*", "&*", "+@all", "-config"]);
    const target = REDIS.replace("redis://", `redis://${user}:pw-noconfig@`);
    using dir = tempDir();
    const loud = env({ BROKER_BACKEND_TARGET: target, BROKER_REDIS_PERSISTENCE_WARNING: "1" });
    expect(await runCli(["write", "q", "x"], { cwd: dir.path, env: loud })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    const status = await runCli(["--status", "--json"], { cwd: dir.path, env: loud });
    expect(status.stderr).toBe("");
    expect(JSON.parse(status.stdout).persistence).toBe("unknown");
  });

  test("the library warns once per process, however many brokers it opens", async () => {
    if ((await serverPersistence()) !== "none") return;
    const saved = process.env.BROKER_REDIS_PERSISTENCE_WARNING;
    delete process.env.BROKER_REDIS_PERSISTENCE_WARNING;
    const spy = spyOn(console, "error").mockImplementation(() => {});
    try {
      for (let i = 0; i < 3; i++) {
        await using broker = await openBroker(REDIS, { namespace });
        await broker.write("lib", `m${i}`);
        expect((await broker.status()).persistence).toBe("none");
      }
      const warnings = spy.mock.calls.filter(([text]) => WARNING.test(String(text)));
      expect(warnings).toHaveLength(1);
    } finally {
      spy.mockRestore();
      process.env.BROKER_REDIS_PERSISTENCE_WARNING = saved;
    }
  });
});
