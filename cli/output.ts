/**
 * The only writer of stdout (message data, `--json` lines, list and status
 * lines) and `log`, consola (created on first use) for everything else, on stderr.
 * Each stdout write is awaited, so a closed pipe is noticed at once (EPIPE)
 * and the caller can stop before consuming more messages (docs/compatibility.md#q8-closed-stdout); stderr
 * writes are synchronous.
 * @module
 */
// consola/core: the same createConsola without the default reporters and environment probing of the
// package root, which cost ~25 ms of start-up; we pass our own reporter and level anyway.
import type { ConsolaInstance } from "consola/core";
import { fs } from "../lib/util/fs-lazy.ts";
import type { Message } from "../lib/core/types.ts";
import { ConfigError } from "../lib/core/errors.ts";
import { DELIVERED } from "../lib/delivery/drive.ts";

let idsAsStrings = false;

/** Thrown by {@link out} when the reader of stdout went away. */
export class ClosedStdoutError extends Error {
  override name = "ClosedStdoutError";
}

/**
 * Write text to stdout; resolves once all of it is written and throws
 * {@link ClosedStdoutError} when the reader went away (EPIPE), so a caller
 * awaits each record before it consumes the next. `Bun.write` rather than
 * `node:fs`, whose loading alone costs a compiled CLI 3-5 ms.
 */
export function out(text: string): Promise<void> {
  if (text === "") return DELIVERED;
  // No async wrapper: `read --all` calls this once per message. A write that finished at once
  // (stdout is written synchronously where it can be) returns DELIVERED, which a walk need not await.
  let write: Promise<unknown>;
  try {
    write = Bun.write(Bun.stdout, text);
  } catch (error) {
    return Promise.reject(stdoutError(error));
  }
  return Bun.peek.status(write) === "fulfilled" ? DELIVERED : write.then(nothing, rejectStdout);
}

const nothing = (): void => {};
const rejectStdout = (error: unknown): never => {
  throw stdoutError(error);
};

/** A failed stdout write as {@link ClosedStdoutError} when the reader went away, else unchanged. */
function stdoutError(error: unknown): unknown {
  const code = (error as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "EBADF" || code === "ECONNRESET" ? new ClosedStdoutError(code) : error;
}

/** Write text to stderr synchronously (errors ignored). */
export function err(text: string): void {
  try {
    writeAll(2, Buffer.from(text, "utf8"));
  } catch {
    // nowhere left to report
  }
}

let quiet = false;

let consola: ConsolaInstance | undefined;

/** The consola instance behind {@link log}, created on first use (commands that print no diagnostics never load it). */
function logger(): ConsolaInstance {
  if (consola) return consola;
  const { createConsola } = require("consola/core") as typeof import("consola/core");
  return (consola = createConsola({
    level: 3,
    reporters: [
      {
        log: (entry) => {
          if (quiet && entry.level > 0) return;
          err(`${entry.args.map(String).join(" ")}\n`);
        },
      },
    ],
  }));
}

/** Diagnostics on stderr, one plain line per call; `--quiet` silences all but errors. */
export const log = {
  info: (message: unknown, ...args: unknown[]) => logger().info(message, ...args),
  warn: (message: unknown, ...args: unknown[]) => logger().warn(message, ...args),
  error: (message: unknown, ...args: unknown[]) => logger().error(message, ...args),
};

/** Silence status chatter (`-q`); errors still print. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/** How message records are printed (docs/compatibility.md#output). */
export interface RecordFormat {
  json?: boolean;
  timestamps?: boolean;
}

/**
 * How ids appear in JSON output, from `BROKER_JSON_IDS`: `number` (the
 * default, unset or empty) prints the bare integer as 3.6.1 does; `string`
 * prints a quoted 19-digit string, which JavaScript's `JSON.parse` keeps exact.
 * Any other value is a configuration error.
 */
export function setJsonIds(value: string | undefined): void {
  if (value === undefined || value === "" || value === "number") idsAsStrings = false;
  else if (value === "string") idsAsStrings = true;
  else throw new ConfigError(`Invalid BROKER_JSON_IDS '${value}': expected 'number' or 'string'`, { key: "BROKER_JSON_IDS" });
}

/** An id as a JSON value (see {@link setJsonIds}). */
export function jsonId(ts: bigint): string {
  return idsAsStrings ? `"${String(ts).padStart(19, "0")}"` : String(ts);
}

/** One message record in plain, `-t` or `--json` form, with its trailing newline. */
export function formatMessage(m: Message, fmt: RecordFormat): string {
  if (fmt.json) return `{"message": ${JSON.stringify(m.body)}, "timestamp": ${jsonId(m.ts)}}\n`;
  if (fmt.timestamps) return `${m.ts}\t${m.body}\n`;
  return `${m.body}\n`;
}

/** Python-`json.dumps`-style string with non-ASCII escaped (ensure_ascii=True), for error lines. */
export function asciiJson(value: string): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// --- internal ---

function writeAll(fd: number, buf: Buffer): void {
  let offset = 0;
  let spins = 0;
  while (offset < buf.length) {
    try {
      offset += fs().writeSync(fd, buf, offset, buf.length - offset);
      spins = 0;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EAGAIN" && spins++ < 100_000) {
        Bun.sleepSync(1);
        continue;
      }
      throw error;
    }
  }
}
