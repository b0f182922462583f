/**
 * Drivers of the delivery loops (`./loops.ts`): they do each {@link Step}
 * against a source of messages. `iterateSync` and `iterateAsync` hand every
 * delivered message to whoever iterates them (a `break` there is a normal
 * end: exactly-once messages stay consumed, an at-least-once batch is rolled
 * back); {@link deliverEach} hands them to a function and puts a message back
 * when that function fails or a stop is requested before it ran.
 * @module
 */
import type { Message, Selection } from "../core/types.ts";
import type { Batch, Loop, Step } from "./loops.ts";

/** A synchronous source: the SQLite store behind `Queue`. */
export interface SyncSource {
  take(selection: Selection): Message[];
  reserve(selection: Selection): Batch & { commit(): void; rollback(): void };
  putBack(message: Message): void;
}

/** An asynchronous source: any backend behind a `Broker`. */
export interface AsyncSource {
  take(selection: Selection): Promise<Message[]>;
  reserve(selection: Selection): Promise<Batch & { commit(): Promise<void>; rollback(): Promise<void> }>;
  putBack(message: Message): Promise<void>;
  /** Wait while nothing is pending; resolve true to look again. Without it, a walk ends when the queue is empty. */
  idle?(): Promise<boolean>;
}

type Reserved<S extends SyncSource | AsyncSource> = Awaited<ReturnType<S["reserve"]>>;

/** Run `loop` on `source`, yielding each delivered message. */
export function* iterateSync(loop: Loop, source: SyncSource): Generator<Message, void, undefined> {
  let r = loop.next();
  let finished = false;
  try {
    while (!r.done) {
      const step = r.value;
      if (step.op === "deliver") {
        yield step.message;
        r = loop.next();
        continue;
      }
      let answer: unknown;
      try {
        answer = doSync(step, source);
      } catch (error) {
        r = loop.throw(error);
        continue;
      }
      r = loop.next(answer as never);
    }
    finished = true;
  } finally {
    // The consumer stopped (or a step failed): let the loop end, doing its clean-up steps.
    if (!finished) for (let s = loop.return(); !s.done; s = loop.next(doSync(s.value, source) as never));
  }
}

/** Run `loop` on `source`, yielding each delivered message; an error thrown in at a yield counts as "not delivered". */
export async function* iterateAsync(loop: Loop, source: AsyncSource): AsyncGenerator<Message, void, undefined> {
  let r = loop.next();
  let finished = false;
  try {
    while (!r.done) {
      const step = r.value;
      let answer: unknown;
      try {
        if (step.op === "deliver") yield step.message;
        else answer = await doAsync(step, source);
      } catch (error) {
        r = loop.throw(error);
        continue;
      }
      r = loop.next(answer as never);
    }
    finished = true;
  } finally {
    if (!finished) for (let s = loop.return(); !s.done; s = loop.next((await doAsync(s.value, source)) as never));
  }
}

/**
 * What a `deliver` function of {@link deliverEach} may return when it has
 * already finished with the message (as may any promise already fulfilled):
 * the walk goes on without waiting a turn for it. A printer gathering records
 * into large writes returns it for most of them.
 */
export const DELIVERED: Promise<void> = Promise.resolve();

/** Why {@link deliverEach} ended. */
export interface DeliveryResult {
  /** Messages `deliver` accepted. */
  delivered: number;
  /** The abort reason, when `signal` stopped the walk. */
  stopped?: unknown;
}

/**
 * Run `loop` on `source`, awaiting `deliver` for each message. When `deliver`
 * throws, the message (and, for claims and moves, the undelivered rest of its
 * page) is put back and the error rethrown. When `signal` aborts, the walk
 * stops at the next step: a message taken but not yet handed to `deliver` is
 * put back; one `deliver` is already writing gets `graceMs` to finish, else
 * it is put back too.
 */
export async function deliverEach(
  loop: Loop,
  source: AsyncSource,
  deliver: (message: Message) => Promise<void>,
  signal?: AbortSignal,
  graceMs = 2000,
): Promise<DeliveryResult> {
  // Drives the loop itself rather than through iterateAsync: no async generator between the
  // store and `deliver`, which a walk of a million messages would pay for each one.
  const grace = signal ? new Grace(signal, graceMs) : undefined;
  let delivered = 0;
  let turn = performance.now();
  let finished = false;
  let r = loop.next();
  try {
    while (!r.done) {
      const step = r.value;
      let answer: unknown;
      try {
        if (step.op === "take") {
          // A local store answers at once: take the value without waiting a turn for it.
          const taken = source.take(step.selection);
          answer = Bun.peek.status(taken) === "fulfilled" ? Bun.peek(taken) : await taken;
        } else if (step.op !== "deliver") answer = await doAsync(step, source);
        else {
          // A walk on a local store can run on promise jobs alone, never reaching the event loop,
          // where a stop request (a signal handler) would run: give it a turn now and then.
          if (signal && performance.now() - turn > TURN_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            turn = performance.now();
          }
          if (signal?.aborted) throw new StopRequest();
          const done = deliver(step.message);
          if (done !== DELIVERED && Bun.peek.status(done) !== "fulfilled") await (grace ? grace.run(done) : done);
          delivered++;
          if (signal?.aborted) break;
        }
      } catch (error) {
        r = loop.throw(error); // puts the message back, then rethrows
        continue;
      }
      r = loop.next(answer as never);
    }
    finished = !signal?.aborted;
  } catch (error) {
    if (!(error instanceof StopRequest)) throw error;
    finished = true;
  } finally {
    grace?.dispose();
    if (!finished) for (let s = loop.return(); !s.done; s = loop.next((await doAsync(s.value, source)) as never));
  }
  return signal?.aborted ? { delivered, stopped: signal.reason } : { delivered };
}

// --- internal ---

/** How long {@link deliverEach} may run without letting the event loop turn. */
const TURN_MS = 100;

class StopRequest extends Error {
  override name = "StopRequest";
}

function doSync<S extends SyncSource>(step: Step, source: S): unknown {
  switch (step.op) {
    case "take":
      return source.take(step.selection);
    case "reserve":
      return source.reserve(step.selection);
    case "end": {
      const batch = step.batch as Reserved<S>;
      return step.commit ? batch.commit() : batch.rollback();
    }
    case "putBack":
      return source.putBack(step.message);
    case "idle":
      return false;
    case "deliver":
      throw new Error("deliver is not a source operation");
  }
}

async function doAsync<S extends AsyncSource>(step: Step, source: S): Promise<unknown> {
  switch (step.op) {
    case "take":
      return source.take(step.selection);
    case "reserve":
      return source.reserve(step.selection);
    case "end": {
      const batch = step.batch as Reserved<S>;
      return step.commit ? batch.commit() : batch.rollback();
    }
    case "putBack":
      return source.putBack(step.message);
    case "idle":
      return source.idle ? source.idle() : false;
    case "deliver":
      throw new Error("deliver is not a source operation");
  }
}

/**
 * After `signal` aborts, the delivery in progress gets `graceMs` to finish;
 * then it is abandoned with a {@link StopRequest}. One listener and at most
 * one timer per walk, one promise per delivery.
 */
class Grace {
  readonly #signal: AbortSignal;
  readonly #onAbort: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abandon: ((error: StopRequest) => void) | undefined;

  constructor(signal: AbortSignal, graceMs: number) {
    this.#signal = signal;
    this.#onAbort = () => {
      this.#timer ??= setTimeout(() => this.#abandon?.(new StopRequest()), graceMs);
    };
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** `work`, or a rejection with {@link StopRequest} when the grace runs out first. */
  run(work: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#abandon = reject;
      work.then(resolve, reject);
    });
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#signal.removeEventListener("abort", this.#onAbort);
  }
}
