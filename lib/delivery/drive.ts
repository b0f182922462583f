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
  // store and `deliver`, which a walk of a million messages would pay for each one. The steps run
  // in a plain function (Walker.run) for as long as each is answered at once; this async function
  // only waits where a step is really pending.
  const walker = new Walker(loop, source, deliver, signal, signal ? new Grace(signal, graceMs) : undefined);
  let finished = false;
  try {
    for (let pending = walker.run(); pending !== undefined; ) {
      let value: unknown;
      let failure: { error: unknown } | undefined;
      try {
        value = await pending;
      } catch (error) {
        failure = { error };
      }
      pending = walker.resume(value, failure);
    }
    finished = !signal?.aborted;
  } catch (error) {
    if (!(error instanceof StopRequest)) throw error;
    finished = true;
  } finally {
    walker.grace?.dispose();
    if (!finished) for (let s = loop.return(); !s.done; s = loop.next((await doAsync(s.value, source)) as never));
  }
  return signal?.aborted ? { delivered: walker.delivered, stopped: signal.reason } : { delivered: walker.delivered };
}

// --- internal ---

/** How long {@link deliverEach} may run without letting the event loop turn. */
const TURN_MS = 100;

class StopRequest extends Error {
  override name = "StopRequest";
}

/**
 * The steps of {@link deliverEach}: {@link run} does them while each is
 * answered or delivered at once, and hands back the first promise that is
 * not; {@link resume} takes its outcome and goes on. An error thrown by the
 * loop itself (after its put-backs) leaves both.
 */
class Walker {
  delivered = 0;
  readonly loop: Loop;
  readonly source: AsyncSource;
  readonly deliver: (message: Message) => Promise<void>;
  readonly signal: AbortSignal | undefined;
  readonly grace: Grace | undefined;
  #r: IteratorResult<Step, void>;
  #turn = performance.now();
  /** What the promise {@link run} handed back stands for. */
  #waiting: "answer" | "delivery" | "turn" = "answer";

  constructor(loop: Loop, source: AsyncSource, deliver: Walker["deliver"], signal?: AbortSignal, grace?: Grace) {
    [this.loop, this.source, this.deliver, this.signal, this.grace] = [loop, source, deliver, signal, grace];
    this.#r = loop.next();
  }

  /** Do steps until one is pending (returned) or the walk ends (undefined). */
  run(): Promise<unknown> | undefined {
    const { loop, signal } = this;
    while (!this.#r.done) {
      const step = this.#r.value;
      let answer: unknown;
      try {
        if (step.op !== "deliver") {
          // A local store answers at once: take the value without waiting a turn for it.
          const answered = step.op === "take" ? this.source.take(step.selection) : doAsync(step, this.source);
          if (Bun.peek.status(answered) !== "fulfilled") return this.#wait("answer", answered);
          answer = Bun.peek(answered);
        } else {
          if (signal) {
            // A walk on a local store may never reach the event loop, where a stop request (a
            // signal handler) would run: give it a turn now and then, before delivering.
            if (performance.now() - this.#turn > TURN_MS) return this.#wait("turn", new Promise((r) => setImmediate(r)));
            if (signal.aborted) throw new StopRequest();
          }
          const done = this.deliver(step.message);
          if (done !== DELIVERED && Bun.peek.status(done) !== "fulfilled") {
            return this.#wait("delivery", this.grace ? this.grace.run(done) : done);
          }
          if (this.#counted()) return undefined;
        }
      } catch (error) {
        this.#r = loop.throw(error); // puts the message back, then rethrows
        continue;
      }
      this.#r = loop.next(answer as never);
    }
    return undefined;
  }

  /** Go on after the promise {@link run} returned settled (`failure` when it rejected). */
  resume(value: unknown, failure: { error: unknown } | undefined): Promise<unknown> | undefined {
    if (failure) this.#r = this.loop.throw(failure.error);
    else if (this.#waiting === "turn") this.#turn = performance.now();
    else if (this.#waiting === "answer") this.#r = this.loop.next(value as never);
    else if (this.#counted()) return undefined;
    else this.#r = this.loop.next(undefined as never);
    return this.run();
  }

  #wait(what: "answer" | "delivery" | "turn", promise: Promise<unknown>): Promise<unknown> {
    this.#waiting = what;
    return promise;
  }

  /** Count a delivery; true when a stop was requested meanwhile (the walk ends there). */
  #counted(): boolean {
    this.delivered++;
    return this.signal?.aborted === true;
  }
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
