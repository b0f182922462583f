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
export { Queue } from "./lib/queue.ts";
export type { DeliveryGuarantee, GeneratorOptions, QueueOptions, RangeOptions } from "./lib/queue.ts";
export { QueueWatcher, QueueMoveWatcher, watchQueue } from "./lib/watcher.ts";
export { ActivityMonitor } from "./lib/activity.ts";
export type { ErrorHandler, MessageHandler, WatchOptions, WatcherOptions, WatchTargetOptions } from "./lib/watcher.ts";
export { Broker, openBroker } from "./lib/broker.ts";
export { AsyncQueue } from "./lib/async-queue.ts";
export type { OpenBrokerOptions } from "./lib/broker.ts";
export { resolveConfig, resolveConfigWithWarnings } from "./lib/config.ts";
export type { ConfigOverrides } from "./lib/config.ts";
export { targetForDirectory, resolveBrokerTarget, redactTarget } from "./lib/project.ts";
export { parseTimestampBound, parseMessageId, decodeHybridTimestamp } from "./lib/timestamp.ts";
export {
  BrokerError, ArgumentError, QueueNameError, MessageError, TimestampError, MessageIdError, ConfigError, BackendError, isBrokerError,
} from "./lib/errors.ts";
export type { BrokerErrorCode } from "./lib/errors.ts";
export type {
  Backend, BrokerConfig, BrokerStatus, BrokerTarget, Message, MessageId, QueueStats, Reservation, Selection, SyncMode, VacuumResult,
} from "./lib/types.ts";
export { VERSION } from "./lib/version.ts";
