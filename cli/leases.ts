/**
 * The lease parts of read, stats, list and peek (docs/leases.md#library-and-cli):
 * `read --lease` prints each message with its id (and, with `--json`, its
 * attempt), held counts are added to stats lines only when non-zero (so
 * output is 3.6.1's while nothing is held), and `peek --include-claimed`
 * also shows held messages.
 * @module
 */
import type { HeldStats, LeasedMessage } from "../lib/core/leases.ts";
import type { QueueStats } from "../lib/core/types.ts";
import type { Broker } from "../lib/queue/broker.ts";
import { compileGlob } from "../lib/util/glob.ts";
import type { ParsedValues } from "./argv.ts";
import { EXIT, type ExitCode } from "./exit.ts";
import { jsonId, out } from "./output.ts";
import type { Filters, RecordPrinter } from "./print.ts";

/** Messages leased per transaction by `read --lease --all`. */
const LEASE_PAGE = 100;
/** Messages per page of each walk of `peek --include-claimed`. */
const PEEK_PAGE = 1000;

/** A leased message as `read --lease` prints it: `ID<TAB>body`, or JSON with its attempt. */
export function formatLeased(m: LeasedMessage, json: boolean): string {
  if (!json) return `${m.ts}\t${m.body}\n`;
  return `{"message": ${JSON.stringify(m.body)}, "timestamp": ${jsonId(m.ts)}, "attempt": ${m.attempt}}\n`;
}

/** `read --lease`: lease one message (or, with `all`, every pending one), print each; exit 2 when none. */
export async function readLeased(
  broker: Broker,
  queue: string,
  leaseMs: number,
  f: Filters,
  args: ParsedValues,
): Promise<ExitCode> {
  let count = 0;
  let after = f.after;
  for (;;) {
    const limit = args.all && f.exactId === undefined ? LEASE_PAGE : 1;
    const got = await broker.leases.lease(queue, { leaseMs, limit, exactId: f.exactId, after, before: f.before });
    for (const m of got) await out(formatLeased(m, args.json === true));
    count += got.length;
    if (got.length < limit || !args.all || f.exactId !== undefined) break;
    after = got[got.length - 1]!.ts;
  }
  return count > 0 ? EXIT.OK : EXIT.EMPTY;
}

/**
 * Held counts of the queues in `rows`; with a `filter` (list), also rows for
 * the matching queues that hold messages but have no pending or claimed one.
 */
export async function withHeld(
  broker: Broker,
  rows: QueueStats[],
  filter?: { queue?: string; prefix?: string; pattern?: string },
): Promise<Array<QueueStats & Partial<HeldStats>>> {
  const held = await broker.leases.heldStats(filter?.queue);
  if (held.length === 0) return rows;
  const byQueue = new Map(held.map((h) => [h.queue, h]));
  const merged: Array<QueueStats & Partial<HeldStats>> = rows.map((r) => ({ ...r, ...byQueue.get(r.queue) }));
  if (filter?.queue !== undefined) return merged;
  const glob = filter?.pattern === undefined ? undefined : compileGlob(filter.pattern);
  const seen = new Set(rows.map((r) => r.queue));
  for (const h of held) {
    if (seen.has(h.queue) || !h.queue.startsWith(filter?.prefix ?? "") || (glob && !glob.test(h.queue))) continue;
    merged.push({ pending: 0, claimed: 0, total: 0, exists: true, ...h });
  }
  return merged.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

/** The held part of a stats line or JSON object: empty when nothing is held. */
export function heldText(s: Partial<HeldStats>, json: boolean): string {
  const leased = s.leased ?? 0;
  const scheduled = s.scheduled ?? 0;
  if (leased === 0 && scheduled === 0) return "";
  return json ? `, "leased": ${leased}, "scheduled": ${scheduled}` : `, ${leased} leased, ${scheduled} scheduled`;
}

/**
 * `peek --include-claimed`: the queue's rows, pending and claimed, and its held
 * (leased, delayed) messages, merged in id order: two walks by id, a page of
 * each at a time, so memory stays flat. Without `--all` only the oldest match
 * (or the exact id) is printed. Returns how many were printed.
 */
export async function peekIncludingHeld(
  broker: Broker,
  queue: string,
  f: Filters,
  all: boolean,
  printer: RecordPrinter,
): Promise<number> {
  const start = f.exactId !== undefined ? f.exactId - 1n : f.after;
  const end = f.exactId !== undefined ? f.exactId + 1n : f.before;
  const rows = pages(start, (after) => broker.peek(queue, { after, before: end, includeClaimed: true, limit: PEEK_PAGE }));
  const held = pages(start, (after) => broker.leases.peekHeld(queue, { after, limit: PEEK_PAGE }));
  printer.buffered = all;
  let a = await rows.next();
  let b = await held.next();
  while (!a.done || !b.done) {
    const useRow = b.done || b.value.ts >= (end ?? b.value.ts + 1n) || (!a.done && a.value.ts < b.value.ts);
    const m = useRow ? (a.done ? undefined : a.value) : b.value;
    if (m === undefined || (end !== undefined && m.ts >= end)) break;
    await printer.print(m);
    if (!all) break;
    if (useRow) a = await rows.next();
    else b = await held.next();
  }
  await printer.flush();
  return printer.count;
}

/** Messages of a walk by id: `fetch(after)` returns the next page of at most {@link PEEK_PAGE} after `after`. */
async function* pages<T extends { ts: bigint }>(after: bigint | undefined, fetch: (after?: bigint) => Promise<T[]>) {
  for (;;) {
    const page = await fetch(after);
    yield* page;
    if (page.length < PEEK_PAGE) return;
    after = page[page.length - 1]!.ts;
  }
}
