/**
 * The one place that knows the backends: the built-in `sqlite` (the default),
 * `postgres` (Bun.SQL) and `redis` (Bun's RedisClient), each loaded on first
 * use, and backends from outside: a module specifier in `BROKER_BACKEND` or
 * in `.broker.toml`'s `backend` names a module that exports a
 * {@link BackendDefinition} (see docs/backend-contract.md).
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { fs } from "../util/fs-lazy.ts";
import { dirname, isAbsolute, join } from "../util/path.ts";
import type { Backend, BackendDefinition, BrokerConfig, BrokerTarget, FileBackendDefinition, LocalFiles } from "../core/types.ts";
import { postgresDefinition } from "./postgres/target.ts";
import { redisDefinition } from "./redis/target.ts";
import { sqliteDefinition } from "./sqlite/definition.ts";

/** Built-in names accepted in `BROKER_BACKEND` and `.broker.toml` (`postgresql` and `valkey` are synonyms). */
export const BACKEND_NAMES = ["sqlite", "postgres", "redis"] as const;
/** The backend of plain `-d`/`-f` database paths, and the default of `BROKER_BACKEND`. */
export const DEFAULT_BACKEND = "sqlite";

/** Methods every backend has; the rest of {@link Backend} are optional capabilities. */
export const REQUIRED_METHODS = [
  "init",
  "close",
  "write",
  "claim",
  "peek",
  "move",
  "deleteQueue",
  "broadcast",
  "listStats",
  "queueStats",
  "hasPending",
  "status",
  "generateTimestamp",
  "lastTimestamp",
  "listAliases",
  "resolveAlias",
  "addAlias",
  "removeAlias",
] as const satisfies readonly (keyof Backend)[];

/**
 * Define a backend (typed identity). A backend module exports the result as
 * `backend` or as its default export:
 *
 *     export const backend = defineBackend({ name: "memory", create: (target, config) => createMemoryBackend() });
 */
export function defineBackend(definition: BackendDefinition): BackendDefinition {
  return definition;
}

/**
 * The definition `name` refers to: a built-in name, or a module specifier
 * resolved from `base` (a relative one from that folder, a package through
 * its node_modules), loaded once per process. Undefined when nothing by that
 * name can be found; a module that fails to load or exports no definition is
 * a {@link ConfigError}.
 */
export function findBackend(name: string, base: string = process.cwd()): BackendDefinition | undefined {
  const builtIn = BUILT_IN.get(name);
  if (builtIn) return builtIn;
  const file = resolveModule(name, base);
  if (file === undefined) return undefined;
  let definition = loaded.get(file);
  if (!definition) loaded.set(file, (definition = loadDefinition(name, file)));
  return definition;
}

/** {@link findBackend}, throwing `Requested backend '<name>' is not available.` when there is none. */
export function backendDefinition(name: string, base?: string): BackendDefinition {
  const definition = findBackend(name, base);
  if (!definition) throw new ConfigError(`Requested backend '${name}' is not available.`, { key: "BROKER_BACKEND" });
  return definition;
}

/**
 * The backend as a target records it: a built-in name unchanged, a module
 * specifier as the absolute file it resolves to from `base` (so the target
 * still names it from another working directory).
 */
export function backendId(name: string, base?: string): string {
  backendDefinition(name, base);
  return BUILT_IN.has(name) ? name : resolveModule(name, base ?? process.cwd())!;
}

/** The local-file capability of the backend `name` (see {@link LocalFiles}); undefined when its target is not a file. */
export function localFilesOf(name: string): LocalFiles | undefined {
  return (BUILT_IN.get(name) as Partial<FileBackendDefinition> | undefined)?.files;
}

/** Create the backend for a resolved target. Connections open lazily on first use. */
export async function createBackend(target: BrokerTarget, config: BrokerConfig): Promise<Backend> {
  const definition = findBackend(target.backendName);
  if (!definition) {
    throw new ConfigError(
      `Requested backend '${target.backendName}' is not available. Valid backends: ${BACKEND_NAMES.join(", ")}.`,
      { key: "BROKER_BACKEND" },
    );
  }
  const backend = await definition.create(target, config);
  const missing = REQUIRED_METHODS.filter((m) => typeof backend?.[m] !== "function");
  if (missing.length) {
    throw new ConfigError(`Backend '${definition.name}' does not implement: ${missing.join(", ")}`, { key: "BROKER_BACKEND" });
  }
  return backend;
}

// --- internal ---

const BUILT_IN = new Map<string, BackendDefinition>([
  ["sqlite", sqliteDefinition],
  ["postgres", postgresDefinition],
  ["postgresql", postgresDefinition],
  ["redis", redisDefinition],
  ["valkey", redisDefinition],
]);
/** Outside definitions by resolved file. */
const loaded = new Map<string, BackendDefinition>();

/**
 * The file a module specifier resolves to from `base`, or undefined. A path
 * (`./x.ts`, `/abs/x.ts`, `file:` URL) is taken from `base`; a package name
 * only from a node_modules folder at or above `base`: Bun auto-installs a
 * bare name it cannot find there, and a typo must not fetch a package.
 */
function resolveModule(specifier: string, base: string): string | undefined {
  try {
    const path = specifier.startsWith("file:") ? Bun.fileURLToPath(specifier) : specifier;
    if (path.startsWith(".") || isAbsolute(path)) return Bun.resolveSync(path, base);
    if (!hasPackage(path, base)) return undefined;
    const file = Bun.resolveSync(path, base);
    return isAbsolute(file) ? file : undefined; // builtin modules (`fs`) are no backends
  } catch {
    return undefined;
  }
}

/** Whether `<dir>/node_modules/<package>` exists in `base` or a folder above it. */
function hasPackage(specifier: string, base: string): boolean {
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  if (!name || name.includes(":")) return false;
  for (let dir = base; ; dir = dirname(dir)) {
    if (fs().existsSync(join(dir, "node_modules", name))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Load a backend module synchronously (target resolution is synchronous) and take its definition. */
function loadDefinition(name: string, file: string): BackendDefinition {
  let mod: Record<string, unknown>;
  try {
    mod = require(file) as Record<string, unknown>;
  } catch (error) {
    const text = ((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "").trim();
    throw new ConfigError(`Cannot load backend module '${name}': ${text}`, { key: "BROKER_BACKEND", cause: error });
  }
  const candidate = (mod.backend ?? mod.default) as Partial<BackendDefinition> | undefined;
  if (typeof candidate?.name !== "string" || typeof candidate.create !== "function") {
    throw new ConfigError(
      `Backend module '${name}' exports no backend: expected 'export const backend = defineBackend({ name, create })' or a default export`,
      { key: "BROKER_BACKEND" },
    );
  }
  return candidate as BackendDefinition;
}
