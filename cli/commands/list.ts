import type { HeldStats } from "../../lib/core/leases.ts";
import type { QueueStats } from "../../lib/core/types.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { heldText, withHeld } from "../leases.ts";
import { out } from "../output.ts";

type Row = QueueStats & Partial<HeldStats>;

/** `{"queue": …, "pending": …, "claimed": …, "total": …, "exists": …}` as 3.6.1 prints it (then held counts, if any). */
export function statsJson(s: Row): string {
  const held = heldText(s, true);
  const exists = s.exists || held !== "";
  return `{"queue": ${JSON.stringify(s.queue)}, "pending": ${s.pending}, "claimed": ${s.claimed}, "total": ${s.total}, "exists": ${exists}${held}}\n`;
}

/** `q: 3` or `q: 2 (3 total, 1 claimed)`; held counts, if any: `q: 2 (3 total, 1 claimed, 1 leased, 0 scheduled)`. */
export function statsLine(s: Row): string {
  const held = heldText(s, false);
  return s.pending === s.total && held === ""
    ? `${s.queue}: ${s.pending}\n`
    : `${s.queue}: ${s.pending} (${s.total} total, ${s.claimed} claimed${held})\n`;
}

export const list = command(
  {
    name: "list",
    description: "List queues with pending messages",
    examples: ["list", "list --stats --json", "list -p 'jobs-*'"],
  },
  {
    stats: { type: "boolean", description: "Include claimed counts and queues with only claimed messages" },
    prefix: { type: "string", description: "Only queues whose name starts with this literal prefix" },
    pattern: { type: "string", alias: "p", description: "Only queues matching this fnmatch pattern" },
    json: ARGS.json,
  },
  async (args, ctx) => {
    if (args.prefix !== undefined && args.pattern !== undefined) {
      throw new UsageError("argument -p/--pattern: not allowed with argument --prefix");
    }
    const broker = await ctx.broker();
    const filter = { prefix: args.prefix as string | undefined, pattern: args.pattern as string | undefined };
    let rows: Row[] = await broker.listStats(filter);
    if (!args.stats) rows = rows.filter((r) => r.pending > 0);
    else rows = await withHeld(broker, rows, { prefix: filter.prefix, pattern: filter.pattern });
    let text = rows.map(args.json ? statsJson : args.stats ? statsLine : (r) => `${r.queue}: ${r.pending}\n`).join("");
    if (args.stats && !args.json) {
      const overall = await broker.overallStats();
      if (overall.claimed > 0) text += `\nTotal claimed messages: ${overall.claimed}/${overall.total}\n`;
    }
    if (text) await out(text);
    return EXIT.OK;
  },
);
