/**
 * Script replies of the Redis backend turned into the contract's shapes.
 * @module
 */
import type { Message, QueueStats } from "../../core/types.ts";

/** `[id, body, id, body, …]` script replies as messages. */
export function toMessages(flat: string[]): Message[] {
  const out: Message[] = new Array(flat.length / 2);
  for (let i = 0; i < flat.length; i += 2) out[i / 2] = { body: flat[i + 1]!, ts: BigInt(flat[i]!) };
  return out;
}

/** Reserved ids count as pending: other connections see an open SQLite batch the same way. */
export function toStats(flat: Array<string | number>): QueueStats[] {
  const out: QueueStats[] = [];
  for (let i = 0; i < flat.length; i += 4) {
    const pending = Number(flat[i + 1]) + Number(flat[i + 3]);
    const claimed = Number(flat[i + 2]);
    const total = pending + claimed;
    out.push({ queue: String(flat[i]), pending, claimed, total, exists: total > 0 });
  }
  return out;
}
