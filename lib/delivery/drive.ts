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
  const messages = iterateAsync(loop, source);
  let delivered = 0;
  let turn = performance.now();
  try {
    for (let r = await messages.next(); !r.done; ) {
      // A walk on a local store can run on promise jobs alone, never reaching the event loop,
      // where a stop request (a signal handler) would run: give it a turn every few ms.
      if (signal && performance.now() - turn > TURN_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turn = performance.now();
      }
      try {
        if (signal?.aborted) throw new StopRequest();
        await (signal ? withGrace(deliver(r.value), signal, graceMs) : deliver(r.value));
      } catch (error) {
        await messages.throw(error); // puts the message back, then rethrows
      }
      delivered++;
      if (signal?.aborted) break;
      r = await messages.next();
    }
  } catch (error) {
    if (!(error instanceof StopRequest)) throw error;
  } finally {
    await messages.return();
  }
  return signal?.aborted ? { delivered, stopped: signal.reason } : { delivered };
}

// --- internal ---

/** How long {@link deliverEach} may run without letting the event loop turn. */
const TURN_MS = 5;

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

/** `work`, or a {@link StopRequest} when `signal` aborted and `work` is still pending `graceMs` later. */
function withGrace(work: Promise<void>, signal: AbortSignal, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(new StopRequest()), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    });
  });
}
