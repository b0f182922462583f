/**
 * HTTP helpers of the serve handler: JSON and error responses with stable
 * codes, a size-bounded body reader, the constant-time token check and the
 * id format.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isBrokerError } from "../core/errors.ts";

/** Stable `code` values of the JSON error bodies. */
export type ServeErrorCode =
  | "INVALID_QUEUE_NAME"
  | "INVALID_ARGUMENT"
  | "INVALID_TIMESTAMP"
  | "INVALID_MESSAGE_ID"
  | "INVALID_BODY"
  | "UNAUTHORIZED"
  | "READ_ONLY"
  | "NOT_FOUND"
  | "MESSAGE_NOT_FOUND"
  | "QUEUE_NOT_FOUND"
  | "QUEUE_EXISTS"
  | "SAME_QUEUE"
  | "METHOD_NOT_ALLOWED"
  | "MESSAGE_TOO_LARGE"
  | "INTERNAL_ERROR";

/** An error that becomes an HTTP response with a JSON body `{ code, message }`. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly code: ServeErrorCode;

  constructor(status: number, code: ServeErrorCode, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
}

/** The response for anything thrown while handling a request. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) return json({ code: error.code, message: error.message }, error.status);
  if (isBrokerError(error)) {
    const e = error as Error & { code: string };
    if (e.name === "QueueNameError") return json({ code: "INVALID_QUEUE_NAME", message: e.message }, 400);
    if (e.name === "MessageError" && /exceeds maximum size/.test(e.message)) {
      return json({ code: "MESSAGE_TOO_LARGE", message: e.message }, 413);
    }
    if (e.code === "INVALID_TIMESTAMP" || e.code === "INVALID_MESSAGE_ID") return json({ code: e.code, message: e.message }, 400);
    if (e.name === "ArgumentError" || e.name === "MessageError")
      return json({ code: "INVALID_ARGUMENT", message: e.message }, 400);
  }
  return json({ code: "INTERNAL_ERROR", message: error instanceof Error ? error.message : String(error) }, 500);
}

/** Ids travel as 19-digit decimal strings: JSON numbers would lose digits of a 64-bit id. */
export function formatId(id: bigint): string {
  return id.toString().padStart(19, "0");
}

/**
 * The request body as UTF-8 text, refused with 413 once it passes `maxBytes`:
 * at once from Content-Length, else while counting the streamed bytes, so an
 * oversized body is never held in full.
 */
export async function readBody(req: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new HttpError(413, "MESSAGE_TOO_LARGE", `Message exceeds maximum size of ${maxBytes} bytes`);
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, "INVALID_BODY", "The message body is not valid UTF-8");
  }
}

/** A parsed JSON object body (for move), bounded like a message. */
export async function readJsonObject(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBody(req, maxBytes);
  let value: unknown;
  try {
    value = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "INVALID_BODY", "The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "INVALID_BODY", "The request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * Whether `header` is `Bearer <token>`. Both sides are hashed first, so the
 * comparison is constant-time over equal-length digests and leaks neither
 * the token's length nor its prefix.
 */
export function bearerMatches(header: string | null, token: string): boolean {
  const given = header !== null && /^bearer /i.test(header) ? header.slice(7) : ""; // the scheme is case-insensitive
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b) && header !== null;
}
