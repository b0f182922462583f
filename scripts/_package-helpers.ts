/**
 * Pieces of `scripts/test-package.ts`: the packed-file rules, the strict
 * consumer project, and a throw-away verdaccio registry on 127.0.0.1.
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** Paths every tarball must contain. */
const REQUIRED = ["package.json", "LICENSE", "README.md", "index.ts", "cli/index.ts", "dist/types/index.d.ts"];

/** Patterns no tarball may contain: tests, benches, fixtures, stress runs, CI, databases, build output other than types. */
const FORBIDDEN: [RegExp, string][] = [
  [/^test\//, "test suite"],
  [/\.test\.ts$/, "test file"],
  [/-fixture\.(ts|py)$/, "test fixture"],
  [/(^|\/)fixtures?\//, "fixtures"],
  [/^bench\//, "benchmarks"],
  [/^stress\//, "stress suite"],
  [/^\.ci\//, "CI scripts"],
  [/^scripts\//, "release scripts"],
  [/^examples\//, "examples"],
  [/\.db(-wal|-shm|-journal)?$/, "database"],
  [/(^|\/)\.broker\.db/, "database"],
  [/^dist\/(?!types\/)/, "build output"],
  [/^node_modules\//, "node_modules"],
];

/** Every problem with a packed file list (empty when it is right). */
export function checkFileList(paths: readonly string[]): string[] {
  const problems: string[] = [];
  for (const need of REQUIRED) if (!paths.includes(need)) problems.push(`missing ${need}`);
  for (const path of paths) {
    for (const [re, what] of FORBIDDEN) if (re.test(path)) problems.push(`${what} shipped: ${path}`);
  }
  return problems;
}

/** A consumer that touches the public surface: classes, functions, types, errors. */
export const CONSUMER_SOURCE = `import { BrokerError, isBrokerError, openBroker, Queue, QueueWatcher, resolveConfig, VERSION } from "simplebroker";
import type { BrokerConfig, Message, QueueStats } from "simplebroker";
import { defineBackend, REQUIRED_METHODS } from "simplebroker/testing";
import type { BackendDefinition, ContractOptions } from "simplebroker/testing";

using q = new Queue("consumer", { dbPath: "." });
const id: bigint = q.write("hello");
const msg: Message | null = q.readOne();
const stats: QueueStats = q.stats();
const config: Readonly<BrokerConfig> = resolveConfig({ busyTimeout: 1000 });
await using broker = await openBroker(".");
await broker.write("consumer", "again");
const again = await broker.queue("consumer").readOne();
try {
  q.write("x".repeat(config.maxMessageSize + 1));
} catch (error) {
  if (!(isBrokerError(error) && error instanceof BrokerError)) throw error;
}
const watcher = new QueueWatcher("consumer", (m) => void m.body, { db: "." });
await watcher.stop();
const definitions: BackendDefinition[] = [];
const contract: ContractOptions | undefined = undefined;
if (typeof defineBackend !== "function" || REQUIRED_METHODS.length < 1 || definitions.length > 0 || contract) throw new Error("testing");
if (stats.total < 0 || again?.body !== "again" || VERSION.length === 0) throw new Error("unexpected");
console.log(msg?.body, msg?.ts === id);
`;

/** The strictest common flags, with `skipLibCheck` off so our declarations are checked too. */
export const CONSUMER_TSCONFIG = JSON.stringify(
  {
    compilerOptions: {
      target: "ESNext",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ESNext"],
      types: ["bun"],
      strict: true,
      exactOptionalPropertyTypes: true,
      noPropertyAccessFromIndexSignature: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      skipLibCheck: false,
      noEmit: true,
    },
    files: ["consumer.ts"],
  },
  null,
  2,
);

/** A running registry: its URL, a publish token, and what it served. */
export interface LocalRegistry {
  url: string;
  token: string;
  /** True once the registry has logged answering a GET for this package's metadata. */
  served(name: string): Promise<boolean>;
  stop(): void;
}

/** Start verdaccio on a free 127.0.0.1 port with its own storage and no uplinks, and register a publishing user. */
export async function startRegistry(bin: string, dir: string, env: Record<string, string>): Promise<LocalRegistry> {
  mkdirSync(join(dir, "storage"), { recursive: true });
  const configPath = join(dir, "config.yaml");
  await Bun.write(
    configPath,
    [
      `storage: ${join(dir, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(dir, "htpasswd")}`,
      "uplinks: {}",
      "packages:",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "web:",
      "  enable: false",
      "middlewares:",
      "  audit:",
      "    enabled: false",
      "log: { type: stdout, format: json, level: http }",
      "",
    ].join("\n"),
  );
  const port = freePort();
  const url = `http://127.0.0.1:${port}/`;
  // Under Bun rather than the system Node: verdaccio 6 refuses Node < 22.
  const proc = Bun.spawn([process.execPath, bin, "--config", configPath, "--listen", `127.0.0.1:${port}`], {
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  let log = "";
  void (async () => {
    for await (const chunk of proc.stdout) log += new TextDecoder().decode(chunk);
  })();
  const stop = () => proc.kill();
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || proc.exitCode !== null) {
      stop();
      throw new Error(`verdaccio did not start:\n${log}${await new Response(proc.stderr).text()}`);
    }
    await Bun.sleep(100);
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "publisher", password: "publisher-pass", type: "user", roles: [] }),
  });
  const token = ((await res.json()) as { token?: string }).token;
  if (!token) {
    stop();
    throw new Error(`verdaccio refused to register a user (HTTP ${res.status})`);
  }
  // verdaccio's logger writes asynchronously: give a request's line a few seconds to arrive.
  const served = async (name: string) => {
    const line = `"request":{"method":"GET","url":"/${name}"}`;
    for (let i = 0; i < 50 && !log.includes(line); i++) await Bun.sleep(100);
    return log.includes(line);
  };
  return { url, token, served, stop };
}

// --- internal ---

/** A port nothing listens on right now (bound and released by the OS). */
function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
