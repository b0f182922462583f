/**
 * What the lease stress tests share: the side-effect log that
 * stress/_lease-worker.ts writes (`H <id> <attempt> <pid>` when a handler
 * runs, `a <id> <pid>` before an ack, `A <id> 1|0 <pid>` after it) and the
 * counts left in the worked queue and its dead-letter queue.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import type { Broker } from "../lib/queue/broker.ts";

/** One line of the side-effect log. */
export type LogLine =
  | { kind: "H"; id: string; attempt: number; pid: number }
  | { kind: "a"; id: string; pid: number }
  | { kind: "A"; id: string; ok: boolean; pid: number };

/** The log at `path` (none yet: empty); a torn or malformed line is an error. */
export function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  if (text !== "" && !text.endsWith("\n")) throw new Error(`torn line at the end of ${path}`);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const f = l.split(" ");
      if (f[0] === "H" && f.length === 4) return { kind: "H", id: f[1]!, attempt: Number(f[2]), pid: Number(f[3]) };
      if (f[0] === "a" && f.length === 3) return { kind: "a", id: f[1]!, pid: Number(f[2]) };
      if (f[0] === "A" && f.length === 4) return { kind: "A", id: f[1]!, ok: f[2] === "1", pid: Number(f[3]) };
      throw new Error(`malformed log line in ${path}: ${JSON.stringify(l)}`);
    });
}

/** What is left of a worked queue: pending, leased and scheduled messages, and its dead letters. */
export interface Remaining {
  pending: number;
  leased: number;
  scheduled: number;
  dead: number;
}

/** The counts of `queue` and `<queue>.dead`. */
export async function remaining(broker: Broker, queue: string): Promise<Remaining> {
  const [q, dead] = [await broker.queueStats(queue), await broker.queueStats(`${queue}.dead`)];
  const [held] = await broker.leases.heldStats(queue);
  return { pending: q.pending, leased: held?.leased ?? 0, scheduled: held?.scheduled ?? 0, dead: dead.total };
}

/** The log's lines by message id, and the ids that ran without having been written. */
export function groupLog(lines: LogLine[], written: Set<string>): { byId: Map<string, LogLine[]>; unknown: Set<string> } {
  const byId = new Map<string, LogLine[]>();
  const unknown = new Set<string>();
  for (const l of lines) {
    if (!written.has(l.id)) unknown.add(l.id);
    let list = byId.get(l.id);
    if (!list) byId.set(l.id, (list = []));
    list.push(l);
  }
  return { byId, unknown };
}
