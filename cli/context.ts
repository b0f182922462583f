/**
 * What a command runs with: the global options, the configuration, the
 * resolved target and a lazily opened {@link Broker}, plus stdin helpers.
 * @module
 */
import { fs } from "../lib/util/fs-lazy.ts";
import { Broker } from "../lib/queue/broker.ts";
import { createBackend, localFilesOf } from "../lib/backends/index.ts";
import { openCurrentDatabase, openEmptyDatabase, openedFilePath, validateDatabaseFile } from "../lib/backends/sqlite/schema.ts";
import { resolveCliTarget } from "./target.ts";
import { ArgumentError, BackendError, MessageError } from "../lib/core/errors.ts";
import { utf8Length } from "../lib/core/validate.ts";
import type { BrokerConfig, BrokerTarget } from "../lib/core/types.ts";
import type { Database } from "bun:sqlite";
import type { CommandName, GlobalOptions } from "./argv.ts";

/** The state one CLI invocation shares between its parts. */
export class CliContext {
  readonly globals: GlobalOptions;
  readonly command: CommandName | undefined;
  readonly config: BrokerConfig;
  readonly cwd: string;
  #target: BrokerTarget | undefined;
  #broker: Broker | undefined;
  /** The database opened while the target was validated, handed to the backend (or closed). */
  #opened: { path: string; db: Database } | undefined;

  constructor(globals: GlobalOptions, command: CommandName | undefined, config: BrokerConfig, cwd = process.cwd()) {
    this.globals = globals;
    this.command = command;
    this.config = config;
    this.cwd = cwd;
  }

  /** The target of this invocation (docs/compatibility.md#target-resolution), resolved once. */
  target(): BrokerTarget {
    return (this.#target ??= resolveCliTarget(
      {
        command: this.command,
        dir: this.globals.dir ?? "",
        dirExplicit: this.globals.dir !== undefined,
        file: this.globals.file ?? this.config.defaultDbName,
        fileExplicit: this.globals.file !== undefined,
        cwd: this.cwd,
        locate: (path) => this.#locate(path),
      },
      this.config,
    ));
  }

  /** Open an existing, current database at `path` once, keep it for the backend, and say where it really is. */
  #locate(path: string): string | undefined {
    const opened = openCurrentDatabase(path, this.config);
    if (!opened) return undefined;
    this.#opened = { path, db: opened.db };
    return opened.file ?? openedFilePath(opened.db);
  }

  /** The broker on the target, opened on first use and closed by {@link close}. */
  async broker(): Promise<Broker> {
    if (this.#broker) return this.#broker;
    const target = this.target();
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened && target.legacySqlitePathMode && target.target === opened.path) {
      // Validated by opening it: an existing SQLite file with the current schema, so the header check before reading commands holds.
      const { createSqliteBackend } = await import("../lib/backends/sqlite/index.ts");
      this.#broker = new Broker(createSqliteBackend(opened.path, this.config, opened.db), this.config, target);
      return this.#broker;
    }
    opened?.db.close();
    const files = localFilesOf(target.backendName);
    if (
      files &&
      !target.legacySqlitePathMode &&
      this.command !== undefined &&
      !["init", "write", "broadcast"].includes(this.command) &&
      !files.isStore(target.target)
    ) {
      throw new BackendError(`Database file does not exist or is not initialized: ${target.target}`);
    }
    // An existing file is validated (without magic) before these commands open it (docs/compatibility.md#safe-paths).
    // A plain -d/-f path is always a SQLite file.
    if (target.legacySqlitePathMode && ["read", "peek", "exists", "move", "list", "stats"].includes(this.command ?? "")) {
      if (fs().existsSync(target.target)) await validateSettled(target.target);
      else if (this.command !== "read" && this.command !== "move") {
        // A read-only command never creates a database: where none exists it sees an empty one (docs/paths.md).
        const { createSqliteBackend } = await import("../lib/backends/sqlite/index.ts");
        const empty = createSqliteBackend(target.target, this.config, openEmptyDatabase());
        this.#broker = new Broker(empty, this.config, target);
        return this.#broker;
      }
    }
    this.#broker = new Broker(await createBackend(target, this.config), this.config, target);
    return this.#broker;
  }

  async close(): Promise<void> {
    this.#opened?.db.close();
    this.#opened = undefined;
    const b = this.#broker;
    this.#broker = undefined;
    await b?.close();
  }

  /**
   * The message text of `write`/`broadcast`: the argument, or stdin for `-`
   * (and for a missing argument when stdin is not a terminal). Sizes are in
   * UTF-8 bytes; stdin must be valid UTF-8 (docs/compatibility.md#input-limits).
   */
  messageText(arg: string | undefined): string {
    const max = this.config.maxMessageSize;
    if (arg !== undefined && arg !== "-") {
      if (arg.length * 3 > max && utf8Length(arg) > max) {
        throw new MessageError(`Message exceeds maximum size of ${max} bytes`);
      }
      return arg;
    }
    if (arg === undefined && stdinIsTerminal()) {
      throw new ArgumentError("message is required when stdin is a terminal; pass a message or pipe input");
    }
    return readStdin(max);
  }
}

// --- internal ---

/**
 * `isatty(0)`, with node:tty loaded only here: a static import of it costs
 * ~10 ms of start-up in the compiled binary, paid by every command.
 */
function stdinIsTerminal(): boolean {
  return (require("node:tty") as typeof import("node:tty")).isatty(0);
}

function readStdin(max: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = fs().readSync(0, buf, 0, buf.length, null);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EAGAIN") {
        Bun.sleepSync(1);
        continue;
      }
      if (code === "EOF") break;
      throw new BackendError(`Cannot read stdin: ${(error as Error).message}`, { cause: error });
    }
    if (n <= 0) break;
    total += n;
    if (total > max) throw new MessageError(`Input exceeds maximum size of ${max} bytes`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new MessageError(`'utf-8' codec ${utf8Error(bytes)}`);
  }
}

/** Python's UnicodeDecodeError text for the first bad sequence: "can't decode byte 0xff in position 0: invalid start byte". */
function utf8Error(b: Buffer): string {
  const fail = (start: number, end: number, reason: string) =>
    end - start === 1
      ? `can't decode byte 0x${b[start]!.toString(16).padStart(2, "0")} in position ${start}: ${reason}`
      : `can't decode bytes in position ${start}-${end - 1}: ${reason}`;
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2 || c > 0xf4) return fail(i, i + 1, "invalid start byte");
    const len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    // Allowed range of the second byte (no overlongs, no surrogates, nothing above U+10FFFF).
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < len; k++) {
      if (i + k >= b.length) return fail(i, b.length, "unexpected end of data");
      const x = b[i + k]!;
      if (k === 1 ? x < lo || x > hi : (x & 0xc0) !== 0x80) return fail(i, i + k, "invalid continuation byte");
    }
    i += len;
  }
  return "can't decode: invalid utf-8";
}

/**
 * {@link validateDatabaseFile} for a file another process may be creating right now: while it is
 * shorter than a SQLite header (100 bytes) it is given up to 250 ms to get one before the verdict,
 * which is then the same as without the wait (a file that stays empty is still refused).
 */
async function validateSettled(path: string): Promise<void> {
  for (let waited = 0; waited < 250 && (fs().statSync(path, { throwIfNoEntry: false })?.size ?? 100) < 100; waited += 10)
    await Bun.sleep(10);
  validateDatabaseFile(path, false);
}
