/**
 * Workers: `process(handler, options)` on `Queue` and `AsyncQueue`
 * (docs/leases.md#library-and-cli). Each message is taken under a lease and
 * handed to `handler`; success acks it, a throw releases it with backoff,
 * the lease is extended while the handler runs, and a message that failed
 * `maxAttempts` times moves to the dead-letter queue. Aborting `signal`
 * stops taking new work and waits for the running handlers. A lost
 * connection to the server is waited out as watchers wait it out
 * (docs/outages.md); a job whose ack or release it interrupted comes back
 * when its lease ends.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { LeasedMessage, LeaseSelection } from "../core/leases.ts";
import { validateQueueName } from "../core/validate.ts";
import { backoffDelay, type BackoffOptions } from "../delivery/backoff.ts";
import { checkMs } from "./_broker-leases.ts";
import { type AsyncLeaseOps, Lease } from "./_lease-handle.ts";
import type { LeaseWaiter } from "./_lease-wait.ts";
import { type ConnectionReporter, OutageGuard } from "../watch/reconnect.ts";

/** Options of `process()`. */
export interface ProcessOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Lease length (default 30,000 ms); the lease is extended every third of it while the handler runs. */
  leaseMs?: number;
  /** Deliveries of one message before it is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Delay before a failed message is delivered again (see BackoffOptions; default 1 s doubling, capped at 60 s, jittered). */
  backoff?: BackoffOptions | ((attempt: number) => number);
  /** Where exhausted messages go (default `<queue>.dead`); `false` drops them. */
  deadLetter?: string | false;
  /** Stop taking new work; `process()` resolves once the running handlers finished. */
  signal?: AbortSignal;
  /** Told about every handler failure and every store error of a job (default: nothing). */
  onError?: (error: unknown, job: Lease) => void;
  /** Told when the connection to the server is lost and when it is back (default: a line on stderr each). */
  onConnection?: ConnectionReporter;
}

/** What a handler gets besides the job: the worker's stop signal. */
export interface JobContext {
  signal: AbortSignal;
}

/** A worker's handler. Returning acks the job (unless the handler settled it itself); throwing retries it. */
export type JobHandler = (job: Lease, context: JobContext) => unknown;

/** Counts of a worker's run. */
export interface ProcessResult {
  acked: number;
  /** Handler failures (each one released for a retry, or dead-lettered). */
  failed: number;
  deadLettered: number;
}

/** What a worker runs on: lease operations and a waiter (`BrokerLeases`). */
export interface WorkerSource extends AsyncLeaseOps {
  /** The store as users see it (in outage reports). */
  readonly displayTarget: string;
  lease(queue: string, selection: LeaseSelection): Promise<LeasedMessage[]>;
  waiter(queue: string): LeaseWaiter;
}

/** The default dead-letter queue of `queue`. */
export function deadLetterName(queue: string): string {
  return `${queue}.dead`;
}

/**
 * Run a worker on `queue` until `options.signal` aborts. The name is resolved
 * by `resolve` when given (an `@alias` asks the server, which may be down
 * when the worker starts: that is waited out like any outage).
 */
export async function runWorker(
  source: WorkerSource,
  name: string,
  handler: JobHandler,
  options: ProcessOptions = {},
  resolve?: (name: string) => Promise<string>,
): Promise<ProcessResult> {
  const signal = options.signal ?? new AbortController().signal;
  const result: ProcessResult = { acked: 0, failed: 0, deadLettered: 0 };
  const guard = new OutageGuard(source.displayTarget, signal, options.onConnection);
  const queue = resolve ? await guard.run(() => resolve(name)) : name;
  if (queue === undefined) return result; // stopped before the server answered
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ArgumentError("concurrency must be at least 1");
  const maxAttempts = options.maxAttempts ?? 5;
  if (!(maxAttempts >= 1) || (!Number.isInteger(maxAttempts) && maxAttempts !== Number.POSITIVE_INFINITY)) {
    throw new ArgumentError("maxAttempts must be at least 1");
  }
  const leaseMs = checkMs(options.leaseMs ?? 30_000, "leaseMs");
  const dead = options.deadLetter === undefined ? deadLetterName(queue) : options.deadLetter;
  if (dead !== false) {
    validateQueueName(dead);
    if (dead === queue) throw new ArgumentError("The dead-letter queue cannot be the queue itself");
  }
  const report = (error: unknown, job: Lease) => {
    try {
      options.onError?.(error, job);
    } catch {
      // a failing reporter must not stop the worker
    }
  };

  const exhaust = async (job: Lease) => {
    if (dead === false ? await job.ack() : await job.deadLetter(dead)) result.deadLettered++;
  };
  const runJob = async (job: Lease) => {
    // A message delivered more often than allowed (its workers crashed) is not run again.
    if (job.attempt > maxAttempts) return exhaust(job);
    const timer = setInterval(() => void job.extend(leaseMs).catch((e) => report(e, job)), Math.max(10, leaseMs / 3));
    try {
      await handler(job, { signal });
      if (!job.settled && (await job.ack())) result.acked++;
    } catch (error) {
      result.failed++;
      report(error, job);
      if (job.settled) return;
      if (job.attempt >= maxAttempts) await exhaust(job);
      else await job.release({ delayMs: backoffDelay(job.attempt, options.backoff) });
    } finally {
      clearInterval(timer);
    }
  };

  const running = new Set<Promise<void>>();
  let jobEnded: (() => void) | undefined;
  const start = (job: Lease) => {
    const p = runJob(job)
      .catch((e) => report(e, job))
      .finally(() => {
        running.delete(p);
        jobEnded?.();
      });
    running.add(p);
  };
  const waiter = source.waiter(queue);
  try {
    while (!signal.aborted) {
      if (running.size >= concurrency) {
        await waitFor(signal, (wake) => (jobEnded = wake));
        continue;
      }
      const got = (await guard.run(() => source.lease(queue, { leaseMs, limit: concurrency - running.size }))) ?? [];
      const jobs = got.map((m) => new Lease(source, queue, m));
      if (signal.aborted) {
        // Taken while stopping: give them back untouched.
        for (const job of jobs) await job.release().catch((e) => report(e, job));
        break;
      }
      if (jobs.length > 0) {
        waiter.markActive();
        for (const job of jobs) start(job);
        continue;
      }
      // Nothing to lease: wait for a wake-up, a held message falling due, or a running job ending.
      const stop = new AbortController();
      jobEnded = () => stop.abort();
      const onAbort = () => stop.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await guard.run(() => waiter.wait(stop.signal));
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }
  } finally {
    jobEnded = undefined;
    await Promise.allSettled([...running]);
    waiter.close();
  }
  return result;
}

/** Resolve on abort or when the wake function handed to `setWake` is called. */
function waitFor(signal: AbortSignal, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    setWake(done);
    signal.addEventListener("abort", done, { once: true });
    if (signal.aborted) done();
  });
}
