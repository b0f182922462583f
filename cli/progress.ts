/**
 * A progress line on stderr for long runs (`read --all`, `move --all`,
 * `--vacuum`): drawn only when stderr is a terminal and the run has passed
 * {@link PROGRESS_DELAY_MS}, redrawn in place at most every
 * {@link REDRAW_MS}, and erased when the run ends, so the terminal is left
 * as it would be without it. When stderr is not a terminal nothing is
 * written, not even a byte: scripts and transcripts see the same output.
 * @module
 */

/** Runs shorter than this show nothing. */
export const PROGRESS_DELAY_MS = 1000;
/** Shortest time between two redraws. */
export const REDRAW_MS = 200;

/** What a long run reports. */
export interface Progress {
  /** Count `n` more items done (messages printed or moved). */
  tick(n?: number): void;
  /** Erase the line if one was drawn; later calls do nothing. Idempotent. */
  done(): void;
}

/** A progress reporter that does nothing (stderr is not a terminal, or `-q`). */
export const NO_PROGRESS: Progress = Object.freeze({ tick() {}, done() {} });

/**
 * Start reporting `label` (e.g. `read`): `read: 12,345 messages, 6,170/s`, or
 * for a run without items `vacuum: 3 s`. Returns {@link NO_PROGRESS} unless
 * stderr is a terminal and `quiet` is false.
 */
export function startProgress(label: string, quiet = false): Progress {
  if (quiet || process.stderr.isTTY !== true) return NO_PROGRESS;
  return new TerminalProgress(label);
}

// --- internal ---

class TerminalProgress implements Progress {
  readonly #label: string;
  readonly #start = performance.now();
  #count = 0;
  #lastDraw = 0;
  #drawn = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(label: string) {
    this.#label = label;
    // Redraws while no item arrives (a long vacuum, a slow reader); never keeps the process alive.
    this.#timer = setInterval(() => this.#draw(performance.now()), REDRAW_MS);
    this.#timer.unref?.();
  }

  tick(n = 1): void {
    this.#count += n;
    const now = performance.now();
    if (now - this.#lastDraw >= REDRAW_MS) this.#draw(now);
  }

  done(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) write("\r\x1b[K");
  }

  #draw(now: number): void {
    const elapsed = now - this.#start;
    if (this.#timer === undefined || elapsed < PROGRESS_DELAY_MS) return;
    this.#lastDraw = now;
    this.#drawn = true;
    const seconds = elapsed / 1000;
    const text =
      this.#count > 0
        ? `${this.#label}: ${this.#count.toLocaleString("en-US")} messages, ${Math.round(this.#count / seconds).toLocaleString("en-US")}/s`
        : `${this.#label}: ${Math.floor(seconds)} s`;
    write(`\r${text}\x1b[K`);
  }
}

function write(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // a terminal that went away: progress is best effort
  }
}
