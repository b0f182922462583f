/**
 * Printing message records for read, peek, move and watch, with the
 * newline warning of the shared output path (docs/compatibility.md#output).
 * @module
 */
import { parseMessageId } from "../lib/time/timestamp.ts";
import { parseTimestampBound } from "../lib/time/timestamp.ts";
import type { Message } from "../lib/core/types.ts";
import type { Broker, DeliveryPlan } from "../lib/queue/broker.ts";
import type { ParsedValues } from "./argv.ts";
import type { ExitCode } from "./exit.ts";
import { DELIVERED } from "../lib/delivery/drive.ts";
import { ClosedStdoutError, err, formatMessage, out, type RecordFormat } from "./output.ts";
import { exitAfterSignal, withStopSignals } from "./signals.ts";
import { NO_PROGRESS, type Progress } from "./progress.ts";

const NEWLINE_WARNING =
  "simplebroker: warning: Message contains newline characters which may break shell pipelines. Consider using --json for safe handling of special characters.\n";

/** Characters gathered before a buffered printer writes. */
const FLUSH_AT = 65536;

/** Prints records; warns once about newlines when `shared` (plain mode only). */
export class RecordPrinter {
  readonly format: RecordFormat;
  readonly shared: boolean;
  #warned = false;
  count = 0;
  /** Told about every printed record (`read --all`, `move --all`); see cli/progress.ts. */
  progress: Progress = NO_PROGRESS;

  constructor(args: ParsedValues, shared: boolean) {
    this.format = { json: args.json === true, timestamps: args.timestamps === true };
    this.shared = shared;
  }

  /**
   * Gather records into writes of about 64 KiB instead of one write per record; set by
   * {@link printWalk} for `peek` walks (nothing consumed) and `move` walks (a page is committed
   * before any of it is printed, and a closed stdout does not stop the move).
   */
  buffered = false;
  #pending = "";

  /**
   * Print one record; rejects with ClosedStdoutError when stdout is gone. Buffered, it returns
   * {@link DELIVERED} unless the record filled a write, and so does a write that finished at once.
   * Not an async function: `read --all` and `move --all` call it once per message.
   */
  print(m: Message): Promise<void> {
    if (this.shared && !this.#warned && !this.format.json && !this.format.timestamps && m.body.includes("\n")) {
      this.#warned = true;
      err(NEWLINE_WARNING);
    }
    // Counted before the write ends: a failed write ends the walk (a closed stdout ends it quietly).
    this.count++;
    this.progress.tick();
    if (!this.buffered) return out(formatMessage(m, this.format));
    this.#pending += formatMessage(m, this.format);
    return this.#pending.length >= FLUSH_AT ? this.flush() : DELIVERED;
  }

  /** Write what {@link buffered} printing has gathered. */
  flush(): Promise<void> {
    const text = this.#pending;
    this.#pending = "";
    return out(text);
  }
}

/** The `--after` / `--before` / `-m` values of a command, parsed before any database work. */
export interface Filters {
  after?: bigint;
  before?: bigint;
  exactId?: bigint;
}

/** Parse the selection options: timestamps first, before the database is touched, as 3.6.1 does. */
export function parseFilters(args: ParsedValues): Filters {
  const f: Filters = {};
  if (typeof args.after === "string") f.after = parseTimestampBound(args.after);
  if (typeof args.before === "string") f.before = parseTimestampBound(args.before);
  if (typeof args.message === "string") f.exactId = parseMessageId(args.message);
  return f;
}

/** How {@link printWalk} ended. */
export interface WalkEnd {
  /** Messages taken and handed to the printer (for `move`, also those not printed after stdout closed). */
  delivered: number;
  /** The reader of stdout went away. */
  closed: boolean;
  /** Set when a stop signal ended the walk: the exit status to return. */
  exit?: ExitCode;
}

/**
 * Print every message of a walk or watch through `printer`. A message taken
 * but not printed (stdout closed, or a stop signal arrived first) is put back
 * by the delivery core. With `keepMoving` (`move`), a closed stdout only stops
 * the printing: the move goes on to the end, as in SimpleBroker 3.6.1.
 * `signals`: stop on SIGINT/SIGTERM/SIGHUP, ending as `walk` or `watch` commands do.
 */
export async function printWalk(
  broker: Broker,
  plan: DeliveryPlan,
  printer: RecordPrinter,
  options: { signals?: "walk" | "watch"; keepMoving?: boolean } = {},
): Promise<WalkEnd> {
  let closed = false;
  // A peek walk consumes nothing, and a move walk commits a page before printing any of it (a
  // stop still prints what was delivered, below), so their records go out in 64 KiB writes; read
  // prints each claimed record before claiming the next, and a watch prints as it goes.
  printer.buffered = !("watch" in plan) && (plan.kind === "peek" || plan.kind === "move");
  const stopPrinting = (error: unknown) => {
    if (!(error instanceof ClosedStdoutError)) throw error;
    closed = true;
  };
  const deliver = (m: Message): Promise<void> => {
    if (closed) return DELIVERED;
    const printed = printer.print(m);
    return printed === DELIVERED || !options.keepMoving ? printed : printed.catch(stopPrinting);
  };
  const run = async (signal?: AbortSignal): Promise<WalkEnd> => {
    try {
      const { delivered, stopped } = await broker.deliver(plan, deliver, signal);
      if (printer.buffered) await printer.flush();
      // A signal that came after the walk's last step, while its output drained, still ends it as a stop.
      const reason = stopped ?? (signal?.aborted ? signal.reason : undefined);
      if (reason !== undefined && options.signals) return { delivered, closed, exit: exitAfterSignal(reason, options.signals) };
      return { delivered, closed };
    } catch (error) {
      if (!(error instanceof ClosedStdoutError)) throw error;
      return { delivered: printer.count, closed: true };
    }
  };
  try {
    return await (options.signals ? withStopSignals(run) : run());
  } finally {
    printer.progress.done();
  }
}
