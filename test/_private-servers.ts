/**
 * Private PostgreSQL and Redis servers a test starts for itself, on their own
 * port and data directory, so it can stop, kill -9 and restart them without
 * touching the shared servers (5432, 6379) everyone else's tests use.
 *
 * PostgreSQL: `initdb` + `pg_ctl` from /usr/lib/postgresql/<version>/bin (or
 * PATH), run as the `postgres` OS user when this process is root (PostgreSQL
 * refuses to run as root), socket directory and data in a temp directory.
 * Redis: `redis-server` with an append-only file (`appendfsync always`, so
 * a write the server acknowledged survives kill -9).
 *
 * `privatePostgres()` / `privateRedis()` resolve undefined when the binaries
 * are missing, so a suite can skip with a reason.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A server this process started; stop, kill and start again on the same port and data. */
export interface PrivateServer {
  readonly kind: "postgres" | "redis";
  readonly url: string;
  readonly port: number;
  /** Clean shutdown (pg_ctl stop -m fast / SIGTERM); resolves once the port is closed. */
  stop(): Promise<void>;
  /** kill -9 of the server (every process of the PostgreSQL cluster); resolves once the port is closed. */
  kill(): Promise<void>;
  /** Start again on the same port and data; resolves once it answers. */
  start(): Promise<void>;
  /** Stop (kill if need be) and delete the data directory. */
  destroy(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** True while something accepts TCP connections on 127.0.0.1:`port`. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb and pg_ctl, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0]!, "bin");
  }
  const onPath = Bun.which("pg_ctl");
  return onPath ? onPath.replace(/\/pg_ctl$/, "") : undefined;
}

/**
 * Start a private PostgreSQL cluster (trust auth, user postgres, database postgres).
 * `fsync`: the server's default durability (on) instead of fsync=off, full_page_writes=off.
 */
export async function privatePostgres(opts: { fsync?: boolean } = {}): Promise<PrivateServer | undefined> {
  const bin = postgresBinDir();
  if (!bin) return undefined;
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "sb-private-pg-"));
  chmodSync(dir, 0o755);
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  if (root) {
    const id = Bun.spawnSync(["id", "-u", "postgres"]);
    const g = Bun.spawnSync(["id", "-g", "postgres"]);
    if (id.exitCode !== 0) return undefined;
    chownSync(dir, Number(id.stdout.toString().trim()), Number(g.stdout.toString().trim()));
  }
  const as = (argv: string[]) => (root ? ["runuser", "-u", "postgres", "--", ...argv] : argv);
  const init = Bun.spawnSync(as([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]), {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString().trim()}`);
  const port = freePort();
  const durability = opts.fsync ? "" : " -c fsync=off -c full_page_writes=off";
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${durability}`;
  const ctl = (args: string[]) =>
    Bun.spawnSync(as([join(bin, "pg_ctl"), "-D", data, ...args]), { stdout: "pipe", stderr: "pipe" });
  const clusterPids = (): number[] => {
    const pidFile = join(data, "postmaster.pid");
    if (!existsSync(pidFile)) return [];
    const main = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    if (!main) return [];
    const children = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(main)]).stdout.toString();
    return [main, ...children.split(/\s+/).filter(Boolean).map(Number)];
  };
  const server: PrivateServer = {
    kind: "postgres",
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      // After a kill -9 the old backends may hold shared memory for a moment: try again until it starts.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = ctl(["start", "-w", "-t", "20", "-l", log, "-o", options]);
        if (r.exitCode === 0) break;
        if (Date.now() > deadline) throw new Error(`pg_ctl start failed: ${r.stderr.toString().trim()} ${tail(log)}`);
        await Bun.sleep(200);
      }
      await waitPort(port, true);
    },
    async stop() {
      const r = ctl(["stop", "-m", "fast", "-w", "-t", "20"]);
      if (r.exitCode !== 0 && (await portOpen(port))) throw new Error(`pg_ctl stop failed: ${r.stderr.toString().trim()}`);
      await waitPort(port, false);
    },
    async kill() {
      const pids = clusterPids();
      for (const pid of pids) signal(pid, "SIGKILL");
      await waitPort(port, false);
      // Every process of the old cluster gone (a stray backend would keep the shared memory busy).
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && pids.some((pid) => signal(pid, 0))) await Bun.sleep(25);
    },
    async destroy() {
      leftovers.delete(cleanUp);
      if (await portOpen(port)) await server.kill().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const cleanUp = () => {
    for (const pid of clusterPids()) signal(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  leftovers.add(cleanUp);
  await server.start();
  return server;
}

/** Start a private Redis server (append-only, fsync on every write). */
export async function privateRedis(): Promise<PrivateServer | undefined> {
  const binary = Bun.which("redis-server");
  if (!binary) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "sb-private-redis-"));
  const port = freePort();
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const server: PrivateServer = {
    kind: "redis",
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async start() {
      proc = Bun.spawn(
        [
          binary,
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
          "--save",
          "",
          "--daemonize",
          "no",
          "--logfile",
          join(dir, "server.log"),
        ],
        { stdout: "ignore", stderr: "ignore" },
      );
      await waitPort(port, true);
      // Loading the AOF: the server accepts connections but answers LOADING until done.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const client = new Bun.RedisClient(server.url, { autoReconnect: false });
        try {
          await client.send("PING", []);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await Bun.sleep(50);
        } finally {
          client.close();
        }
      }
    },
    async stop() {
      proc?.kill("SIGTERM");
      await proc?.exited;
      await waitPort(port, false);
    },
    async kill() {
      proc?.kill("SIGKILL");
      await proc?.exited;
      await waitPort(port, false);
    },
    async destroy() {
      leftovers.delete(cleanUp);
      if (proc && proc.exitCode === null && proc.signalCode === null) await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const cleanUp = () => {
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  leftovers.add(cleanUp);
  await server.start();
  return server;
}

// --- internal ---

/** Servers not destroyed yet: killed (and their data removed) when this process exits, whatever the tests did. */
const leftovers = new Set<() => void>();
process.on("exit", () => {
  for (const cleanUp of leftovers) {
    try {
      cleanUp();
    } catch {
      // best effort on the way out
    }
  }
});

async function waitPort(port: number, open: boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${open ? "open" : "close"} within 20 s`);
    await Bun.sleep(25);
  }
}

/** Send `sig` to `pid`; false when there is no such process. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-5).join(" | ");
  } catch {
    return "";
  }
}
