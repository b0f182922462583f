// The HTTP API suite, run over a real `broker serve` subprocess against each
// backend (api-sqlite, api-postgres, api-redis .test.ts): every route,
// the error codes, the event stream seen from another process, and the
// clean exit on SIGINT/SIGTERM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cli, type Place, type Served, startServe } from "./_server.ts";

const ID = /^\d{19}$/;
/** Generous: each test spawns CLI processes, and a loaded machine can make each take seconds. */
const TIMEOUT = 30_000;

export function apiSuite(makePlace: () => Place): void {
  let place: Place;
  let server: Served;
  let base: string;
  const post = (path: string, body?: string, init: RequestInit = {}) => fetch(base + path, { method: "POST", body, ...init });

  beforeAll(async () => {
    place = makePlace();
    server = await startServe(place, [], { BROKER_MAX_MESSAGE_SIZE: "1000" });
    base = server.url;
  }, TIMEOUT);
  afterAll(async () => {
    await server?.stop();
    await place?.[Symbol.asyncDispose]();
  });

  test(
    "write, list, peek, read: ids are 19-digit strings; an empty read is 204",
    async () => {
      const w1 = await post("api/queues/jobs/messages", "first");
      expect(w1.status).toBe(201);
      const { id: id1 } = (await w1.json()) as { id: string };
      expect(id1).toMatch(ID);
      const { id: id2 } = (await (await post("api/queues/jobs/messages", "second\nline")).json()) as { id: string };
      expect(BigInt(id2)).toBeGreaterThan(BigInt(id1));

      expect(await (await fetch(`${base}api/queues/jobs`)).json()).toEqual({ name: "jobs", pending: 2, claimed: 0, total: 2 });
      expect(await (await fetch(`${base}api/queues/nothing-here`)).json()).toEqual({
        name: "nothing-here",
        pending: 0,
        claimed: 0,
        total: 0,
      });
      const list = await (await fetch(`${base}api/queues`)).json();
      expect(list).toEqual({ queues: [{ name: "jobs", pending: 2, claimed: 0, total: 2 }] });

      const peek = await (await fetch(`${base}api/queues/jobs/messages`)).json();
      expect(peek).toEqual({
        messages: [
          { id: id1, body: "first" },
          { id: id2, body: "second\nline" },
        ],
        next: null,
      });

      const r1 = await post("api/queues/jobs/read");
      expect(r1.status).toBe(200);
      expect(await r1.json()).toEqual({ id: id1, body: "first" });
      expect(await (await post("api/queues/jobs/read")).json()).toEqual({ id: id2, body: "second\nline" });
      const r3 = await post("api/queues/jobs/read");
      expect(r3.status).toBe(204);
      expect(await r3.text()).toBe("");
      expect(await (await fetch(`${base}api/queues`)).json()).toEqual({
        queues: [{ name: "jobs", pending: 0, claimed: 2, total: 2 }],
      });
      // The CLI in another process sees the same store.
      expect(await cli(place, ["stats", "jobs"])).toEqual({ stdout: "jobs: 0 (2 total, 2 claimed)\n", exitCode: 0 });
    },
    TIMEOUT,
  );

  test(
    "peek pages by id with limit, after and before",
    async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(((await (await post("api/queues/pages/messages", `m${i}`)).json()) as { id: string }).id);
      const page = async (q: string) =>
        (await fetch(`${base}api/queues/pages/messages?${q}`)).json() as Promise<{
          messages: { id: string }[];
          next: string | null;
        }>;
      const p1 = await page("limit=2");
      expect(p1.messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
      expect(p1.next).toBe(ids[1]!);
      const p2 = await page(`limit=2&after=${p1.next}`);
      expect(p2.messages.map((m) => m.id)).toEqual(ids.slice(2, 4));
      const p3 = await page(`limit=2&after=${p2.next}`);
      expect(p3).toEqual({ messages: [{ id: ids[4]!, body: "m4" } as never], next: null });
      expect((await page(`before=${ids[2]}`)).messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
      const bad = await fetch(`${base}api/queues/pages/messages?limit=0`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe("INVALID_ARGUMENT");
      const badTs = await fetch(`${base}api/queues/pages/messages?after=yesterday`);
      expect(badTs.status).toBe(400);
      expect(((await badTs.json()) as { code: string }).code).toBe("INVALID_TIMESTAMP");
    },
    TIMEOUT,
  );

  test(
    "move: the oldest, one by id, all; 204 when nothing matched; conflicting selections are 400",
    async () => {
      const ids: string[] = [];
      for (const b of ["a", "b", "c", "d"])
        ids.push(((await (await post("api/queues/src/messages", b)).json()) as { id: string }).id);
      const move = (body: unknown) =>
        post("api/queues/src/move", JSON.stringify(body), { headers: { "content-type": "application/json" } });
      expect(await (await move({ to: "dst" })).json()).toEqual({ messages: [{ id: ids[0], body: "a" }] });
      expect(await (await move({ to: "dst", id: ids[2] })).json()).toEqual({ messages: [{ id: ids[2], body: "c" }] });
      expect(await (await move({ to: "dst", all: true })).json()).toEqual({
        messages: [
          { id: ids[1], body: "b" },
          { id: ids[3], body: "d" },
        ],
      });
      expect((await move({ to: "dst" })).status).toBe(204);
      expect((await cli(place, ["peek", "--all", "dst"])).stdout).toBe("a\nb\nc\nd\n");
      for (const [body, code] of [
        [{ to: "dst", id: ids[0], all: true }, "INVALID_ARGUMENT"],
        [{ to: "src" }, "INVALID_ARGUMENT"],
        [{}, "INVALID_ARGUMENT"],
        [{ to: "bad name" }, "INVALID_QUEUE_NAME"],
        [{ to: "dst", id: "123" }, "INVALID_MESSAGE_ID"],
      ] as const) {
        const res = await move(body);
        expect({ status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ status: 400, code });
      }
      const notJson = await post("api/queues/src/move", "{");
      expect(notJson.status).toBe(400);
    },
    TIMEOUT,
  );

  test(
    "delete one message by id (404 when it is gone), then the whole queue",
    async () => {
      const { id } = (await (await post("api/queues/del/messages", "x")).json()) as { id: string };
      await post("api/queues/del/messages", "y");
      const d1 = await fetch(`${base}api/queues/del/messages/${id}`, { method: "DELETE" });
      expect(await d1.json()).toEqual({ deleted: 1 });
      const d2 = await fetch(`${base}api/queues/del/messages/${id}`, { method: "DELETE" });
      expect(d2.status).toBe(404);
      expect(((await d2.json()) as { code: string }).code).toBe("MESSAGE_NOT_FOUND");
      const d3 = await fetch(`${base}api/queues/del/messages/12`, { method: "DELETE" });
      expect(d3.status).toBe(400);
      expect(await (await fetch(`${base}api/queues/del`, { method: "DELETE" })).json()).toEqual({ deleted: 2 });
      const names = ((await (await fetch(`${base}api/queues`)).json()) as { queues: { name: string }[] }).queues.map(
        (q) => q.name,
      );
      expect(names).not.toContain("del");
    },
    TIMEOUT,
  );

  test(
    "rename: pending and claimed rows and aliases move, as broker rename; same name or taken target 409, empty queue 404, bad names 400",
    async () => {
      const rename = (queue: string, body: unknown) =>
        post(`api/queues/${encodeURIComponent(queue)}/rename`, JSON.stringify(body), {
          headers: { "content-type": "application/json" },
        });
      const failure = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { code: string }).code });
      await post("api/queues/ren-a/messages", "one");
      await post("api/queues/ren-a/messages", "two");
      await post("api/queues/ren-a/read"); // "one" is claimed: it moves too
      expect((await cli(place, ["alias", "add", "ren", "ren-a"])).exitCode).toBe(0);

      const ok = await rename("ren-a", { to: "ren-b" });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        old_queue: "ren-a",
        new_queue: "ren-b",
        messages_renamed: 2,
        aliases_retargeted: 1,
        renamed: true,
      });
      expect(await (await fetch(`${base}api/queues/ren-b`)).json()).toEqual({ name: "ren-b", pending: 1, claimed: 1, total: 2 });
      expect(await (await fetch(`${base}api/queues/ren-a`)).json()).toMatchObject({ total: 0 });
      expect((await cli(place, ["alias", "list"])).stdout).toBe("ren -> ren-b\n");

      // Through the alias, and without retargeting: the alias stays on the old name.
      const kept = await rename("@ren", { to: "ren-c", retargetAliases: false });
      expect(await kept.json()).toMatchObject({
        old_queue: "ren-b",
        new_queue: "ren-c",
        messages_renamed: 2,
        aliases_retargeted: 0,
      });
      expect((await cli(place, ["alias", "list"])).stdout).toBe("ren -> ren-b\n");
      expect((await cli(place, ["peek", "ren-c"])).stdout).toBe("two\n");

      await post("api/queues/ren-taken/messages", "x");
      expect(await failure(await rename("ren-c", { to: "ren-taken" }))).toEqual({ status: 409, code: "QUEUE_EXISTS" });
      expect(await failure(await rename("ren-c", { to: "ren-c" }))).toEqual({ status: 409, code: "SAME_QUEUE" });
      // Nothing moved on a refusal.
      expect(await (await fetch(`${base}api/queues/ren-c`)).json()).toMatchObject({ total: 2 });
      // An empty source is 404, where the CLI exits 2.
      expect(await failure(await rename("ren-a", { to: "ren-z" }))).toEqual({ status: 404, code: "QUEUE_NOT_FOUND" });
      expect((await cli(place, ["rename", "ren-a", "ren-z"])).exitCode).toBe(2);
      expect(await failure(await rename("ren-c", { to: "bad name" }))).toEqual({ status: 400, code: "INVALID_QUEUE_NAME" });
      expect(await failure(await rename("-bad", { to: "ren-z" }))).toEqual({ status: 400, code: "INVALID_QUEUE_NAME" });
      expect(await failure(await rename("ren-c", {}))).toEqual({ status: 400, code: "INVALID_ARGUMENT" });
      expect(await failure(await rename("ren-c", { to: "ren-z", retargetAliases: "no" }))).toEqual({
        status: 400,
        code: "INVALID_ARGUMENT",
      });
      expect(await failure(await post("api/queues/ren-c/rename", "{"))).toEqual({ status: 400, code: "INVALID_BODY" });
      expect(await failure(await fetch(`${base}api/queues/ren-c/rename`))).toEqual({ status: 405, code: "METHOD_NOT_ALLOWED" });
      expect((await cli(place, ["peek", "--all", "ren-c"])).stdout).toBe("two\n");
    },
    TIMEOUT,
  );

  test(
    "errors are JSON with a stable code: bad queue name 400, unknown route 404, wrong method 405, oversized body 413",
    async () => {
      const expectError = async (res: Response, status: number, code: string) => {
        expect(res.headers.get("content-type")).toStartWith("application/json");
        expect({ status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ status, code });
      };
      await expectError(await post("api/queues/-bad/messages", "x"), 400, "INVALID_QUEUE_NAME");
      await expectError(await post(`api/queues/${"q".repeat(600)}/messages`, "x"), 400, "INVALID_QUEUE_NAME");
      await expectError(await fetch(`${base}api/nothing`), 404, "NOT_FOUND");
      await expectError(await fetch(`${base}api/queues/jobs/messages/1/extra`), 404, "NOT_FOUND");
      await expectError(await fetch(`${base}nothing.html`), 404, "NOT_FOUND");
      await expectError(await fetch(`${base}api/queues/jobs/read`), 405, "METHOD_NOT_ALLOWED");
      await expectError(await post("api/queues/big/messages", "x".repeat(1001)), 413, "MESSAGE_TOO_LARGE");
      expect((await post("api/queues/big/messages", "é".repeat(500))).status).toBe(201); // 1000 UTF-8 bytes: the limit itself
      await expectError(await post("api/queues/big/messages", "é".repeat(501)), 413, "MESSAGE_TOO_LARGE");
    },
    TIMEOUT,
  );

  test(
    "413 comes before the body is read in full: from Content-Length, and while counting a chunked body",
    async () => {
      // A declared size over the limit with no body sent at all: answered at once.
      expect(
        await rawStatus(base, "POST /api/queues/big/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"),
      ).toBe(413);
      // A chunked body that never ends: the server must stop counting at the limit and answer.
      const chunk = "x".repeat(1500);
      const head = "POST /api/queues/big/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
      expect(await rawStatus(base, `${head}${chunk.length.toString(16)}\r\n${chunk}\r\n`)).toBe(413);
    },
    TIMEOUT,
  );

  test(
    "GET /api/events names each queue that changes, including changes made by another process",
    async () => {
      await post("api/queues/live/messages", "before");
      const events = openEvents(`${base}api/events`);
      try {
        const first = await events.next();
        expect(first.event).toBe("queues");
        expect((first.data as { queues: { name: string }[] }).queues.map((q) => q.name)).toContain("live");
        expect((await cli(place, ["write", "live", "from the CLI"])).exitCode).toBe(0);
        expect(
          await events.until((e) => e.event === "queue" && (e.data as { name: string; pending: number }).pending === 2),
        ).toMatchObject({
          data: { name: "live", pending: 2, claimed: 0, total: 2 },
        });
        expect((await cli(place, ["read", "live"])).stdout).toBe("before\n");
        expect(
          await events.until((e) => e.event === "queue" && (e.data as { name: string; claimed: number }).claimed === 1),
        ).toMatchObject({
          data: { name: "live", pending: 1, claimed: 1 },
        });
        expect((await cli(place, ["write", "brand-new", "x"])).exitCode).toBe(0);
        expect(await events.until((e) => (e.data as { name?: string }).name === "brand-new")).toMatchObject({
          data: { pending: 1 },
        });
      } finally {
        events.close();
      }
    },
    TIMEOUT,
  );

  test(
    "SIGINT and SIGTERM stop the server with exit 0",
    async () => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        const s = await startServe(place);
        const events = openEvents(`${s.url}api/events`); // an open stream does not keep it alive
        await events.next();
        expect(await s.stop(signal)).toBe(0);
        events.close();
      }
    },
    TIMEOUT,
  );
}

/** Send raw bytes and return the status of the first response line (the connection is left half-written). */
export async function rawStatus(base: string, request: string): Promise<number> {
  const url = new URL(base);
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  let text = "";
  const socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_s, data) {
        text += new TextDecoder().decode(data);
        const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (m) resolve(Number(m[1]));
      },
      close: () => reject(new Error(`closed without a response: ${text}`)),
      error: (_s, e) => reject(e),
    },
  });
  socket.write(request);
  try {
    return await promise;
  } finally {
    socket.end();
  }
}

/** A parsed event of a text/event-stream. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** Read server-sent events from `url` as they come. */
export function openEvents(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const queue: SseEvent[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  void (async () => {
    try {
      const res = await fetch(url, { headers, signal: abort.signal });
      if (res.headers.get("content-type") !== "text/event-stream; charset=utf-8")
        throw new Error(`not an event stream: ${res.status}`);
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) queue.push({ event, data: JSON.parse(data) });
          wake?.();
        }
      }
    } catch (error) {
      failure = error;
      wake?.();
    }
  })();
  const next = async (): Promise<SseEvent> => {
    while (queue.length === 0) {
      if (failure && !abort.signal.aborted) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
    return queue.shift()!;
  };
  return {
    next,
    /** The first event (from now) that `match` accepts. */
    async until(match: (e: SseEvent) => boolean): Promise<SseEvent> {
      for (;;) {
        const e = await next();
        if (match(e)) return e;
      }
    },
    close: () => abort.abort(),
  };
}
