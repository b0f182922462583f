// GET /api/dump over a real `broker serve` on SQLite: the same bytes as
// `broker dump` with the same filters, streamed as ndjson; allowed on a
// --read-only server (it only reads), but behind the token when one is set,
// where rename is refused 403 on --read-only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLI, childEnv } from "../helpers.ts";
import { cli, type Place, sqlitePlace, startServe } from "./_server.ts";

/** Generous: each test starts `broker serve` or CLI processes, which a loaded machine can slow to seconds. */
const TIMEOUT = 60_000;
let place: Place;

beforeAll(async () => {
  place = sqlitePlace();
  // Enough data for several 64 KiB chunks, with bodies that need escaping, written over HTTP.
  await using seed = await startServe(place);
  const write = async (queue: string, body: string) =>
    expect((await fetch(`${seed.url}api/queues/${queue}/messages`, { method: "POST", body })).status).toBe(201);
  for (let i = 0; i < 400; i++) await write("jobs", `job ${i} ${"x".repeat(400)} "quoted" é ✓`);
  await write("jobs-tmp", "tmp\tone");
  await write("mail", "line\nbreak </script>");
  await write("other", "\u0001 control 🚀");
  expect((await cli(place, ["alias", "add", "work", "jobs"])).exitCode).toBe(0);
  expect((await cli(place, ["read", "mail"])).exitCode).toBe(0); // claimed rows are not dumped
}, TIMEOUT);
afterAll(() => place?.[Symbol.asyncDispose]());

async function dumpText(base: string, query: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}api/dump${query}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
  return new TextDecoder().decode(await res.arrayBuffer());
}

describe("GET /api/dump", () => {
  test(
    "is byte-identical to broker dump, unfiltered and with repeated include/exclude",
    async () => {
      await using s = await startServe(place);
      const cases: [string, string[]][] = [
        ["", []],
        ["?include=jobs*", ["--include", "jobs*"]],
        ["?include=jobs*&exclude=jobs-tmp", ["--include", "jobs*", "--exclude", "jobs-tmp"]],
        ["?include=mail&include=other", ["--include", "mail", "--include", "other"]],
        ["?exclude=*", ["--exclude", "*"]],
      ];
      for (const [query, flags] of cases) {
        const fromCli = await cli(place, ["dump", ...flags]);
        expect(fromCli.exitCode).toBe(0);
        expect(await dumpText(s.url, query)).toBe(fromCli.stdout);
      }
      const all = await dumpText(s.url, "");
      expect(all.length).toBeGreaterThan(3 * 64 * 1024);
      const records = all
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; queue?: string });
      expect(records[0]).toMatchObject({ type: "header", format: "simplebroker-dump", version: 1 });
      expect(records.filter((r) => r.type === "message").length).toBe(400 + 1 + 1); // mail's one message is claimed
      expect(records.filter((r) => r.type === "alias")).toEqual([{ type: "alias", alias: "work", target: "jobs" }] as never);
    },
    TIMEOUT,
  );

  test(
    "a dump served over HTTP loads into another database with broker load",
    async () => {
      await using s = await startServe(place);
      const text = await dumpText(s.url, "?exclude=jobs");
      await using other = sqlitePlace();
      const proc = Bun.spawn([process.execPath, CLI, "load"], {
        cwd: other.dir,
        env: childEnv(other.env),
        stdin: new TextEncoder().encode(text),
        stdout: "ignore",
        stderr: "pipe",
      });
      expect(await proc.exited).toBe(0);
      expect((await cli(other, ["peek", "--all", "other"])).stdout).toBe("\u0001 control 🚀\n");
      expect((await cli(other, ["peek", "--all", "jobs-tmp"])).stdout).toBe("tmp\tone\n");
    },
    TIMEOUT,
  );

  test(
    "--read-only: dump allowed, rename refused 403; with a token both need it",
    async () => {
      await using ro = await startServe(place, ["--read-only"]);
      expect(await dumpText(ro.url, "?include=other")).toBe((await cli(place, ["dump", "--include", "other"])).stdout);
      const renamed = await fetch(`${ro.url}api/queues/other/rename`, { method: "POST", body: '{"to": "other2"}' });
      expect({ status: renamed.status, code: ((await renamed.json()) as { code: string }).code }).toEqual({
        status: 403,
        code: "READ_ONLY",
      });
      expect((await cli(place, ["peek", "other"])).exitCode).toBe(0);

      await using guarded = await startServe(place, ["--read-only", "--token", "s3cret"]);
      expect((await fetch(`${guarded.url}api/dump`)).status).toBe(401);
      expect((await fetch(`${guarded.url}api/dump`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect(await dumpText(guarded.url, "", { authorization: "Bearer s3cret" })).toBe((await cli(place, ["dump"])).stdout);
      const noToken = await fetch(`${guarded.url}api/queues/other/rename`, { method: "POST", body: '{"to": "other2"}' });
      expect(noToken.status).toBe(401);
      const withToken = await fetch(`${guarded.url}api/queues/other/rename`, {
        method: "POST",
        body: '{"to": "other2"}',
        headers: { authorization: "Bearer s3cret" },
      });
      expect(withToken.status).toBe(403);
    },
    TIMEOUT,
  );

  test(
    "the wrong method is 405; a glob that is not a pattern is taken as broker dump takes it",
    async () => {
      await using s = await startServe(place);
      const post = await fetch(`${s.url}api/dump`, { method: "POST" });
      expect(post.status).toBe(405);
      expect(await dumpText(s.url, "?include=%5B")).toBe((await cli(place, ["dump", "--include", "["])).stdout);
    },
    TIMEOUT,
  );
});
