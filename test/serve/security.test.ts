// Who gets in: `broker serve` binds loopback by default and refuses any
// other address without a token; a token is required on every API request
// (the dashboard shell excepted, it holds no data); --read-only refuses
// every change; CORS headers appear only with --cors.
import { afterAll, describe, expect, test } from "bun:test";
import { CLI, childEnv } from "../helpers.ts";
import { openEvents } from "./_api-suite.ts";
import { sqlitePlace, startServe } from "./_server.ts";

/** Generous: each test starts `broker serve`, which a loaded machine can slow to seconds. */
const TIMEOUT = 30_000;
const place = sqlitePlace();
afterAll(() => place[Symbol.asyncDispose]());

async function code(res: Response): Promise<{ status: number; code: string }> {
  return { status: res.status, code: ((await res.json()) as { code: string }).code };
}

describe("binding", () => {
  test.concurrent(
    "the default address is 127.0.0.1",
    async () => {
      await using s = await startServe(place);
      expect(new URL(s.url).hostname).toBe("127.0.0.1");
    },
    TIMEOUT,
  );

  test.concurrent(
    "any other address without a token is refused with exit 1, before listening",
    async () => {
      for (const host of ["0.0.0.0", "::"]) {
        const proc = Bun.spawn([process.execPath, CLI, "serve", "--host", host, "--port", "0"], {
          cwd: place.dir,
          env: childEnv(),
          stdout: "pipe",
          stderr: "pipe",
        });
        const [stdout, stderr, exitCode] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        expect({ stdout, stderr, exitCode }).toEqual({
          stdout: "",
          stderr: `simplebroker: error: Refusing to listen on ${host} without a token: pass --token or set BROKER_SERVE_TOKEN (or bind 127.0.0.1)\n`,
          exitCode: 1,
        });
      }
    },
    TIMEOUT,
  );

  test.concurrent(
    "another address with BROKER_SERVE_TOKEN starts, and wants the token",
    async () => {
      await using s = await startServe(place, ["--host", "0.0.0.0"], { BROKER_SERVE_TOKEN: "from-env" });
      const local = s.url.replace("0.0.0.0", "127.0.0.1");
      expect((await fetch(`${local}api/queues`)).status).toBe(401);
      expect((await fetch(`${local}api/queues`, { headers: { authorization: "Bearer from-env" } })).status).toBe(200);
    },
    TIMEOUT,
  );
});

describe("--token", () => {
  test.concurrent(
    "every API request needs the exact bearer token; the page shell loads without it",
    async () => {
      await using s = await startServe(place, ["--token", "s3cret"]);
      for (const authorization of [
        undefined,
        "Bearer wrong",
        "Bearer s3cre",
        "Bearer s3cret2",
        "Basic s3cret",
        "s3cret",
        "Bearer  s3cret",
      ]) {
        const res = await fetch(`${s.url}api/queues`, { headers: authorization ? { authorization } : {} });
        expect(await code(res)).toEqual({ status: 401, code: "UNAUTHORIZED" });
      }
      const post = await fetch(`${s.url}api/queues/private-q/messages`, { method: "POST", body: "x" });
      expect(post.status).toBe(401);
      expect((await fetch(`${s.url}api/events`)).status).toBe(401);
      // The scheme is case-insensitive (RFC 9110); the token is not.
      expect((await fetch(`${s.url}api/queues`, { headers: { authorization: "bearer s3cret" } })).status).toBe(200);
      expect((await fetch(`${s.url}api/queues`, { headers: { authorization: "Bearer S3CRET" } })).status).toBe(401);
      const ok = await fetch(`${s.url}api/queues/private-q/messages`, {
        method: "POST",
        body: "x",
        headers: { authorization: "Bearer s3cret" },
      });
      expect(ok.status).toBe(201);
      const events = openEvents(`${s.url}api/events`, { authorization: "Bearer s3cret" });
      expect((await events.next()).event).toBe("queues");
      events.close();
      const page = await fetch(s.url);
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain("private-q");
    },
    TIMEOUT,
  );
});

describe("--read-only", () => {
  test.concurrent(
    "every change is 403, reads of state still work",
    async () => {
      await using s = await startServe(place, ["--read-only"]);
      const changes: [string, string, string?][] = [
        ["POST", "api/queues/jobs/messages", "x"],
        ["POST", "api/queues/jobs/read"],
        ["POST", "api/queues/jobs/move", '{"to":"b"}'],
        ["DELETE", "api/queues/jobs"],
        ["DELETE", "api/queues"],
        ["DELETE", "api/queues/jobs/messages/1837025672140161024"],
      ];
      for (const [method, path, body] of changes) {
        expect(await code(await fetch(s.url + path, { method, body }))).toEqual({ status: 403, code: "READ_ONLY" });
      }
      expect((await fetch(`${s.url}api/queues`)).status).toBe(200);
      expect((await fetch(`${s.url}api/queues/jobs/messages`)).status).toBe(200);
    },
    TIMEOUT,
  );
});

describe("CORS", () => {
  test.concurrent(
    "no CORS headers unless --cors names an origin",
    async () => {
      await using plain = await startServe(place);
      const res = await fetch(`${plain.url}api/queues`, { headers: { origin: "http://evil.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect((await fetch(`${plain.url}api/queues`, { method: "OPTIONS" })).status).toBe(405);

      await using open = await startServe(place, ["--cors", "http://app.example"]);
      const allowed = await fetch(`${open.url}api/queues`, { headers: { origin: "http://app.example" } });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example");
      const preflight = await fetch(`${open.url}api/queues/jobs/messages`, { method: "OPTIONS" });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
    },
    TIMEOUT,
  );
});

test(
  "the dashboard is served with a policy that forbids inline and foreign scripts",
  async () => {
    await using s = await startServe(place);
    const page = await fetch(s.url);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//); // nothing loaded from elsewhere: works offline
    const js = await (await fetch(`${s.url}dashboard.js`)).text();
    expect(js).not.toContain("innerHTML");
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  },
  TIMEOUT,
);
