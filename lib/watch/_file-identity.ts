/**
 * A watch on a local database file notices when the file is removed or
 * replaced (`broker --cleanup`, then a write that creates a fresh file at the
 * same path): an open SQLite connection keeps reading the old, deleted file
 * and would never see a message again. One poller per backend stats the file
 * (device and inode) every poll interval and pokes the watches of that
 * backend when it changes; each watch then decides what to do
 * (docs/outages.md#a-database-file-removed-or-replaced).
 * @module
 */
import { dirname } from "../util/path.ts";
import { fs } from "../util/fs-lazy.ts";
import { BackendError } from "../core/errors.ts";

/** What became of the file since a watch last looked. */
export type FileChange = "same" | "replaced" | "missing";

/** The identity of the database file of one watch. */
export class FileIdentity {
  readonly path: string;
  #known: string | undefined;

  constructor(path: string) {
    this.path = path;
    this.#known = identityOf(path);
  }

  /**
   * Compare the file with the one this watch reads. `replaced`: another file
   * is there now (the watch must reopen; the new identity is remembered).
   * `missing`: no file (the watch keeps waiting on its old connection, which
   * creates nothing). Throws a one-line error when the folder itself is gone.
   */
  check(): FileChange {
    const now = identityOf(this.path);
    if (now === undefined) {
      if (!fs().existsSync(dirname(this.path))) {
        throw new BackendError(`Database ${this.path} was removed, and its folder ${dirname(this.path)} is gone`);
      }
      return "missing";
    }
    if (now === this.#known) return "same";
    const first = this.#known === undefined;
    this.#known = now;
    // A file that appeared where none was at the start is the one the connection opens (or created): nothing to reopen.
    return first ? "same" : "replaced";
  }
}

/**
 * Call `poke` whenever the identity of `path` changes (checked every
 * `intervalMs`, one timer per path however many watches); returns the
 * function that unsubscribes.
 */
export function onFileChange(path: string, intervalMs: number, poke: () => void): () => void {
  let poller = pollers.get(path);
  if (!poller) pollers.set(path, (poller = new Poller(path, intervalMs)));
  const p = poller;
  p.pokes.add(poke);
  return () => {
    p.pokes.delete(poke);
    if (p.pokes.size === 0) {
      pollers.delete(path);
      p.stop();
    }
  };
}

// --- internal ---

/** `dev:ino` of `path`, or undefined when there is no such file. */
function identityOf(path: string): string | undefined {
  try {
    const st = fs().statSync(path, { throwIfNoEntry: false });
    return st ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

const pollers = new Map<string, Poller>();

class Poller {
  readonly pokes = new Set<() => void>();
  readonly #timer: ReturnType<typeof setInterval>;
  #last: string | undefined;

  constructor(path: string, intervalMs: number) {
    this.#last = identityOf(path);
    this.#timer = setInterval(() => {
      const now = identityOf(path);
      if (now === this.#last) return;
      this.#last = now;
      for (const poke of [...this.pokes]) poke();
    }, intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
