// No password in any message (issue 19, item 6): generated passwords holding `/`, `#`, `?`, `@`,
// `%`, `:` and friends, raw or URL-encoded, through redactTarget and through the errors the
// Postgres and Redis backends raise for those targets (nothing listens on port 1).
import { describe, expect, test } from "bun:test";
import { createPostgresBackend } from "../../../lib/backends/postgres/index.ts";
import { redactTarget } from "../../../lib/backends/redact.ts";
import { createRedisBackend } from "../../../lib/backends/redis/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { expectHidden, passwords } from "./passwords.ts";

describe("redactTarget", () => {
  test("hides 2,000 generated passwords in every target form and keeps the host", () => {
    for (const pw of passwords(2000, 6)) {
      const enc = encodeURIComponent(pw);
      const libpq = pw.replaceAll("\\", "\\\\").replaceAll("'", "\\'");
      const cases: Array<[string, string]> = [
        [`postgres://user:${pw}@db.example:5432/app`, "@db.example:5432/app"],
        [`postgresql://user:${enc}@db.example/app?sslmode=require`, "@db.example/app?sslmode=require"],
        [`redis://:${pw}@cache:6379/0`, "@cache:6379/0"],
        [`rediss://user:${enc}@cache/1`, "@cache/1"],
        [`host=h user=u password='${libpq}' dbname=d`, "host=h user=u "],
        [`postgresql://h/db?password=${enc}&sslmode=require`, "postgresql://h/db?"],
      ];
      for (const [target, kept] of cases) {
        const shown = redactTarget(target);
        expectHidden(shown, pw);
        expect(shown).toContain(kept);
      }
    }
  });
});

describe("backend errors", () => {
  const config = resolveConfig();

  test("Postgres: an unreachable or malformed target never shows its password", async () => {
    for (const pw of passwords(25, 7)) {
      for (const url of [`postgres://user:${pw}@127.0.0.1:1/db`, `postgresql://user:${encodeURIComponent(pw)}@127.0.0.1:1/db`]) {
        let message = "";
        try {
          const b = createPostgresBackend({ url, options: { schema: "sb_redact" }, config });
          expectHidden(b.displayTarget, pw);
          await b.status().finally(() => b.close());
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).not.toBe("");
        expectHidden(message, pw);
      }
    }
  }, 60_000);

  test("Redis: an unreachable or malformed target never shows its password", async () => {
    for (const pw of passwords(3, 8)) {
      for (const url of [`redis://:${pw}@127.0.0.1:1/0`, `redis://user:${encodeURIComponent(pw)}@127.0.0.1:1/0`]) {
        let message = "";
        try {
          const b = createRedisBackend({ url, options: {}, config });
          expectHidden(b.displayTarget, pw);
          await b.status().finally(() => b.close());
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).not.toBe("");
        expectHidden(message, pw);
      }
    }
  }, 60_000);
});
