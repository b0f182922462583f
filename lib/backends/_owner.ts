/**
 * Who holds a lock: a record of this process (pid, start time, host) and the
 * check that the process a record names is gone, so that a lock left by a
 * killed process can be taken over at once instead of waited out.
 * @module
 */
import { fs } from "../util/fs-lazy.ts";

/** The host name, with node:os loaded on first use (kept off CLI start-up). */
const hostname = (): string => (require("node:os") as typeof import("node:os")).hostname();

/** `<pid>\n<start time>\n<host>\n` of this process (the start time is empty where /proc is missing). */
export function ownerRecord(): string {
  return `${process.pid}\n${startTime(process.pid) ?? ""}\n${hostname()}\n`;
}

/**
 * Whether the owner a record names is known to be gone: on this host (or a
 * record without a host), no process has its pid, or the process with that
 * pid started at another time (pids are reused). Anything unparsable: false.
 */
export function ownerGone(record: string): boolean {
  const [pidText = "", start = "", host = ""] = record.split("\n");
  const pid = Number(pidText.trim());
  if (!/^\d+$/.test(pidText.trim()) || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (host && host !== hostname()) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
  const now = start ? startTime(pid) : undefined;
  return now !== undefined && now !== start;
}

// --- internal ---

/** A process's start time (clock ticks after boot, from /proc), or undefined where /proc is not available. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs().readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
