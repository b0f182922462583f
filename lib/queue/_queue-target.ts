/**
 * The options of the synchronous `Queue` and the database file they name:
 * a path, a directory, or a resolved target, which must be SQLite (other
 * backends are reached through `openBroker()`).
 * @module
 */
import type { ConfigOverrides } from "../target/config.ts";
import { BackendError } from "../core/errors.ts";
import { resolveTargetArg } from "./open.ts";
import { localFilesOf } from "../backends/index.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";

/** Options of `Queue`. */
export interface QueueOptions {
  /** Database file, directory, or resolved target; default: the current directory's target. */
  dbPath?: string | BrokerTarget;
  /** Share one connection per database in this process until the last close (default false). */
  persistent?: boolean;
  /** Overrides of the `BROKER_*` configuration. */
  config?: ConfigOverrides;
}

/** The SQLite file `dbPath` names under `config`; a BackendError for a target on another backend. */
export function queueDbPath(dbPath: QueueOptions["dbPath"], config: BrokerConfig): string {
  const target = typeof dbPath === "object" ? dbPath : resolveTargetArg(dbPath, config);
  if (!localFilesOf(target.backendName)) {
    throw new BackendError(
      `Queue works on SQLite; the target uses '${target.backendName}'. Use openBroker() for other backends.`,
    );
  }
  return target.target;
}
