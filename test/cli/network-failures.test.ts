// Network backends fail fast and say why (issue 15): BROKER_BACKEND_HOST/
// PORT/USER/PASSWORD/DATABASE/SCHEMA reach Redis as they reach PostgreSQL
// (before, Redis silently wrote to 127.0.0.1:6379 whatever HOST said), and
// BROKER_BACKEND_CONNECT_TIMEOUT bounds connecting: a server that accepts and
// never answers is one line naming the target, password hidden, exit 1.
// Every listener here is on 127.0.0.1; no test sends traffic anywhere else.
import { describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { DEFAULT_CONFIG } from "../../lib/target/config.ts";
import { DEFAULT_REDIS_TARGET, redisTargetFromParts } from "../../lib/backends/redis/target.ts";
import { childEnv, CLI, tempDir, uniqueName } from "../helpers.ts";
import { redisUrl } from "../services.ts";

/** Room for a connect timeout plus a CLI start-up or two on a loaded machine (no timing is asserted). */
const SUBPROCESS_TIMEOUT_MS = 30_000;

/** A 127.0.0.1 listener that accepts connections and never writes a byte. */
function silentServer() {
  let accepted = 0;
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void accepted++, data() {} } });
  return { port: server.port, accepted: () => accepted, [Symbol.dispose]: () => server.stop(true) };
}

/** A 127.0.0.1 port with nothing listening. */
function closedPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function broker(env: Record<string, string>, ...args: string[]) {
  using dir = tempDir("sb-net-");
  const proc = Bun.spawn([process.execPath, CLI, ...args], { cwd: dir.path, env: childEnv(env), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

function expectOneLine(stderr: string, text: string): void {
  expect(stderr.endsWith("\n")).toBe(true);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).toContain(text);
}

describe("a silent server fails within BROKER_BACKEND_CONNECT_TIMEOUT", () => {
  test.concurrent(
    "redis: HOST/PORT reach the listener; one line, password hidden",
    async () => {
      using server = silentServer();
      const r = await broker(
        {
          BROKER_BACKEND: "redis",
          BROKER_BACKEND_HOST: "127.0.0.1",
          BROKER_BACKEND_PORT: String(server.port),
          BROKER_BACKEND_USER: "app",
          BROKER_BACKEND_PASSWORD: "hunter22",
          BROKER_BACKEND_CONNECT_TIMEOUT: "1",
        },
        "write",
        "rq",
        "z",
      );
      expect(r.code).toBe(1);
      expectOneLine(
        r.stderr,
        `Cannot connect to Redis at redis://app@127.0.0.1:${server.port}/0: no answer within 1 s (BROKER_BACKEND_CONNECT_TIMEOUT)`,
      );
      expect(r.stderr).not.toContain("hunter22");
      expect(server.accepted()).toBeGreaterThan(0);
    },
    SUBPROCESS_TIMEOUT_MS,
  );

  test.concurrent(
    "postgres: one line naming the target, password hidden",
    async () => {
      using server = silentServer();
      const r = await broker(
        {
          BROKER_BACKEND: "postgres",
          BROKER_BACKEND_HOST: "127.0.0.1",
          BROKER_BACKEND_PORT: String(server.port),
          BROKER_BACKEND_PASSWORD: "hunter22",
          BROKER_BACKEND_CONNECT_TIMEOUT: "1",
        },
        "write",
        "pq",
        "z",
      );
      expect(r.code).toBe(1);
      expectOneLine(
        r.stderr,
        `Cannot connect to PostgreSQL at postgresql://postgres:***@127.0.0.1:${server.port}/simplebroker: `,
      );
      expect(r.stderr).not.toContain("hunter22");
      expect(server.accepted()).toBeGreaterThan(0);
    },
    SUBPROCESS_TIMEOUT_MS,
  );
});

describe("a closed port fails with one line naming the target", () => {
  test.concurrent.each([
    ["redis", "Cannot connect to Redis at redis://127.0.0.1:PORT/0: "],
    ["postgres", "Cannot connect to PostgreSQL at postgresql://postgres@127.0.0.1:PORT/simplebroker: "],
  ])(
    "%s",
    async (backend, text) => {
      const port = closedPort();
      const env = {
        BROKER_BACKEND: backend,
        BROKER_BACKEND_HOST: "127.0.0.1",
        BROKER_BACKEND_PORT: String(port),
        BROKER_BACKEND_CONNECT_TIMEOUT: "2",
      };
      const r = await broker(env, "read", "q");
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, text.replace("PORT", String(port)));
    },
    SUBPROCESS_TIMEOUT_MS,
  );
});

describe("redis takes the BROKER_BACKEND_* parts", () => {
  test(
    "HOST, PORT and SCHEMA (as the namespace) reach the real server",
    async () => {
      const url = new URL(await redisUrl());
      const namespace = uniqueName("sb_parts");
      const env = {
        BROKER_BACKEND: "redis",
        BROKER_BACKEND_HOST: url.hostname,
        BROKER_BACKEND_PORT: url.port || "6379",
        BROKER_BACKEND_DATABASE: url.pathname.slice(1) || "0",
        BROKER_BACKEND_SCHEMA: namespace,
      };
      const client = new RedisClient(url.toString());
      try {
        expect((await broker(env, "write", "jobs", "via parts")).code).toBe(0);
        expect((await client.send("KEYS", [`*${namespace}*`])).length).toBeGreaterThan(0);
        expect(await broker(env, "read", "jobs")).toEqual({ stdout: "via parts\n", stderr: "", code: 0 });
      } finally {
        const keys: string[] = await client.send("KEYS", [`*${namespace}*`]);
        if (keys.length > 0) await client.send("DEL", keys);
        client.close();
      }
    },
    SUBPROCESS_TIMEOUT_MS,
  );

  test("a URL is built from the parts; unset parts take Redis's defaults", () => {
    const config = { ...DEFAULT_CONFIG };
    expect(redisTargetFromParts(config)).toBe(DEFAULT_REDIS_TARGET);
    expect(redisTargetFromParts({ ...config, backendHost: "10.1.2.3" })).toBe("redis://10.1.2.3:6379/0");
    expect(redisTargetFromParts({ ...config, backendPort: 6380 })).toBe("redis://127.0.0.1:6380/0");
    expect(redisTargetFromParts({ ...config, backendHost: "::1", backendUser: "a b", backendDatabase: "3" })).toBe(
      "redis://a%20b@[::1]:6379/3",
    );
  });

  test(
    "a database that is not a number, or a bad timeout, is a config error",
    async () => {
      const db = await broker({ BROKER_BACKEND: "redis", BROKER_BACKEND_DATABASE: "app" }, "write", "q", "x");
      expect(db.code).toBe(1);
      expectOneLine(db.stderr, "BROKER_BACKEND_DATABASE must be a Redis database number for the redis backend, got 'app'");
      const timeout = await broker({ BROKER_BACKEND: "redis", BROKER_BACKEND_CONNECT_TIMEOUT: "-1" }, "write", "q", "x");
      expect(timeout.code).toBe(1);
      expectOneLine(timeout.stderr, "BROKER_BACKEND_CONNECT_TIMEOUT must be a positive number of seconds, got -1");
    },
    SUBPROCESS_TIMEOUT_MS,
  );
});
