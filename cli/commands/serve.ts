import { ArgumentError } from "../../lib/core/errors.ts";
import { DEFAULT_PORT, serveBroker } from "../../lib/serve/server.ts";
import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";

export const serve = command(
  {
    name: "serve",
    description: "Serve the HTTP API, live events and dashboard (SIGINT/SIGTERM stop it)",
    examples: ["serve", "serve --port 0 --read-only"],
  },
  {
    host: { type: "string", description: "Address to bind (default 127.0.0.1; others need a token)", valueHint: "HOST" },
    port: { type: "string", description: `TCP port (default ${DEFAULT_PORT}; 0 picks a free one)`, valueHint: "PORT" },
    token: {
      type: "string",
      description: "Require 'Authorization: Bearer TOKEN' (default: $BROKER_SERVE_TOKEN)",
      valueHint: "TOKEN",
    },
    "read-only": { type: "boolean", description: "Refuse every change with 403" },
    cors: { type: "string", description: "Allow cross-origin requests from this origin", valueHint: "ORIGIN" },
  },
  async (args, ctx) => {
    const port = args.port === undefined ? DEFAULT_PORT : Number(args.port);
    if (!/^\d+$/.test(String(args.port ?? DEFAULT_PORT)) || port > 65535) throw new ArgumentError(`invalid port: '${args.port}'`);
    const token = (args.token as string | undefined) ?? (process.env.BROKER_SERVE_TOKEN || undefined);
    if (token !== undefined && token.length === 0) throw new ArgumentError("--token cannot be empty");
    const broker = await ctx.broker();
    await broker.listStats(); // reach the store now: a bad target fails before the server starts
    const server = serveBroker(broker, {
      host: args.host as string | undefined,
      port,
      token,
      readOnly: args["read-only"] === true,
      cors: args.cors as string | undefined,
    });
    log.info(
      `Serving ${broker.displayTarget} at ${server.url.href}${token ? " (token required)" : ""}${args["read-only"] ? " (read-only)" : ""}`,
    );
    const { promise, resolve } = Promise.withResolvers<void>();
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    try {
      await promise;
    } finally {
      process.off("SIGINT", resolve);
      process.off("SIGTERM", resolve);
      await server.stop();
    }
    return EXIT.OK;
  },
);
