import { repeated } from "../argv.ts";
import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { ClosedStdoutError, out } from "../output.ts";
import { startProgress } from "../progress.ts";

/** Bytes gathered before each stdout write. */
const CHUNK = 64 * 1024;

export const dump = command(
  {
    name: "dump",
    description: "Write every queue's pending messages and the aliases as a simplebroker-dump (ndjson)",
    examples: ["dump > backup.ndjson", "dump --include 'jobs*' --exclude jobs-tmp"],
  },
  {
    include: { type: "string", description: "Only queues matching this fnmatch glob (repeatable)", valueHint: "GLOB" },
    exclude: {
      type: "string",
      description: "Leave out queues matching this fnmatch glob (repeatable; wins over --include)",
      valueHint: "GLOB",
    },
  },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const progress = startProgress("dump", ctx.globals.quiet);
    const lines = broker.dump({ include: repeated(args.include), exclude: repeated(args.exclude) });
    let chunk = "";
    try {
      for await (const line of lines) {
        chunk += `${line}\n`;
        progress.tick();
        if (chunk.length >= CHUNK) {
          await out(chunk);
          chunk = "";
        }
      }
      await out(chunk);
    } catch (error) {
      if (!(error instanceof ClosedStdoutError)) throw error;
      await lines.return();
    } finally {
      progress.done();
    }
    return EXIT.OK;
  },
);
