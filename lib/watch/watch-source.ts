/**
 * What a watch runs: the shared exactly-once walk (lib/delivery) on a source
 * that, when the queue is empty, waits for activity instead of ending, and
 * takes the messages a writer of this process handed to it while it waited.
 *
 * Wake-ups: a write in this process wakes its watchers at once; on SQLite a
 * change of the `-wal` file or of `PRAGMA data_version` wakes watchers in
 * other processes, with a burst-then-backoff poll as the safety net; backends
 * with native wake-ups (LISTEN/NOTIFY, pub/sub) use them with a slow poll.
 * @module
 */
import type { Backend, BrokerConfig, Message } from "../core/types.ts";
import type { AsyncSource } from "../delivery/drive.ts";
import { walk, type Loop } from "../delivery/loops.ts";
import { backendSource, checkDestination } from "../delivery/ops.ts";
import { ActivityMonitor } from "./activity.ts";
import { type ConnectionReporter, OutageGuard } from "./reconnect.ts";
import { FileIdentity, onFileChange } from "./_file-identity.ts";

/** Options of a watch on one queue (`watchQueue`, `Queue.watch()`, `AsyncQueue.watch()`). */
export interface WatchOptions {
  /** Leave messages in the queue (default: consume them). */
  peek?: boolean;
  /** Only messages with an id above this (consume mode too). */
  after?: bigint;
  /** Stops the watch. */
  signal?: AbortSignal;
  /** Told when the connection to a server is lost and when it is back (default: one line on stderr each; docs/outages.md). */
  onConnection?: ConnectionReporter;
}

/** The kinds of watch, and who hears about outages (default: stderr). */
export type WatchMode = (
  | { kind: "consume"; after?: bigint }
  | { kind: "peek"; after?: bigint }
  | { kind: "move"; destination: string }
) & { onConnection?: ConnectionReporter };

/** A watch ready to run: its loop, and its source, which must be closed after the loop ends. */
export interface WatchRun {
  loop: Loop;
  source: AsyncSource & { close(): Promise<void> };
}

/**
 * Watch `queue` (name resolved) until `signal` aborts. A consumed message is
 * claimed just before it is handed out; one claimed for the watch but never
 * handed out (it stopped first) goes back when the source closes. Store
 * calls that fail because the server went away are retried until it is back
 * (docs/outages.md). A local database file that is replaced is reopened;
 * one whose folder is gone ends the watch with an error.
 */
export function watchRun(backend: Backend, config: BrokerConfig, queue: string, mode: WatchMode, signal: AbortSignal): WatchRun {
  if (mode.kind === "move") checkDestination(queue, mode.destination, { message: "Cannot move messages to the same queue" });
  const kind = mode.kind === "consume" ? "claim" : mode.kind;
  const base = backendSource(backend, queue, kind, mode.kind === "move" ? mode.destination : undefined);
  const monitor = new ActivityMonitor(backend, [queue], config);
  const guard = new OutageGuard(backend.displayTarget, signal, mode.onConnection);
  const file = backend.localFile === undefined ? undefined : new FileIdentity(backend.localFile);
  const offFile = file && onFileChange(file.path, Math.max(50, config.maxInterval * 1000), () => monitor.poke());
  // A watch keeps its process alive while it runs: sub-millisecond sleeps
  // (Atomics.waitAsync) and the unref'd -wal watcher do not hold the event loop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let lastSeen = mode.kind === "move" ? undefined : mode.after;
  // Messages a writer of this process handed to this watch, not yet taken; in consume mode
  // they are already claimed for it.
  const handedOver: Message[] = [];
  // A backend with the in-process hand-over capability may hand a write of this process straight to this watch.
  const offer = mode.kind === "move" ? undefined : backend.offerIdle?.bind(backend);
  const probe = monitor.native ? () => backend.hasPending(queue) : undefined;
  const source: WatchRun["source"] = {
    ...base,
    putBack: async (m) => {
      // A stop (the signal) is exactly when messages taken but not delivered go back: the guard returns
      // at once on an aborted signal, so a put-back then runs unguarded.
      if (signal.aborted) await base.putBack(m);
      else await guard.run(() => base.putBack(m));
    },
    take: async (selection) => {
      if (signal.aborted) return [];
      const handed = handedOver.shift();
      // With native wake-ups the take is the first call after a wake-up (no pending check first), and a
      // wake-up may be the server going away: a take slow to answer is probed, so the outage is reported.
      const got = handed ? [handed] : ((await guard.run(() => base.take(selection), probe)) ?? []);
      if (got.length > 0) {
        monitor.markActive();
        if (mode.kind === "peek") lastSeen = got[got.length - 1]!.ts;
      }
      return got;
    },
    idle: async () => {
      // Offer this watch to writers of this process until something arrives.
      const after = mode.kind === "consume" ? mode.after : lastSeen;
      const withdraw = offer?.(queue, {
        after,
        claims: mode.kind === "consume",
        accept: (m) => {
          handedOver.push(m);
          monitor.poke();
        },
      });
      try {
        for (;;) {
          await monitor.wait(signal);
          if (signal.aborted) break;
          if (file && (await reopenIfReplaced(backend, file))) break;
          // Native wake-ups: the take that follows is the check (one round trip; docs/outages.md#wake-ups-and-round-trips).
          if (handedOver.length > 0 || config.skipIdleCheck || monitor.native) break;
          if ((await guard.run(() => backend.hasPending(queue, after))) !== false) break;
        }
      } finally {
        withdraw?.();
      }
      return !signal.aborted;
    },
    close: async () => {
      clearInterval(keepAlive);
      offFile?.();
      monitor.close();
      for (const m of handedOver.splice(0)) {
        try {
          await base.putBack(m);
        } catch {
          // the store is gone (closed under the watch): the message stays claimed, as after a crash
        }
      }
    },
  };
  const selection = mode.kind === "move" ? {} : { after: mode.after };
  return { loop: walk({ kind, selection }), source };
}

/**
 * True when the database file was replaced: the stale connection is closed, so
 * the next call opens the new file. A missing file changes nothing (the old
 * connection reads on and creates nothing); a missing folder throws.
 */
async function reopenIfReplaced(backend: Backend, file: FileIdentity): Promise<boolean> {
  if (file.check() !== "replaced") return false;
  await backend.close();
  return true;
}
