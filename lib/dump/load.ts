/**
 * `load`: read `simplebroker-dump` v1 lines (docs/dump-format.md), validate
 * each record as it streams past and hand the valid ones to the backend's
 * load capability, which applies them in one transaction where it has them.
 * Any problem is an ArgumentError `invalid dump input at line N: <problem>`.
 * @module
 */
import { ArgumentError, BackendError } from "../core/errors.ts";
import type { Backend, LoadRecord, LoadResult } from "../core/types.ts";
import { validateQueueName } from "../core/validate.ts";
import { decodeHybridTimestamp, wallClockNs } from "../time/timestamp.ts";

/** Options of {@link loadDump}. */
export interface LoadOptions {
  /** Load a header whose `last_ts` is further ahead of the clock than `maxFutureSkewSeconds` (with a warning). */
  force?: boolean;
  /** Default 300 (`BROKER_LOAD_MAX_FUTURE_SKEW_SECONDS`). */
  maxFutureSkewSeconds?: number;
  /** Called with a warning (a header ahead of the clock). */
  warn?: (text: string) => void;
  /** Called after each message record handed on (progress). */
  onMessage?: () => void;
}

const ID_RE = /^[0-9]{19}$/;
const ID_LIMIT = 1n << 63n;

/** The error for a problem at `line`. */
export function dumpInputError(line: number, problem: string): ArgumentError {
  return new ArgumentError(`invalid dump input at line ${line}: ${problem}`);
}

/** Load the dump `lines` (each without its newline) into `backend`. */
export async function loadDump(backend: Backend, lines: AsyncIterable<string>, options: LoadOptions = {}): Promise<LoadResult> {
  if (!backend.load) throw new BackendError(`The ${backend.name} backend cannot load dumps`);
  const it = numbered(lines)[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value[1] === "") first = await it.next();
  if (first.done) throw new ArgumentError("invalid dump input: missing header (is this a simplebroker dump?)");
  const [headerAt, headerText] = first.value;
  const lastTs = checkHeader(parse(headerAt, headerText), headerAt, options);
  return backend.load({
    lastTs,
    records: records(it, lastTs, options.onMessage),
    reject: (record, problem) => dumpInputError(record.line, problem),
  });
}

// --- internal ---

async function* numbered(lines: AsyncIterable<string>): AsyncGenerator<[number, string]> {
  let n = 0;
  for await (const line of lines) yield [++n, line.trim()];
}

function parse(line: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw dumpInputError(line, `malformed JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw dumpInputError(line, "record must be a JSON object");
  return value as Record<string, unknown>;
}

function checkHeader(r: Record<string, unknown>, line: number, options: LoadOptions): bigint {
  if (r.type !== "header") throw dumpInputError(line, "first record must be the dump header");
  if (r.format !== "simplebroker-dump") throw dumpInputError(line, "unrecognized dump format");
  if (r.version !== 1)
    throw dumpInputError(line, `unsupported dump version ${JSON.stringify(r.version) ?? "None"} (supported: 1)`);
  if (!("last_ts" in r)) throw dumpInputError(line, "header requires 'last_ts'");
  const lastTs = parseId(r.last_ts);
  if (lastTs === undefined) throw dumpInputError(line, "invalid header last_ts");
  const aheadNs = decodeHybridTimestamp(lastTs).physicalNs - wallClockNs();
  if (aheadNs > 0n) {
    const seconds = Number(aheadNs) / 1e9;
    const max = options.maxFutureSkewSeconds ?? 300;
    options.warn?.(`dump header last_ts ${r.last_ts} is ${seconds.toFixed(3)} seconds ahead of local wall time`);
    if (seconds > max && !options.force) {
      throw dumpInputError(line, `dump header future skew exceeds configured maximum of ${max} seconds`);
    }
  }
  return lastTs;
}

/** An id as the format writes it (19 digits) or a non-negative integer below 2^63. */
function parseId(value: unknown): bigint | undefined {
  if (typeof value === "string") return ID_RE.test(value) && BigInt(value) < ID_LIMIT ? BigInt(value) : undefined;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

async function* records(
  it: AsyncIterator<[number, string]>,
  lastTs: bigint,
  onMessage?: () => void,
): AsyncGenerator<LoadRecord, void, undefined> {
  for (let next = await it.next(); !next.done; next = await it.next()) {
    const [line, text] = next.value;
    if (text === "") continue;
    const r = parse(line, text);
    if (r.type === "message") {
      if (typeof r.queue !== "string" || typeof r.body !== "string") {
        throw dumpInputError(line, "message record requires string 'queue' and 'body' fields");
      }
      const id = parseId(r.id);
      if (id === undefined) throw dumpInputError(line, "invalid message ID: expected exactly 19 digits within range");
      if (id === 0n) throw dumpInputError(line, "message id 0 is reserved");
      if (id > lastTs) throw dumpInputError(line, "message id exceeds header last_ts");
      checkName(line, r.queue);
      yield { kind: "message", queue: r.queue, body: r.body, id, line };
      onMessage?.();
    } else if (r.type === "alias") {
      if (typeof r.alias !== "string" || typeof r.target !== "string") {
        throw dumpInputError(line, "alias record requires string 'alias' and 'target' fields");
      }
      checkName(line, r.alias);
      checkName(line, r.target);
      if (r.alias === r.target) throw dumpInputError(line, "an alias cannot point to itself");
      yield { kind: "alias", alias: r.alias, target: r.target, line };
    } else if (r.type === "header") {
      throw dumpInputError(line, "duplicate header");
    } else {
      throw dumpInputError(line, `unknown record type ${JSON.stringify(r.type) ?? "None"}`);
    }
  }
}

function checkName(line: number, name: string): void {
  try {
    validateQueueName(name);
  } catch (error) {
    throw dumpInputError(line, (error as Error).message);
  }
}
