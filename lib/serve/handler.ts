/**
 * `createHandler`: the HTTP API, the live event stream and the dashboard of
 * one {@link Broker}, as a `fetch`-style function to mount in any
 * `Bun.serve` (`broker serve` is this handler plus flags).
 *
 *     const broker = await openBroker();
 *     const api = createHandler(broker, { prefix: "/broker", token: process.env.TOKEN });
 *     Bun.serve({ fetch: (req) => new URL(req.url).pathname.startsWith("/broker") ? api(req) : app(req) });
 *
 * Routes are listed in docs/serve.md.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { Broker } from "../queue/broker.ts";
import { dashboardAsset } from "./assets.ts";
import { QueueBatcher } from "./_batch.ts";
import { bearerMatches, errorResponse, HttpError } from "./_http.ts";
import { ChangeFeed, eventStream } from "./events.ts";
import * as routes from "./routes.ts";
import { dumpStore, renameQueue } from "./routes-admin.ts";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** Path the handler is mounted under, e.g. `/broker` (default: none, the root). */
  prefix?: string;
  /** When set, every API request needs `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Refuse every change (writes, reads, moves, renames, deletes) with 403; dumps are allowed. Default false. */
  readOnly?: boolean;
  /** Send CORS headers allowing this origin (default: no CORS headers). */
  cors?: string;
}

/** A request handler, as `Bun.serve`'s `fetch` takes. */
export type BrokerHandler = ((req: Request) => Response | Promise<Response>) & {
  /** Stop the live event stream's watching (the broker stays open). */
  close(): void;
};

/** Build the handler of `broker`'s HTTP API and dashboard. */
export function createHandler(broker: Broker, options: HandlerOptions = {}): BrokerHandler {
  if (options.token === "") throw new ArgumentError("The token cannot be empty");
  const prefix = (options.prefix ?? "").replace(/\/+$/, "");
  const feed = new ChangeFeed(broker);
  const batch = new QueueBatcher(broker);
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    let response: Response;
    try {
      const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : "-";
      if (path !== "" && !path.startsWith("/")) throw notFound();
      response = await route(req, url, path);
    } catch (error) {
      response = errorResponse(error);
    }
    if (options.cors !== undefined) {
      response.headers.set("access-control-allow-origin", options.cors);
      response.headers.append("vary", "Origin");
    }
    return response;
  };

  async function route(req: Request, url: URL, path: string): Promise<Response> {
    // The page uses relative URLs, so it must be served at "<prefix>/".
    if (path === "" && req.method === "GET")
      return new Response(null, { status: 308, headers: { location: `${url.pathname}/${url.search}` } });
    const asset = path.startsWith("/api/") ? undefined : dashboardAsset(path);
    if (asset) {
      // The page shell holds no data, so it loads without the token; it asks for the token itself.
      if (req.method !== "GET" && req.method !== "HEAD")
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed here`);
      return asset();
    }
    if (!path.startsWith("/api/")) throw notFound();
    if (req.method === "OPTIONS" && options.cors !== undefined) return preflight();
    if (options.token !== undefined && !bearerMatches(req.headers.get("authorization"), options.token)) {
      return new Response(
        JSON.stringify({ code: "UNAUTHORIZED", message: "A valid 'Authorization: Bearer <token>' header is required" }),
        {
          status: 401,
          headers: { "content-type": "application/json; charset=utf-8", "www-authenticate": 'Bearer realm="broker"' },
        },
      );
    }
    if (options.readOnly && req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(403, "READ_ONLY", "This server is read-only");
    }
    const response = await api(req, url, path.split("/").slice(2));
    if (req.method !== "GET") feed.poke();
    return response;
  }

  async function api(req: Request, url: URL, parts: string[]): Promise<Response> {
    const m = req.method;
    const [top, rawQueue, sub, rawId, ...extra] = parts;
    if (top === "events" && parts.length === 1) return only(m, "GET", () => eventStream(feed, req));
    if (top === "dump" && parts.length === 1) return only(m, "GET", () => dumpStore(broker, url));
    if (top !== "queues" || extra.length > 0) throw notFound();
    if (rawQueue === undefined || rawQueue === "") {
      if (m === "GET") return routes.listQueues(broker);
      if (m === "DELETE") return routes.deleteQueue(broker, undefined);
      throw notAllowed(m);
    }
    const queue = decodeSegment(rawQueue);
    if (sub === undefined) {
      if (m === "GET") return routes.queueCounts(broker, queue);
      if (m === "DELETE") return routes.deleteQueue(broker, queue);
      throw notAllowed(m);
    }
    if (sub === "messages" && rawId !== undefined)
      return only(m, "DELETE", () => routes.deleteMessage(broker, queue, decodeSegment(rawId)));
    if (rawId !== undefined) throw notFound();
    if (sub === "messages") {
      if (m === "GET") return routes.peekMessages(broker, queue, url);
      if (m === "POST") return routes.writeMessage(broker, batch, queue, req);
      throw notAllowed(m);
    }
    if (sub === "read") return only(m, "POST", () => routes.readMessage(broker, batch, queue));
    if (sub === "move") return only(m, "POST", () => routes.moveMessages(broker, queue, req));
    if (sub === "rename") return only(m, "POST", () => renameQueue(broker, queue, req));
    throw notFound();
  }

  function preflight(): Response {
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-methods": "GET, POST, DELETE",
        "access-control-allow-headers": "authorization, content-type",
        "access-control-max-age": "600",
      },
    });
  }

  return Object.assign(handler, { close: () => feed.close() });
}

// --- internal ---

function only(method: string, allowed: string, run: () => Response | Promise<Response>): Response | Promise<Response> {
  if (method !== allowed) throw notAllowed(method);
  return run();
}

function notFound(): HttpError {
  return new HttpError(404, "NOT_FOUND", "No such route");
}

function notAllowed(method: string): HttpError {
  return new HttpError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed on this route`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "INVALID_QUEUE_NAME", "The queue name is not valid percent-encoding");
  }
}
