// Helpers of the serve tests: start a real `broker serve` subprocess on a
// free port and learn its URL from its start-up line, and the three backend
// set-ups the API suite runs against.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, childEnv, readLines, tempDir, uniqueName } from "../helpers.ts";

export const POSTGRES_URL = process.env.BROKER_TEST_POSTGRES_URL;
export const REDIS_URL = process.env.BROKER_TEST_REDIS_URL;

/** Where a test's broker lives: a directory and the environment every CLI call there needs. */
export interface Place extends AsyncDisposable {
  label: string;
  dir: string;
  env: Record<string, string>;
}

/** A SQLite database in a fresh temporary directory. */
export function sqlitePlace(): Place {
  const dir = tempDir("sb-serve-");
  return { label: "sqlite", dir: dir.path, env: {}, [Symbol.asyncDispose]: async () => dir[Symbol.dispose]() };
}

/** A place on a server: `--cleanup` removes its schema or namespace, then the directory goes. */
function serverPlace(label: string, dir: ReturnType<typeof tempDir>, env: Record<string, string>): Place {
  return {
    label,
    dir: dir.path,
    env,
    [Symbol.asyncDispose]: async () => {
      await Bun.spawn([process.execPath, CLI, "--cleanup"], {
        cwd: dir.path,
        env: childEnv(env),
        stdout: "ignore",
        stderr: "ignore",
      }).exited;
      dir[Symbol.dispose]();
    },
  };
}

/** A fresh schema on the test PostgreSQL, chosen by BROKER_BACKEND variables. */
export function postgresPlace(): Place {
  const dir = tempDir("sb-serve-pg-");
  const schema = uniqueName("serve");
  const url = process.env.BROKER_TEST_POSTGRES_URL!;
  const env = { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: url, BROKER_BACKEND_SCHEMA: schema };
  return serverPlace("postgres", dir, env);
}

/** A fresh namespace on the test Redis, chosen by a project `.broker.toml` (project scope). */
export function redisPlace(): Place {
  const dir = tempDir("sb-serve-redis-");
  const namespace = uniqueName("serve");
  writeFileSync(
    join(dir.path, ".broker.toml"),
    `version = 1\nbackend = "redis"\ntarget = "${process.env.BROKER_TEST_REDIS_URL}"\n\n[backend_options]\nnamespace = "${namespace}"\n`,
  );
  const env = { BROKER_PROJECT_SCOPE: "1" };
  return serverPlace("redis", dir, env);
}

/** A running `broker serve`. Disposing sends SIGTERM and waits for the exit. */
export interface Served extends AsyncDisposable {
  url: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** The start-up line (`Serving <target> at <url>`). */
  stderrLine: string;
  /** stderr lines after the start-up line, collected as they come. */
  stderr: string[];
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Start `broker [...globals] serve --port 0 ...args` in `place` (or `cwd`) and wait until it listens. */
export async function startServe(
  place: Place,
  args: string[] = [],
  env: Record<string, string> = {},
  { globals = [], cwd = place.dir }: { globals?: string[]; cwd?: string } = {},
): Promise<Served> {
  const proc = Bun.spawn([process.execPath, CLI, ...globals, "serve", "--port", "0", ...args], {
    cwd,
    env: childEnv({ ...place.env, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines = readLines(proc.stderr);
  const first = await lines.next();
  const match = first.done ? null : /at (http:\/\/\S+\/)/.exec(first.value);
  if (!match) {
    proc.kill();
    throw new Error(`broker serve did not start: ${first.done ? "(no output)" : first.value}`);
  }
  const stderr: string[] = [];
  void (async () => {
    for await (const line of lines) stderr.push(line);
  })();
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null) proc.kill(signal);
    return proc.exited;
  };
  return {
    url: match[1]!,
    stderrLine: first.value as string,
    proc,
    stderr,
    stop,
    [Symbol.asyncDispose]: async () => void (await stop()),
  };
}

/** Run the CLI in `place` (for writes from another process). */
export async function cli(place: Place, args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    cwd: place.dir,
    env: childEnv(place.env),
    stdout: "pipe",
    stderr: "inherit",
  });
  const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { stdout, exitCode };
}
