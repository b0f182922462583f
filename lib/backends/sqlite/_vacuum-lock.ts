/**
 * The vacuum lock file `<db>.vacuum.lock`: created with O_EXCL, mode 0600,
 * first line the owner's pid (what 3.6.1 writes and reads by age only), then
 * the owner's process start time and host name. A lock whose owner process is
 * gone (no such pid on this host, or the pid now belongs to a process started
 * later) is taken over at once; any lock older than `BROKER_VACUUM_LOCK_TIMEOUT`
 * is removed, as in 3.6.1. While the lock is held, SIGINT, SIGTERM and SIGHUP
 * release it before the signal has its usual effect.
 * @module
 */
import { fs } from "../../util/fs-lazy.ts";
import { ownerGone, ownerRecord } from "../_owner.ts";

/** A held vacuum lock. */
export interface VacuumLock {
  /** True once SIGINT, SIGTERM or SIGHUP arrived (the lock is released then): stop the vacuum. */
  readonly interrupted: boolean;
  /** Remove the lock file (if it is still ours) and the signal handlers. Idempotent. */
  release(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Take the vacuum lock at `path`, or null when a live process holds it.
 * `stoppable`: handle stop signals while it is held (for a vacuum that yields
 * between batches); a synchronous vacuum could only run the handler after it
 * ended, so it leaves signals alone and a killed one's lock is taken over later.
 */
export function acquireVacuumLock(path: string, staleSeconds: number, stoppable = true): VacuumLock | null {
  removeStaleLock(path, staleSeconds);
  const owner = ownerRecord();
  // Handlers first: a signal between creating the file and installing them would kill us holding it.
  const lock = hold(path, owner, stoppable);
  let fd: number;
  try {
    fd = fs().openSync(path, "wx", 0o600);
  } catch {
    lock.release();
    return null;
  }
  try {
    fs().writeSync(fd, owner);
  } finally {
    fs().closeSync(fd);
  }
  return lock;
}

// --- internal ---

function hold(path: string, owner: string, stoppable: boolean): VacuumLock {
  let held = true;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    release();
    // Nobody else handles it: give the signal its default effect (exit) now that the lock is gone.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const onExit = () => release();
  function release(): void {
    if (!held) return;
    held = false;
    try {
      if (fs().readFileSync(path, "utf8") === owner) fs().unlinkSync(path);
    } catch {
      // already gone (or never created)
    }
    // Handlers last, so that no signal can end the process between the two steps.
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off("exit", onExit);
  }
  if (stoppable) for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", onExit);
  return {
    get interrupted() {
      return interrupted;
    },
    release,
  };
}

/**
 * Remove the lock when its owner is gone or it is older than `staleSeconds`.
 * The file is first renamed aside, so that of two processes judging the same
 * stale lock only one removes it, and a fresh lock that replaced it in between
 * is put back.
 */
function removeStaleLock(path: string, staleSeconds: number): void {
  let text: string;
  let age: number;
  try {
    text = fs().readFileSync(path, "utf8");
    age = (Date.now() - fs().statSync(path).mtimeMs) / 1000;
  } catch {
    return;
  }
  const gone = ownerGone(text);
  if (!gone && age <= staleSeconds) return;
  const aside = `${path}.${process.pid}.stale`;
  try {
    fs().renameSync(path, aside);
  } catch {
    return; // another process got there first
  }
  let judged = false;
  try {
    judged = fs().readFileSync(aside, "utf8") === text;
    if (!judged) fs().linkSync(aside, path);
  } catch {
    // the fresh lock could not be put back: a third process holds the name now
  } finally {
    fs().rmSync(aside, { force: true });
  }
  if (!judged) return;
  const why = gone ? `owner process ${Number(text.split("\n")[0])} is gone` : `age ${age.toFixed(1)}s exceeded timeout`;
  process.emitWarning(`Removed stale vacuum lock file: ${path} (${why})`);
}
