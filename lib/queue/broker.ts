/**
 * `Broker`: the backend-agnostic, async face of one store (SQLite file,
 * Postgres schema or Redis namespace). It validates input, resolves `@alias`
 * operands, and delegates to the {@link Backend}. The CLI runs on it;
 * libraries use it through {@link openBroker} for cross-queue work.
 * @module
 */
import { fs } from "../util/fs-lazy.ts";
import { resolve } from "../util/posix-path.ts";
import type { AsyncQueue } from "./async-queue.ts";
import { createBackend } from "../backends/index.ts";
import { resolveConfig } from "../target/config.ts";
import { ArgumentError } from "../core/errors.ts";
import { targetForDirectory } from "../target/project.ts";
import type { Backend, BrokerConfig, BrokerStatus, BrokerTarget, Message, QueueStats, Reservation, Selection, VacuumResult } from "../core/types.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";

/** Options of {@link openBroker}. */
export interface OpenBrokerOptions {
  /** Overrides of the `BROKER_*` configuration (see `resolveConfig`). */
  config?: Partial<BrokerConfig> | Record<string, unknown>;
}

/** An open store with every cross-queue operation. Close it, or use `await using`. */
export class Broker implements AsyncDisposable {
  readonly backend: Backend;
  readonly config: BrokerConfig;
  readonly target: BrokerTarget | undefined;

  constructor(backend: Backend, config: BrokerConfig, target?: BrokerTarget) {
    this.backend = backend;
    this.config = config;
    this.target = target;
  }

  /** A handle on one queue of this broker, with promise-returning `Queue` methods. */
  queue(name: string): AsyncQueue {
    // Loaded on first use: the CLI's one-shot commands never need the queue/watcher modules.
    const { AsyncQueue: Impl } = require("./async-queue.ts") as typeof import("./async-queue.ts");
    return new Impl(this, name);
  }

  /** Resolve an operand: `@alias` → its target (one hop), then validate the queue name. */
  async resolveQueue(name: string): Promise<string> {
    if (name.startsWith("@")) {
      const alias = name.slice(1);
      if (alias === "") throw new ArgumentError("Alias name cannot be empty");
      const target = await this.backend.resolveAlias(alias);
      if (target === undefined) throw new ArgumentError(`Alias '${alias}' is not defined`);
      return target;
    }
    validateQueueName(name);
    return name;
  }

  /** Write one message or many (one transaction); returns the new ids. */
  async write(queue: string, body: string | string[]): Promise<bigint[]> {
    const q = await this.resolveQueue(queue);
    const bodies = typeof body === "string" ? [body] : body;
    for (const b of bodies) validateMessageSize(b, this.config.maxMessageSize);
    return this.backend.write(q, bodies);
  }

  /** Claim messages (exactly-once, committed before returning). */
  async read(queue: string, selection: Selection = {}): Promise<Message[]> {
    return this.backend.claim(await this.resolveQueue(queue), selection);
  }

  async peek(queue: string, selection: Selection = {}): Promise<Message[]> {
    return this.backend.peek(await this.resolveQueue(queue), selection);
  }

  /** Move messages from `source` to `target`; both operands may be `@aliases`. */
  async move(source: string, target: string, selection: Selection = {}): Promise<Message[]> {
    const [src, dst] = await this.resolvePair(source, target);
    return this.backend.move(src, dst, selection);
  }

  /** Resolve a source/destination pair, refusing the same queue twice. */
  async resolvePair(source: string, target: string): Promise<[string, string]> {
    const src = await this.resolveQueue(source);
    const dst = await this.resolveQueue(target);
    if (src === dst) throw new ArgumentError("Source and destination queues cannot be the same", { code: "INVALID_ARGUMENT" });
    return [src, dst];
  }

  /** Claim (or move) a batch that stays revocable until commit/rollback. */
  async reserve(queue: string, selection: Selection, moveTo?: string): Promise<Reservation> {
    return this.backend.reserve(await this.resolveQueue(queue), selection, moveTo);
  }

  /** Physically delete one queue's rows, or every queue's when `queue` is omitted. */
  async delete(queue?: string): Promise<number> {
    return this.backend.deleteQueue(queue === undefined ? undefined : await this.resolveQueue(queue));
  }

  /** Claim (logically delete) one pending message by id; false when not found. */
  async deleteMessage(queue: string, id: bigint): Promise<boolean> {
    const rows = await this.backend.claim(await this.resolveQueue(queue), { exactId: id });
    return rows.length > 0;
  }

  /** Write `body` to every existing queue (matching `pattern`); returns how many. */
  async broadcast(body: string, pattern?: string): Promise<number> {
    validateMessageSize(body, this.config.maxMessageSize);
    return this.backend.broadcast(body, pattern || undefined);
  }

  listStats(filter: { prefix?: string; pattern?: string } = {}): Promise<QueueStats[]> {
    return this.backend.listStats(filter);
  }

  async queueStats(queue: string): Promise<QueueStats> {
    return this.backend.queueStats(await this.resolveQueue(queue));
  }

  async exists(queue: string): Promise<boolean> {
    return (await this.queueStats(queue)).total > 0;
  }

  async hasPending(queue: string, after?: bigint): Promise<boolean> {
    return this.backend.hasPending(await this.resolveQueue(queue), after);
  }

  /** Claimed and total rows over all queues. */
  async overallStats(): Promise<{ claimed: number; total: number }> {
    const all = await this.backend.listStats();
    return all.reduce((acc, s) => ({ claimed: acc.claimed + s.claimed, total: acc.total + s.total }), { claimed: 0, total: 0 });
  }

  status(): Promise<BrokerStatus> {
    return this.backend.status();
  }

  vacuum(compact = false): Promise<VacuumResult> {
    return this.backend.vacuum(compact);
  }

  generateTimestamp(): Promise<bigint> {
    return this.backend.generateTimestamp();
  }

  lastTimestamp(): Promise<bigint> {
    return this.backend.lastTimestamp();
  }

  listAliases(): Promise<Array<[string, string]>> {
    return this.backend.listAliases();
  }

  /**
   * Add `alias` → `target` with SimpleBroker 3.6.1's validation order and messages.
   * Returns a warning text when a literal queue named `alias` has messages.
   */
  async addAlias(alias: string, target: string): Promise<string | undefined> {
    validateQueueName(alias);
    if (alias === target) throw new ArgumentError("Alias and target must differ");
    if (target.startsWith("@")) throw new ArgumentError("Target names should not include the '@' prefix");
    if (target === "") throw new ArgumentError("Alias target cannot be empty");
    validateQueueName(target); // targets are queue names (docs/compatibility.md#q17-alias-targets-are-validated)
    await this.backend.addAlias(alias, target);
    const literal = await this.backend.queueStats(alias);
    if (literal.total > 0) {
      return `Queue '${alias}' already exists with messages. The alias @${alias} will redirect to '${target}' while the queue ${alias} remains accessible directly.`;
    }
    return undefined;
  }

  removeAlias(alias: string): Promise<boolean> {
    return this.backend.removeAlias(alias);
  }

  async close(): Promise<void> {
    await this.backend.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Open a broker on a target: a directory or database path (string), a
 * resolved {@link BrokerTarget}, or nothing for the default target of the
 * current directory (SPEC §5.4, no upward search).
 */
export async function openBroker(target?: string | BrokerTarget, options: OpenBrokerOptions = {}): Promise<Broker> {
  const config = resolveConfig(options.config);
  const resolved = typeof target === "object" ? target : resolveTargetArg(target, config);
  return new Broker(await createBackend(resolved, config), config, resolved);
}

/** A string target: an existing directory → its default target, otherwise a database file path. */
export function resolveTargetArg(target: string | undefined, config: BrokerConfig): BrokerTarget {
  if (target === undefined || target === "") return targetForDirectory(config.defaultDbLocation || process.cwd(), config);
  const abs = resolve(target);
  try {
    if (fs().statSync(abs).isDirectory()) return targetForDirectory(abs, config);
  } catch {
    // not there yet: a file path
  }
  return {
    backendName: "sqlite",
    target: abs,
    backendOptions: {},
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}
