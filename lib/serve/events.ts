/**
 * Live queue counts for `GET /api/events`: one {@link ChangeFeed} per
 * handler re-reads the per-queue counts whenever the backend's wake-ups say
 * something may have changed, and tells every subscriber which queues did.
 *
 * Wake-ups are the ones watchers use, taken from the backend's capabilities:
 * - native ones (`waitForActivity`: PostgreSQL LISTEN/NOTIFY, Redis pub/sub),
 *   through an {@link ActivityMonitor} following every known queue. They
 *   announce writes and moves into those queues, broadcasts and deletes of
 *   everything; the monitor's slow fallback (1–2 s) catches what they do not
 *   announce: claims by other processes and queues created since the last look;
 * - otherwise activity hints (`onActivity`: on SQLite a write of this process
 *   or a change of the `-wal` file, i.e. a commit of any process) and the
 *   `dataVersion` counter (SQLite's `PRAGMA data_version`), checked in a burst
 *   after each hint and every `BROKER_MAX_INTERVAL` otherwise, as watchers do.
 *   The counts are read again only when the counter moved;
 * - a backend with none of these is counted once a second.
 * Changes made through the handler itself wake the feed at once.
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
/** Look interval of a backend that can neither notify nor tell that something changed (ms). */
const BLIND_LOOK_MS = 1000;

/** Turns wake-ups into lists of changed queues; runs only while someone listens. */
export class ChangeFeed {
  readonly #broker: Broker;
  readonly #listeners = new Set<Listener>();
  #snapshot = new Map<string, QueueCounts>();
  #stop: AbortController | undefined;
  #monitor: ActivityMonitor | undefined;
  #dirty = true;
  /** Checks since the last hint or change: the first ones come quickly (a -wal event precedes its commit). */
  #quiet = 0;
  #wake: (() => void) | undefined;
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
    this.#hint();
  }

  /** Stop watching (subscribers are kept only by {@link subscribe}). */
  close(): void {
    this.#stop?.abort();
    this.#stop = undefined;
    this.#monitor = undefined;
  }

  // --- internal ---

  async #loop(signal: AbortSignal): Promise<void> {
    const backend = this.#broker.backend;
    const native = backend.waitForActivity !== undefined;
    this.#dirty = true;
    this.#snapshot = new Map();
    let monitor: ActivityMonitor | undefined;
    let monitored = "";
    const offHints = native ? undefined : backend.onActivity?.(() => this.#hint());
    signal.addEventListener("abort", () => this.#wake?.(), { once: true });
    while (!signal.aborted) {
      try {
        if (await this.#changed()) {
          this.#publish(await this.snapshot());
          this.#quiet = 0;
          // Counting every queue is a scan: under a stream of commits, look at most every MIN_LOOK_MS.
          await this.#sleep(MIN_LOOK_MS, signal, false);
        }
        if (!native) {
          await this.#sleep(this.#nextDelayMs(), signal, true);
          continue;
        }
        // Native wake-ups are per queue: follow the queues that exist now.
        const key = [...this.#snapshot.keys()].join("\0");
        if (!monitor || key !== monitored) {
          monitor?.close();
          monitor = this.#monitor = new ActivityMonitor(backend, [...this.#snapshot.keys()], this.#broker.config);
          monitored = key;
        }
        this.#dirty = true; // woken by a notification or the fallback: look
        await monitor.wait(signal);
      } catch {
        // the store is unreachable for now: try again shortly, subscribers keep their last counts
        await this.#sleep(500, signal, false);
      }
    }
    monitor?.close();
    offHints?.();
  }

  /** Whether to read the counts: a local change, a moved data version, or no way to tell. */
  async #changed(): Promise<boolean> {
    const backend = this.#broker.backend;
    if (!backend.dataVersion) {
      const dirty = this.#dirty || backend.waitForActivity === undefined;
      this.#dirty = false;
      return dirty;
    }
    const v = await backend.dataVersion();
    const moved = v !== this.#dataVersion;
    this.#dataVersion = v;
    const dirty = this.#dirty;
    this.#dirty = false;
    return dirty || moved;
  }

  /** A burst of quick checks after a hint (1, 2, 4 … ms), then every `BROKER_MAX_INTERVAL`. */
  #nextDelayMs(): number {
    const backend = this.#broker.backend;
    if (!backend.dataVersion) return BLIND_LOOK_MS;
    const steady = Math.max(1, this.#broker.config.maxInterval * 1000);
    return Math.min(2 ** this.#quiet++, steady);
  }

  #hint(): void {
    this.#quiet = 0;
    this.#wake?.();
    this.#monitor?.poke();
  }

  /** Sleep `ms`, or less when `wakeable` and a hint or poke comes. */
  #sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      if (wakeable) this.#wake = done;
    });
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
      // Changes seen before the first `queues` event is sent wait for it, so that event always comes first.
      let held: QueueCounts[] | undefined = [];
      const sendChanges = (changed: QueueCounts[]) => {
        for (const q of changed) send(`event: queue\ndata: ${JSON.stringify(q)}\n\n`);
      };
      const unsubscribe = feed.subscribe((changed) => {
        if (held) held.push(...changed);
        else sendChanges(changed);
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
        const early = held;
        held = undefined;
        sendChanges(early);
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
