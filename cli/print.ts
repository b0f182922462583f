/**
 * Printing message records for read, peek, move and watch, with the
 * newline warning of the shared output path (docs/compatibility.md#output).
 * @module
 */
import { parseMessageId } from "../lib/time/timestamp.ts";
import { parseTimestampBound } from "../lib/time/timestamp.ts";
import type { Message } from "../lib/core/types.ts";
import type { ParsedValues } from "./argv.ts";
import { err, formatMessage, out, type RecordFormat } from "./output.ts";

const NEWLINE_WARNING =
  "simplebroker: warning: Message contains newline characters which may break shell pipelines. Consider using --json for safe handling of special characters.\n";

/** Prints records; warns once about newlines when `shared` (plain mode only). */
export class RecordPrinter {
  readonly format: RecordFormat;
  readonly shared: boolean;
  #warned = false;
  count = 0;

  constructor(args: ParsedValues, shared: boolean) {
    this.format = { json: args.json === true, timestamps: args.timestamps === true };
    this.shared = shared;
  }

  /** Print one record; throws ClosedStdoutError when stdout is gone. */
  async print(m: Message): Promise<void> {
    if (this.shared && !this.#warned && !this.format.json && m.body.includes("\n")) {
      this.#warned = true;
      err(NEWLINE_WARNING);
    }
    await out(formatMessage(m, this.format));
    this.count++;
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
