// examples/serve-mount.ts mounts createHandler under /broker in its own
// Bun.serve: the app's routes and the broker's live side by side, the token
// guards the API, and messages written over HTTP land in the queue.
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { Queue } from "../../index.ts";
import { childEnv, readLines, tempDir } from "../helpers.ts";

const EXAMPLE = resolve(import.meta.dir, "../../examples/serve-mount.ts");

test("serve-mount.ts serves the app at / and the broker under /broker, behind the token", async () => {
  using d = tempDir("sb-example-");
  const proc = Bun.spawn([process.execPath, EXAMPLE], {
    cwd: d.path,
    env: childEnv({ BROKER_TOKEN: "s3cret", EXAMPLE_LIMIT: "2" }),
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const first = await readLines(proc.stdout).next();
    const url = /dashboard at (http:\/\/\S+\/)broker\/$/.exec(first.value as string)?.[1];
    expect(url).toBeDefined();
    expect(await (await fetch(url!)).text()).toBe("my application\n");
    const bare = await fetch(`${url}broker`, { redirect: "manual" });
    expect({ status: bare.status, location: bare.headers.get("location") }).toEqual({ status: 308, location: "/broker/" });
    expect(await (await fetch(`${url}broker/`)).text()).toContain("<title>broker</title>");
    expect((await fetch(`${url}broker/api/queues`)).status).toBe(401);
    expect((await fetch(`${url}brokerage`)).status).toBe(404);
    const auth = { authorization: "Bearer s3cret" };
    const ids: string[] = [];
    for (const body of ["resize a.png", "resize b.png"]) {
      const res = await fetch(`${url}broker/api/queues/jobs/messages`, { method: "POST", body, headers: auth });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    expect(await proc.exited).toBe(0);
    using jobs = new Queue("jobs", { dbPath: d.path });
    expect(jobs.peekMany().map((m) => ({ id: String(m.ts), body: m.body }))).toEqual([
      { id: ids[0]!, body: "resize a.png" },
      { id: ids[1]!, body: "resize b.png" },
    ]);
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
}, 20_000);
