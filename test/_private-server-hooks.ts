/**
 * The private server of one `describe` block (test/_private-servers.ts),
 * started in its `beforeAll` and destroyed in its `afterAll`. Kept apart from
 * _private-servers.ts, which bench/outage.ts also loads outside the test runner.
 */
import { afterAll, beforeAll } from "bun:test";
import { type PrivateServer, privatePostgres, privateRedis } from "./_private-servers.ts";

/**
 * Start a private `kind` server before the block's tests and hand it to `set`
 * (undefined where the server binaries are missing: the tests skip with a
 * reason); destroy it after them.
 */
export function privateServerHooks(
  kind: "postgres" | "redis",
  set: (server: PrivateServer | undefined) => void,
  opts: { fsync?: boolean } = {},
): void {
  let started: PrivateServer | undefined;
  beforeAll(async () => {
    started = kind === "postgres" ? await privatePostgres(opts) : await privateRedis();
    set(started);
  }, 60_000);
  afterAll(async () => {
    await started?.destroy();
  }, 60_000);
}
