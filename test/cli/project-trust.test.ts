// With BROKER_PROJECT_SCOPE=1, a `.broker.toml` or legacy `.broker.db` found
// upward decides where messages (and BROKER_BACKEND_PASSWORD) go, so one that
// another user could have planted is refused before any connection is made
// (issue 19, docs/project-scope.md): owned by another user (not root, not
// us), or in a folder others can write (world-writable without the sticky
// bit). Tests run as root here, so "another user" is `nobody`; they are
// skipped where the test cannot chown.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { untrustedReason } from "../../lib/target/trust.ts";
import { runCli, tempDir } from "../helpers.ts";

const NOBODY = 65534;
const canChown = process.geteuid?.() === 0;

/** A TCP listener that counts the connections it receives (a stand-in for a hostile PostgreSQL server). */
function listener() {
  let connections = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: () => void connections++, data: () => {} },
  });
  return { port: server.port, connections: () => connections, [Symbol.dispose]: () => server.stop(true) };
}

function layout(root: string, port: number): { toml: string; cwd: string } {
  const shared = join(root, "shared");
  const cwd = join(shared, "proj", "sub");
  mkdirSync(cwd, { recursive: true });
  const toml = join(shared, ".broker.toml");
  writeFileSync(toml, `version = 1\nbackend = "postgres"\ntarget = "postgres://evil@127.0.0.1:${port}/steal"\n`);
  return { toml, cwd };
}

const env = { BROKER_PROJECT_SCOPE: "1", BROKER_BACKEND_PASSWORD: "s3cret" };

test.skipIf(!canChown)(
  "a .broker.toml owned by another user is refused; no connection, no password sent",
  async () => {
    using d = tempDir();
    using srv = listener();
    const { toml, cwd } = layout(d.path, srv.port);
    chownSync(toml, NOBODY, NOBODY);
    const r = await runCli(["write", "q", "m"], { cwd, env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `simplebroker: error: Refusing project file ${toml}: it is owned by uid ${NOBODY}. With BROKER_PROJECT_SCOPE, a .broker.toml ` +
        "or database found in a parent folder must be owned by you or root, in a folder only you or root can write (docs/project-scope.md)\n",
    );
    expect(r.stderr).not.toContain("s3cret");
    await Bun.sleep(50);
    expect(srv.connections()).toBe(0);
  },
  60_000,
);

test("a .broker.toml in a world-writable folder (0777, no sticky bit) is refused; with the sticky bit it is trusted", async () => {
  using d = tempDir();
  using srv = listener();
  const { toml, cwd } = layout(d.path, srv.port);
  chmodSync(join(d.path, "shared"), 0o777);
  for (const args of [["write", "q", "m"], ["peek", "q"], ["--status"], ["init"]]) {
    const r = await runCli(args, { cwd, env });
    expect({ args, exitCode: r.exitCode }).toEqual({ args, exitCode: 1 });
    expect(r.stderr).toStartWith(
      `simplebroker: error: Refusing project file ${toml}: its folder ${join(d.path, "shared")} is writable by every user.`,
    );
  }
  await Bun.sleep(50);
  expect(srv.connections()).toBe(0);

  // Sticky (like /tmp): others may add files but not replace ours, so the file is trusted.
  chmodSync(join(d.path, "shared"), 0o1777);
  expect(untrustedReason(toml)).toBeUndefined();
}, 60_000);

test.skipIf(!canChown)(
  "a legacy .broker.db of another user, or in a world-writable folder, is refused; our own is used",
  async () => {
    using d = tempDir();
    const root = join(d.path, "root");
    const cwd = join(root, "sub");
    mkdirSync(cwd, { recursive: true });
    expect((await runCli(["init"], { cwd: root })).exitCode).toBe(0);
    const db = join(root, ".broker.db");
    expect(await runCli(["write", "q", "ours"], { cwd, env })).toEqual({ stdout: "", stderr: "", exitCode: 0 });

    chownSync(db, NOBODY, NOBODY);
    const r = await runCli(["write", "q", "m"], { cwd, env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toStartWith(`simplebroker: error: Refusing project file ${db}: it is owned by uid ${NOBODY}.`);

    chownSync(db, 0, 0);
    chmodSync(root, 0o777);
    const r2 = await runCli(["read", "q"], { cwd, env });
    expect(r2.exitCode).toBe(1);
    expect(r2.stderr).toStartWith(
      `simplebroker: error: Refusing project file ${db}: its folder ${root} is writable by every user.`,
    );
    chmodSync(root, 0o755);
    expect(await runCli(["read", "q"], { cwd, env })).toEqual({ stdout: "ours\n", stderr: "", exitCode: 0 });
    expect(readdirSync(cwd)).toEqual([]);
  },
  60_000,
);

test("a database file writable by every user is refused", async () => {
  using d = tempDir();
  const db = new Database(join(d.path, ".broker.db"), { create: true });
  db.close();
  expect((await runCli(["write", "q", "m"], { cwd: d.path })).exitCode).toBe(0);
  chmodSync(join(d.path, ".broker.db"), 0o666);
  mkdirSync(join(d.path, "sub"));
  const r = await runCli(["peek", "q"], { cwd: join(d.path, "sub"), env });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain("it is writable by every user");
}, 60_000);
