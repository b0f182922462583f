import { fs } from "../../lib/util/fs-lazy.ts";
import { localFilesOf } from "../../lib/backends/index.ts";
import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";

export const init = command(
  {
    name: "init",
    description: "Create the broker database (or target) if it does not exist",
    examples: ["init", "-d /var/lib/queues init"],
  },
  { force: { type: "boolean", description: "Accepted for compatibility; has no effect" } },
  async (_args, ctx) => {
    const target = ctx.target();
    const files = localFilesOf(target.backendName);
    if (!files) {
      const broker = await ctx.broker();
      await broker.init();
      log.info(`Initialized SimpleBroker target: ${broker.displayTarget}`);
      return EXIT.OK;
    }
    const path = target.target;
    if (fs().existsSync(path) && fs().statSync(path).size > 0) {
      if (files.isStore(path)) {
        log.info(`SimpleBroker database already exists: ${path}`);
        return EXIT.OK;
      }
      log.error(
        `Error: File exists but is not a SimpleBroker database: ${path}\nPlease remove the file manually and run 'broker init' again.`,
      );
      return EXIT.ERROR;
    }
    const broker = await ctx.broker();
    try {
      await broker.init();
    } catch (error) {
      log.error(`Error initializing database: ${(error as Error).message}`);
      return EXIT.ERROR;
    }
    log.info(`Initialized SimpleBroker database: ${path}`);
    return EXIT.OK;
  },
);
