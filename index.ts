/**
 * simplebroker: a durable message queue in one SQLite file (or PostgreSQL,
 * or Redis), compatible with SimpleBroker 3.6.1.
 *
 *     import { Queue } from "simplebroker";
 *     using q = new Queue("jobs");
 *     const id = q.write("render invoice 42");
 *     const msg = q.readOne(); // { body, ts }
 *
 * @module
 */
export { Queue } from "./lib/queue/queue.ts";
export type { DeliveryGuarantee, GeneratorOptions, PeekGeneratorOptions, QueueOptions, RangeOptions } from "./lib/queue/queue.ts";
export { QueueWatcher, QueueMoveWatcher, watchQueue } from "./lib/watch/watcher.ts";
export { ActivityMonitor } from "./lib/watch/activity.ts";
export type {
  ConnectionEvent,
  ConnectionReporter,
  ErrorHandler,
  MessageHandler,
  WatchOptions,
  WatcherOptions,
  WatchTargetOptions,
} from "./lib/watch/watcher.ts";
export { isConnectionLoss } from "./lib/backends/connection-loss.ts";
export { Broker } from "./lib/queue/broker.ts";
export type { DeliveryPlan } from "./lib/queue/broker.ts";
export { openBroker } from "./lib/queue/open.ts";
export { AsyncQueue } from "./lib/queue/async-queue.ts";
export type { OpenBrokerOptions } from "./lib/queue/open.ts";
export { resolveConfig, resolveConfigWithWarnings } from "./lib/target/config.ts";
export type { ConfigOverrides } from "./lib/target/config.ts";
export { targetForDirectory, resolveBrokerTarget, redactTarget } from "./lib/target/project.ts";
export {
  parseTimestampBound,
  parseMessageId,
  decodeHybridTimestamp,
  nextHybridTimestamp,
  wallClockNs,
} from "./lib/time/timestamp.ts";
export { defineBackend } from "./lib/backends/index.ts";
export type { BackendCapabilities, BackendDefinition, BroadcastTargets, IdleConsumer } from "./lib/core/types.ts";
export {
  BrokerError,
  ArgumentError,
  QueueNameError,
  MessageError,
  TimestampError,
  MessageIdError,
  ConfigError,
  BackendError,
  isBrokerError,
} from "./lib/core/errors.ts";
export type { BrokerErrorCode } from "./lib/core/errors.ts";
export type {
  Backend,
  BrokerConfig,
  BrokerStatus,
  BrokerTarget,
  LoadInput,
  LoadRecord,
  LoadResult,
  Message,
  MessageId,
  QueueStats,
  RenameResult,
  Reservation,
  Selection,
  SyncMode,
  VacuumResult,
} from "./lib/core/types.ts";
export type { DumpFilter } from "./lib/dump/dump.ts";
export type { LoadOptions } from "./lib/dump/load.ts";
export type { FindOptions } from "./lib/queue/_inspect.ts";
export { Lease, SyncLease } from "./lib/queue/_lease-handle.ts";
export type { LeaseOptions, LeaseState } from "./lib/queue/_lease-handle.ts";
export type { BrokerLeases, HeldMessage } from "./lib/queue/_broker-leases.ts";
export type { JobContext, JobHandler, ProcessOptions, ProcessResult } from "./lib/queue/_worker.ts";
export { backoffDelay, DEFAULT_BACKOFF } from "./lib/delivery/backoff.ts";
export type { BackoffOptions } from "./lib/delivery/backoff.ts";
export type { HeldStats, LeaseCapabilities, LeasedMessage, LeaseSelection } from "./lib/core/types.ts";
export { VERSION } from "./lib/util/version.ts";
export { createHandler } from "./lib/serve/handler.ts";
export type { BrokerHandler, HandlerOptions } from "./lib/serve/handler.ts";
