/**
 * `dump`: a store's contents as `simplebroker-dump` v1 lines (docs/dump-format.md).
 * Header, then aliases sorted by name, then the pending messages of each
 * queue (queues sorted by name, ids ascending). Each queue is read in keyset
 * pages (ids after the last one seen), so memory stays flat however large the
 * dump. Messages written after the dump started (ids above the header's
 * `last_ts`) are left out.
 * @module
 */
import type { Backend } from "../core/types.ts";
import { compileGlob } from "../util/glob.ts";
import { aliasLine, headerLine, messageLine } from "./json.ts";

/** Which queues a dump keeps: any include (or none given), and no exclude (exclude wins). Globs are case-sensitive fnmatch. */
export interface DumpFilter {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** Messages per page read from the store. */
const PAGE = 1000;

/** The dump of `backend`, one line (without newline) at a time. */
export async function* dumpLines(backend: Backend, filter: DumpFilter = {}): AsyncGenerator<string, void, undefined> {
  const include = (filter.include ?? []).map(compileGlob);
  const exclude = (filter.exclude ?? []).map(compileGlob);
  const included = (name: string) => include.length === 0 || include.some((g) => g.test(name));
  const excluded = (name: string) => exclude.some((g) => g.test(name));
  const lastTs = await backend.lastTimestamp();
  yield headerLine(backend.name, lastTs);
  // An alias rides on either of its names: kept when either is included, dropped when either is excluded.
  for (const [alias, target] of await backend.listAliases()) {
    if ((included(alias) || included(target)) && !excluded(alias) && !excluded(target)) yield aliasLine(alias, target);
  }
  const before = lastTs + 1n;
  const queues = (await backend.listStats()).filter((s) => s.pending > 0 && included(s.queue) && !excluded(s.queue));
  queues.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  for (const { queue } of queues) {
    let after: bigint | undefined;
    for (;;) {
      const page = await backend.peek(queue, { after, before, limit: PAGE });
      for (const m of page) yield messageLine(queue, m.body, m.ts);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.ts;
    }
  }
}
