/**
 * Guards docs/outages.md#claims-across-a-dropped-connection: a `broker read
 * q --all` whose server is killed with -9 in the middle of the drain and
 * started again prints every message exactly once. Against a private
 * PostgreSQL cluster and a private Redis server (`appendfsync always`) this
 * file starts itself (test/_private-servers.ts; the shared 5432/6379 servers
 * are never touched). Each round: N messages written, the drain started,
 * the server killed once a random share of them is out, started again at
 * once; then a second `read --all` takes whatever the first left (it may
 * exit 1 if the server was gone longer than its connect timeout). Every
 * body must be printed once, in total, with nothing missing. The same with
 * BROKER_READ_COMMIT_INTERVAL=25 (at-least-once batches): nothing missing
 * (a batch whose COMMIT the server never carried out comes again). Then a `broker
 * watch q` drains a backlog while the server is away for 3 s, longer than
 * its 1 s connect timeout: the claim in flight fails, and the watch's retry
 * of it must collect what it took.
 * STRESS_CLAIM_TOKEN_ROUNDS sets the rounds per backend (default 4).
 */
import { describe, expect, test } from "bun:test";
import { openBroker } from "../lib/queue/open.ts";
import { childEnv, CLI, eachLine, uniqueName, waitFor } from "../test/helpers.ts";
import { storeTarget } from "../test/services.ts";
import type { PrivateServer } from "../test/_private-servers.ts";
import { privateServerHooks } from "../test/_private-server-hooks.ts";

const ROUNDS = Number(process.env.STRESS_CLAIM_TOKEN_ROUNDS ?? 4);
const MESSAGES = 3000;

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: read --all across a kill -9 of the server`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s), { fsync: true });

    for (let round = 1; round <= ROUNDS; round++) {
      test(`round ${round}: every message printed exactly once`, async () => {
        if (!server) {
          console.warn(`skipped: no ${kind} server binaries on this machine`);
          return;
        }
        const r = await drainAcrossKill(kind, server);
        console.log(
          `${kind} round ${round}: ${MESSAGES} messages, killed after ${r.beforeKill} printed, first read exit ${r.firstExit} ` +
            `(${r.first} printed), second read ${r.second}; missing ${r.missing.length}, twice ${r.twice.length}` +
            (r.stderr ? `; stderr: ${r.stderr}` : ""),
        );
        expect(r.beforeKill).toBeLessThan(MESSAGES);
        expect(r.missing).toEqual([]);
        expect(r.twice).toEqual([]);
      }, 120_000);
    }

    for (let round = 1; round <= Math.max(1, Math.ceil(ROUNDS / 2)); round++) {
      test(`batch round ${round}: BROKER_READ_COMMIT_INTERVAL=25 (at-least-once): nothing missing`, async () => {
        if (!server) {
          console.warn(`skipped: no ${kind} server binaries on this machine`);
          return;
        }
        const r = await drainAcrossKill(kind, server, { BROKER_READ_COMMIT_INTERVAL: "25" });
        console.log(
          `${kind} batch round ${round}: ${MESSAGES} messages, killed after ${r.beforeKill} printed, first read exit ${r.firstExit} ` +
            `(${r.first} printed), second read ${r.second}; missing ${r.missing.length}, twice ${r.twice.length}` +
            (r.stderr ? `; stderr: ${r.stderr}` : ""),
        );
        expect(r.beforeKill).toBeLessThan(MESSAGES);
        expect(r.missing).toEqual([]);
      }, 120_000);
    }

    for (let round = 1; round <= Math.max(1, Math.ceil(ROUNDS / 2)); round++) {
      test(`watch round ${round}: down 3 s, past a 1 s connect timeout: the watch's retry collects the lost claim`, async () => {
        if (!server) {
          console.warn(`skipped: no ${kind} server binaries on this machine`);
          return;
        }
        const r = await watchAcrossKill(kind, server);
        console.log(
          `${kind} watch round ${round}: ${MESSAGES} messages, killed after ${r.beforeKill} printed for 3 s, ` +
            `${r.printed} printed; missing ${r.missing.length}, twice ${r.twice.length}; stderr: ${r.stderr}`,
        );
        expect(r.beforeKill).toBeLessThan(MESSAGES);
        expect(r.missing).toEqual([]);
        expect(r.twice).toEqual([]);
        expect(r.stderr).toContain("lost connection");
      }, 120_000);
    }
  });
}

// --- internal ---

async function drainAcrossKill(kind: "postgres" | "redis", server: PrivateServer, extraEnv: Record<string, string> = {}) {
  const { env, bodies } = await filled(kind, server);
  Object.assign(env, extraEnv);
  const printed: string[] = [];
  const stderr: string[] = [];
  const proc = Bun.spawn([process.execPath, CLI, "read", "q", "--all"], { env, stdout: "pipe", stderr: "pipe" });
  const out = eachLine(proc.stdout, (l) => printed.push(l));
  const err = eachLine(proc.stderr, (l) => stderr.push(l));
  const killAt = Math.floor(MESSAGES * (0.1 + Math.random() * 0.5));
  await waitFor(() => printed.length >= killAt || proc.exitCode !== null, 60_000, "the kill point", 5);
  await server.kill();
  const beforeKill = printed.length;
  await server.start();
  const firstExit = await proc.exited;
  await Promise.all([out, err]);
  const first = printed.length;

  const rest = Bun.spawn([process.execPath, CLI, "read", "q", "--all"], { env, stdout: "pipe", stderr: "pipe" });
  await eachLine(rest.stdout, (l) => printed.push(l));
  const restExit = await rest.exited;
  return {
    beforeKill,
    firstExit,
    first,
    second: `exit ${restExit} (${printed.length - first} printed)`,
    ...verdict(bodies, printed),
    stderr: stderr.join(" | "),
  };
}

/** A `broker watch q` draining a backlog while the server is away longer than the connect timeout. */
async function watchAcrossKill(kind: "postgres" | "redis", server: PrivateServer) {
  const { env, bodies } = await filled(kind, server);
  env.BROKER_BACKEND_CONNECT_TIMEOUT = "1";
  const printed: string[] = [];
  const stderr: string[] = [];
  const proc = Bun.spawn([process.execPath, CLI, "watch", "q"], { env, stdout: "pipe", stderr: "pipe" });
  const out = eachLine(proc.stdout, (l) => printed.push(l));
  const err = eachLine(proc.stderr, (l) => stderr.push(l));
  await waitFor(() => printed.length >= Math.floor(MESSAGES * (0.1 + Math.random() * 0.5)), 60_000, "the kill point", 5);
  await server.kill();
  const beforeKill = printed.length;
  await Bun.sleep(3000);
  await server.start();
  await waitFor(() => printed.length >= MESSAGES, 30_000, "every message printed", 5).catch(() => {});
  await Bun.sleep(300); // a late duplicate would show up here
  proc.kill("SIGTERM");
  await proc.exited;
  await Promise.all([out, err]);
  return { beforeKill, printed: printed.length, ...verdict(bodies, printed), stderr: stderr.join(" | ") };
}

/** A fresh schema or namespace holding MESSAGES bodies in queue q, and the CLI's environment for it. */
async function filled(kind: "postgres" | "redis", server: PrivateServer) {
  const name = uniqueName("ctok");
  const target = storeTarget(kind, server.url, name);

  const bodies = Array.from({ length: MESSAGES }, (_, i) => `m-${String(i).padStart(5, "0")}`);
  const writer = await openBroker(target);
  for (let i = 0; i < bodies.length; i += 500) await writer.backend.write("q", bodies.slice(i, i + 500));
  await writer.close();
  const env = childEnv({
    BROKER_BACKEND: kind,
    BROKER_BACKEND_TARGET: server.url,
    BROKER_BACKEND_SCHEMA: name,
    BROKER_BACKEND_CONNECT_TIMEOUT: "15",
    BROKER_REDIS_PERSISTENCE_WARNING: "0",
  });
  return { env, bodies };
}

/** Bodies never printed, and bodies printed more than once. */
function verdict(bodies: string[], printed: string[]) {
  const counts = new Map<string, number>();
  for (const b of printed) counts.set(b, (counts.get(b) ?? 0) + 1);
  return {
    missing: bodies.filter((b) => !counts.has(b)),
    twice: [...counts].filter(([, n]) => n > 1).map(([b]) => b),
  };
}
