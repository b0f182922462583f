/**
 * Live queue counts for `GET /api/events`: one {@link ChangeFeed} per
 * handler re-reads the per-queue counts whenever the watchers' wake-ups say
 * something may have changed, and tells every subscriber which queues did.
 *
 * Wake-ups are an {@link ActivityMonitor}'s: on SQLite, inotify on the -wal
 * file plus `PRAGMA data_version` (commits of any process); on PostgreSQL
 * LISTEN/NOTIFY and on Redis pub/sub (writes and moves into the known
 * queues, broadcasts, deletes of everything), with the monitor's slow
 * fallback (1–2 s) catching what those backends do not announce: claims by
 * other processes and queues created since the last look. Changes made
 * through the handler itself wake the feed at once.
 * @module
 */
import type { Broker } from "../queue/broker.ts";
import { ActivityMonitor } from "../watch/activity.ts";
import type { QueueStats } from "../core/types.ts";

/** The counts of one queue as sent to clients. */
export interface QueueCounts {
  name: string;
  pending: number;
  claimed: number;
  total: number;
}

type Listener = (changed: QueueCounts[]) => void;

/** Shortest time between two reads of the counts (ms): live enough for people, cheap for the store. */
const MIN_LOOK_MS = 100;

/** Turns wake-ups into lists of changed queues; runs only while someone listens. */
export class ChangeFeed {
  readonly #broker: Broker;
  readonly #listeners = new Set<Listener>();
  #snapshot = new Map<string, QueueCounts>();
  #stop: AbortController | undefined;
  #monitor: ActivityMonitor | undefined;
  #dirty = true;
  #dataVersion: bigint | undefined;

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  /** Every queue's counts right now. */
  async snapshot(): Promise<QueueCounts[]> {
    return (await this.#broker.listStats()).map(toCounts);
  }

  /** Call `fn` with the queues that changed, until the returned function is called. */
  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    if (!this.#stop) {
      this.#stop = new AbortController();
      void this.#loop(this.#stop.signal);
    }
    return () => {
      this.#listeners.delete(fn);
      if (this.#listeners.size === 0) this.close();
    };
  }

  /** A change was made through this process: look now. */
  poke(): void {
    this.#dirty = true;
    this.#monitor?.poke();
  }

  /** Stop watching (subscribers are kept only by {@link subscribe}). */
  close(): void {
    this.#stop?.abort();
    this.#stop = undefined;
    this.#monitor = undefined;
  }

  // --- internal ---

  async #loop(signal: AbortSignal): Promise<void> {
    this.#dirty = true;
    this.#snapshot = new Map();
    let monitor: ActivityMonitor | undefined;
    let monitored = "";
    signal.addEventListener("abort", () => monitor?.close(), { once: true });
    while (!signal.aborted) {
      try {
        if (await this.#worthLooking()) {
          this.#publish(await this.snapshot());
          // Counting every queue is a scan: under a stream of commits, look at most every MIN_LOOK_MS.
          await abortableSleep(MIN_LOOK_MS, signal);
        }
        // Native wake-ups are per queue: follow the queues that exist now.
        const key = [...this.#snapshot.keys()].join("\0");
        if (!monitor || key !== monitored) {
          monitor?.close();
          if (signal.aborted) break;
          monitor = this.#monitor = new ActivityMonitor(this.#broker.backend, [...this.#snapshot.keys()], this.#broker.config);
          monitored = key;
        }
        await monitor.wait(signal);
      } catch {
        // the store is unreachable for now: try again shortly, subscribers keep their last counts
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    monitor?.close();
  }

  /**
   * On SQLite the monitor returns after each idle backoff step even when nothing
   * happened; the counts are re-read only when a local change or a commit of
   * another connection (data_version) says so. Other backends wake only on
   * notifications or their slow fallback, so they always look.
   */
  async #worthLooking(): Promise<boolean> {
    const backend = this.#broker.backend;
    if (this.#dirty || !backend.dataVersion) {
      this.#dirty = false;
      if (backend.dataVersion) this.#dataVersion = await backend.dataVersion();
      return true;
    }
    const v = await backend.dataVersion();
    const changed = v !== this.#dataVersion;
    this.#dataVersion = v;
    return changed;
  }

  #publish(stats: QueueCounts[]): void {
    const next = new Map(stats.map((s) => [s.name, s]));
    const changed: QueueCounts[] = [];
    for (const s of stats) {
      const old = this.#snapshot.get(s.name);
      if (!old || old.pending !== s.pending || old.claimed !== s.claimed || old.total !== s.total) changed.push(s);
    }
    for (const name of this.#snapshot.keys()) {
      if (!next.has(name)) changed.push({ name, pending: 0, claimed: 0, total: 0 });
    }
    this.#snapshot = next;
    if (changed.length > 0) for (const fn of [...this.#listeners]) fn(changed);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The counts sent for one queue. */
export function toCounts(s: QueueStats): QueueCounts {
  return { name: s.queue, pending: s.pending, claimed: s.claimed, total: s.total };
}

/** Seconds between keep-alive comments: below Bun.serve's default 10 s idle timeout. */
const KEEP_ALIVE_MS = 5_000;

/**
 * A `text/event-stream` response: first `event: queues` with every queue,
 * then `event: queue` with the counts of each queue that changed (all zeros
 * once it is gone). Ends when the client goes away.
 */
export function eventStream(feed: ChangeFeed, req: Request): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const unsubscribe = feed.subscribe((changed) => {
        for (const q of changed) send(`event: queue\ndata: ${JSON.stringify(q)}\n\n`);
      });
      const timer = setInterval(() => send(": keep-alive\n\n"), KEEP_ALIVE_MS);
      stop = () => {
        clearInterval(timer);
        unsubscribe();
        req.signal.removeEventListener("abort", stop);
      };
      req.signal.addEventListener("abort", stop, { once: true });
      try {
        send(`retry: 2000\nevent: queues\ndata: ${JSON.stringify({ queues: await feed.snapshot() })}\n\n`);
      } catch (error) {
        stop();
        controller.error(error);
      }
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
}
