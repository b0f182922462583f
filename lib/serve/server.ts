/**
 * `serveBroker`: {@link createHandler} on its own `Bun.serve`, with the
 * rule that only a loopback address may be bound without a token.
 * @module
 */
import type { Server } from "bun";
import { ArgumentError } from "../core/errors.ts";
import type { Broker } from "../queue/broker.ts";
import { createHandler, type HandlerOptions } from "./handler.ts";

/** Options of {@link serveBroker}. */
export interface ServeOptions extends Omit<HandlerOptions, "prefix"> {
  /** Address to bind (default `127.0.0.1`). Anything but loopback needs a token. */
  host?: string;
  /** TCP port (default 8150; 0 picks a free one). */
  port?: number;
}

/** The default port of `broker serve`. */
export const DEFAULT_PORT = 8150;

/** A running server; `stop()` ends it (the broker stays open). */
export interface BrokerServer {
  readonly url: URL;
  stop(): Promise<void>;
}

/** Serve `broker`'s API and dashboard until `stop()`. */
export function serveBroker(broker: Broker, options: ServeOptions = {}): BrokerServer {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && !options.token) {
    throw new ArgumentError(
      `Refusing to listen on ${host} without a token: pass --token or set BROKER_SERVE_TOKEN (or bind 127.0.0.1)`,
    );
  }
  const handler = createHandler(broker, options);
  let server: Server<undefined>;
  try {
    // Event streams stay open for long; they send a keep-alive every few seconds, so idle clients still time out.
    server = Bun.serve({
      hostname: host,
      port: options.port ?? DEFAULT_PORT,
      fetch: handler,
      idleTimeout: 30,
      // Bun's own limit (128 MiB) answers before the handler, without a JSON body: keep it above ours.
      maxRequestBodySize: Math.max(128 * 1024 * 1024, broker.config.maxMessageSize + 65536),
    });
  } catch (error) {
    throw new ArgumentError(`Cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    url: server.url,
    async stop() {
      handler.close();
      await server.stop(true);
    },
  };
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
