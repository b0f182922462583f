// Claims across a dropped connection (docs/outages.md#claims-across-a-dropped-connection), deterministically:
// the answer of a claim is "lost" by throwing a driver-shaped connection error after the real claim ran
// against the live servers (BROKER_TEST_POSTGRES_URL, BROKER_TEST_REDIS_URL); the retry with the same token
// must hand over what the first claim took, and a token that took nothing must claim normally.
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { ClaimTokens, claimKey } from "../../../lib/backends/claim-tokens.ts";
import { isConnectionLoss } from "../../../lib/backends/connection-loss.ts";
import { claimOnce } from "../../../lib/backends/postgres/claim-token.ts";
import { PostgresBackend } from "../../../lib/backends/postgres/index.ts";
import { withoutMarkers } from "../../../lib/backends/postgres/leases.ts";
import { schemaIsReady } from "../../../lib/backends/postgres/schema.ts";
import { claimSql } from "../../../lib/backends/postgres/ops.ts";
import { reserveBatch } from "../../../lib/backends/postgres/reserve.ts";
import { tokenClaims } from "../../../lib/backends/redis/claim-token.ts";
import { RedisConnection } from "../../../lib/backends/redis/connection.ts";
import { createRedisBackend, type RedisBackend } from "../../../lib/backends/redis/index.ts";
import { isOwnKey } from "../../../lib/backends/redis/keys.ts";
import type { ScriptName } from "../../../lib/backends/redis/scripts.ts";
import type { Message, Selection } from "../../../lib/core/types.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { uniqueName } from "../../helpers.ts";
import { freePort } from "../../_private-servers.ts";
import { postgresUrl, redisUrl, unlinkRedisKeys } from "../../services.ts";

const config = resolveConfig({});
const lost = () => Object.assign(new Error("Connection closed"), { code: "ERR_POSTGRES_CONNECTION_CLOSED" });
const bodies = (ms: Message[]) => ms.map((m) => m.body);

describe("ClaimTokens", () => {
  test("a lost answer is tried again with the same token, marked reused; other errors pass at once", async () => {
    const tokens = new ClaimTokens(5);
    const seen: Array<[string, boolean]> = [];
    const value = await tokens.run("k", async (token, reused) => {
      seen.push([token, reused]);
      if (seen.length < 3) throw lost();
      return "done";
    });
    expect(value).toBe("done");
    expect(seen.map(([, r]) => r)).toEqual([false, true, true]);
    expect(new Set(seen.map(([t]) => t)).size).toBe(1);
    expect(seen[0]![0]).toMatch(/^[0-9a-f-]{36}$/);
    let calls = 0;
    const other = tokens.run("k", async () => {
      calls++;
      throw new Error("syntax error");
    });
    await expect(other).rejects.toThrow("syntax error");
    expect(calls).toBe(1);
    expect(tokens.kept).toBe(0);
  });

  test("past the connect timeout the loss is thrown and the token kept for the same key only", async () => {
    const tokens = new ClaimTokens(0.05);
    let first = "";
    const failing = tokens.run("a", async (token) => {
      first = token;
      throw lost();
    });
    const error = await failing.catch((e: unknown) => e);
    expect(isConnectionLoss(error)).toBe(true);
    expect(tokens.kept).toBe(1);
    const elsewhere = await tokens.run("b", async (token, reused) => [token, reused] as const);
    expect(elsewhere[0]).not.toBe(first);
    expect(elsewhere[1]).toBe(false);
    const again = await tokens.run("a", async (token, reused) => [token, reused] as const);
    expect(again).toEqual([first, true]);
    expect(tokens.kept).toBe(0);
  });

  test("a first try that could not be sent fails at once, its token kept; a loss after that keeps trying", async () => {
    const tokens = new ClaimTokens(5);
    const refused = () => Object.assign(new Error("Failed to connect"), { code: "ERR_POSTGRES_CONNECTION_REFUSED" });
    const unsent = (e: unknown) => (e as { code?: string }).code === "ERR_POSTGRES_CONNECTION_REFUSED";
    let calls = 0;
    const started = performance.now();
    const down = tokens.run(
      "k",
      async () => {
        calls++;
        throw refused();
      },
      unsent,
    );
    await expect(down).rejects.toThrow("Failed to connect");
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(100);
    expect(tokens.kept).toBe(1);
    const seen: string[] = [];
    const value = await tokens.run(
      "k",
      async (token, reused) => {
        expect(reused).toBe(true);
        seen.push(token);
        if (seen.length === 1) throw lost();
        if (seen.length < 4) throw refused();
        return "back";
      },
      unsent,
    );
    expect(value).toBe("back");
    expect(new Set(seen).size).toBe(1);
  });

  test("the key tells selections and kinds of call apart", () => {
    const sel: Selection = { limit: 5, after: 10n };
    expect(claimKey("claim", "q", sel)).toBe(claimKey("claim", "q", { limit: 5, after: 10n }));
    expect(claimKey("claim", "q", sel)).not.toBe(claimKey("claim", "q", { limit: 5, after: 11n }));
    expect(claimKey("claim", "q", sel)).not.toBe(claimKey("reserve", "q", sel));
    expect(claimKey("claim", "q", {})).not.toBe(claimKey("claim", "r", {}));
  });
});

describe("postgres claim tokens", async () => {
  const URL = await postgresUrl();
  const admin = new SQL(URL, { max: 2, bigint: true });
  const schemas: string[] = [];
  const opened: PostgresBackend[] = [];
  const open = (schema = uniqueName("sbct")) => {
    schemas.push(schema);
    const b = new PostgresBackend({ url: URL, options: { schema }, config });
    opened.push(b);
    return b;
  };
  afterAll(async () => {
    for (const b of opened) await b.close().catch(() => {});
    for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.close();
  });

  /** A claim through the backend's own statements on `admin`, whose first `loseAfter` answers are lost after the claim ran. */
  const claimer = (b: PostgresBackend, loseAfter: number) => {
    const s = `"${b.schema}"`;
    let answers = 0;
    return async (token: string, reused: boolean, sel: Selection = {}) => {
      const got = await claimOnce(admin, s, "q", sel, token, reused, async (st) =>
        withoutMarkers((await admin.unsafe(st.text, st.params)) as { order_id: bigint; body: string; ts: bigint }[]),
      );
      if (answers++ < loseAfter) throw lost();
      return got;
    };
  };

  test("a committed claim whose answer was lost is collected by its token, not claimed again", async () => {
    const b = open();
    await b.write("q", ["a", "b", "c"]);
    const tokens = new ClaimTokens(5);
    const claim = claimer(b, 1);
    expect(bodies(await tokens.run("k", (t, r) => claim(t, r)))).toEqual(["a"]);
    expect(bodies(await b.claim("q", {}))).toEqual(["b"]);
    const [row] = await admin.unsafe(`SELECT count(*) AS n FROM "${b.schema}".messages WHERE claim_token IS NOT NULL`);
    expect(row.n).toBe(2n);
  });

  test("a batch claim is collected whole; a token that took nothing claims normally", async () => {
    const b = open();
    await b.write("q", ["a", "b", "c", "d"]);
    const claim = claimer(b, 0);
    const token = crypto.randomUUID();
    expect(bodies(await claim(token, false, { limit: 3 }))).toEqual(["a", "b", "c"]);
    expect(bodies(await claim(token, true, { limit: 3 }))).toEqual(["a", "b", "c"]);
    expect(bodies(await claim(crypto.randomUUID(), true, { limit: 3 }))).toEqual(["d"]);
    expect(bodies(await b.claim("q", {}))).toEqual([]);
  });

  test("a claim that failed past the timeout hands its message to the retried identical claim", async () => {
    const b = open();
    await b.write("q", ["a", "b"]);
    const tokens = new ClaimTokens(0.05);
    const claim = claimer(b, 1_000);
    const error = await tokens.run("k", (t, r) => claim(t, r)).catch((e: unknown) => e);
    expect(isConnectionLoss(error)).toBe(true);
    const healthy = claimer(b, 0);
    expect(bodies(await tokens.run("k", (t, r) => healthy(t, r)))).toEqual(["a"]);
    expect(bodies(await b.claim("q", {}))).toEqual(["b"]);
  });

  test("a claim against a closed port fails at once, as a lost connection", async () => {
    const closed = new PostgresBackend({
      url: `postgres://postgres@127.0.0.1:${freePort()}/postgres`,
      options: { schema: "sb_unreachable" },
      config,
    });
    opened.push(closed);
    const started = performance.now();
    const error = await closed.claim("q").catch((e: unknown) => e);
    expect(isConnectionLoss(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  /** Terminate the server process of the open reserved transaction of `schema` (its statement names the schema). */
  const terminateReserved = async (schema: string) => {
    const rows = await admin.unsafe(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE state = 'idle in transaction' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%"${schema}".messages%`],
    );
    expect(rows.length).toBe(1);
  };

  test("a reserved batch whose connection is gone: COMMIT fails (rolled back, pending again), ROLLBACK succeeds", async () => {
    const b = open();
    await b.write("q", ["a", "b", "c"]);
    const first = await b.reserve("q", { limit: 2 });
    expect(bodies(first.messages)).toEqual(["a", "b"]);
    await terminateReserved(b.schema);
    const error = await first.commit().catch((e: unknown) => e);
    expect(isConnectionLoss(error)).toBe(true);
    expect((await b.queueStats("q")).pending).toBe(3);
    const second = await b.reserve("q", { limit: 2 });
    expect(bodies(second.messages)).toEqual(["a", "b"]);
    await terminateReserved(b.schema);
    await second.rollback();
    expect(bodies(await b.claim("q", { limit: 5 }))).toEqual(["a", "b", "c"]);
  });

  test("a COMMIT that lost its connection counts as done when the batch's token says it took effect", async () => {
    const b = open();
    await b.write("q", ["a"]);
    const s = `"${b.schema}"`;
    const token = crypto.randomUUID();
    const pool = new SQL(URL, { max: 2, bigint: true });
    try {
      let asked = 0;
      const batch = await reserveBatch(
        pool,
        claimSql(s, "q", {}, token),
        (e) => e as Error,
        async () => {
          asked++;
          return true;
        },
      );
      expect(bodies(batch.messages)).toEqual(["a"]);
      await terminateReserved(b.schema);
      await batch.commit();
      expect(asked).toBe(1);
    } finally {
      await pool.close();
    }
  });

  test("a store made before the column gets it when this version opens it", async () => {
    const b = open();
    await b.write("q", ["a", "b"]);
    await b.close();
    await admin.unsafe(`ALTER TABLE "${b.schema}".messages DROP COLUMN claim_token`);
    expect(await schemaIsReady(admin, b.schema)).toBe(false);
    const again = open(b.schema);
    expect(bodies(await again.claim("q"))).toEqual(["a"]);
    const [row] = await admin.unsafe(`SELECT count(*) AS n FROM "${b.schema}".messages WHERE claim_token IS NOT NULL`);
    expect(row.n).toBe(1n);
    expect(await schemaIsReady(admin, b.schema)).toBe(true);
  });
});

describe("redis claim tokens", async () => {
  const URL = await redisUrl();
  const RUN = uniqueName("test_claim_tokens");
  const made: RedisBackend[] = [];
  const conn = new RedisConnection(URL, "", 5);
  let n = 0;
  const open = () => {
    const b = createRedisBackend({ url: URL, options: { namespace: `${RUN}_${n++}` }, config });
    made.push(b);
    return b;
  };
  /** Scripts run on `b`'s keys, recording each name sent; the answers of the next `lose` calls are lost, as a dropped connection loses them. */
  const lossy = (b: RedisBackend) => {
    const calls = { lose: 0, sent: [] as string[] };
    const run = async (name: ScriptName, args: string[]) => {
      calls.sent.push(name);
      const reply = await conn.run(name, b.prefix, args);
      if (calls.lose > 0) {
        calls.lose--;
        throw Object.assign(new Error("Connection closed"), { code: "ERR_REDIS_CONNECTION_CLOSED" });
      }
      return reply;
    };
    return { calls, run };
  };
  afterAll(async () => {
    try {
      await unlinkRedisKeys(URL, `simplebroker:${RUN}*`);
    } finally {
      for (const b of made) await b.close().catch(() => {});
      conn.close();
    }
  });
  const claimArgs = (token: string, limit = "1") => ["q", limit, "", "", "", token];

  test("the claim script is idempotent per token: the same token returns what it took, for ten minutes", async () => {
    const b = open();
    await b.write("q", ["a", "b", "c"]);
    const token = crypto.randomUUID();
    const first = await conn.run("claim", b.prefix, claimArgs(token, "2"));
    const again = await conn.run("claim", b.prefix, claimArgs(token, "2"));
    expect(again).toEqual(first);
    expect(first.filter((_: string, i: number) => i % 2 === 1)).toEqual(["a", "b"]);
    const ttl = Number(await conn.send("PTTL", [`${b.prefix}claims:${token}`]));
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    expect(isOwnKey(b.prefix, `${b.prefix}claims:${token}`)).toBe(true);
    expect(bodies(await b.claim("q", {}))).toEqual(["c"]);
    // Vacuumed ids are no longer handed over.
    await b.vacuum();
    expect(await conn.run("claim", b.prefix, claimArgs(token, "2"))).toEqual([]);
  });

  test("a token that took nothing records nothing and claims normally later", async () => {
    const b = open();
    await b.init();
    const token = crypto.randomUUID();
    expect(await conn.run("claim", b.prefix, claimArgs(token))).toEqual([]);
    expect(Number(await conn.send("EXISTS", [`${b.prefix}claims:${token}`]))).toBe(0);
    await b.write("q", ["a"]);
    const got = await conn.run("claim", b.prefix, claimArgs(token));
    expect(got[1]).toBe("a");
  });

  test("a claim and a reservation whose answers were lost are collected by the retry", async () => {
    const b = open();
    await b.write("q", ["a", "b", "c", "d"]);
    const { calls, run } = lossy(b);
    const claims = tokenClaims(run, 5, 60_000, () => true);
    calls.lose = 2;
    expect(bodies(await claims.claim("q", {}))).toEqual(["a"]);
    calls.lose = 1;
    const batch = await claims.reserve("q", { limit: 2 });
    expect(bodies(batch.messages)).toEqual(["b", "c"]);
    await batch.commit();
    expect(bodies(await b.claim("q", { limit: 10 }))).toEqual(["d"]);
    expect((await b.queueStats("q")).pending).toBe(0);
  });

  test("a claim against a closed port fails as a lost connection without retrying for the connect timeout", async () => {
    const closed = createRedisBackend({ url: `redis://127.0.0.1:${freePort()}/0`, options: { namespace: RUN }, config });
    made.push(closed);
    const started = performance.now();
    const error = await closed.claim("q", {}).catch((e: unknown) => e);
    expect(isConnectionLoss(error)).toBe(true);
    // The client's own retries (1.55 s, docs/outages.md), not the 5 s connect timeout on top.
    expect(performance.now() - started).toBeLessThan(4000);
  });

  test("a commit of a reservation whose answer was lost is sent again and holds", async () => {
    const b = open();
    await b.write("q", ["a", "b"]);
    const { calls, run } = lossy(b);
    const claims = tokenClaims(run, 5, 60_000, () => true);
    const batch = await claims.reserve("q", { limit: 1 });
    calls.lose = 1;
    await batch.commit();
    expect(calls.sent).toEqual(["reserve", "finish", "finish"]);
    const stats = await b.queueStats("q");
    expect([stats.pending, stats.claimed]).toEqual([1, 1]);
  });

  test("cleanup deletes the claim records with the namespace", async () => {
    const b = open();
    await b.write("q", ["a"]);
    expect(bodies(await b.claim("q", {}))).toEqual(["a"]);
    const keys = (await conn.send("KEYS", [`${b.prefix}claims:*`])) as string[];
    expect(keys.length).toBe(1);
    expect(await b.cleanup()).toBe(true);
    expect(((await conn.send("KEYS", [`${b.prefix}*`])) as string[]).length).toBe(0);
  });
});
