/**
 * Leases and delays on Redis (docs/leases.md#redis): the
 * {@link LeaseCapabilities} of the backend, each one script of
 * lease-scripts.ts. Due held messages are returned by the prelude's
 * `expire`, which every reading script runs first.
 * @module
 */
import { ArgumentError } from "../../core/errors.ts";
import type { LeaseCapabilities, LeasedMessage } from "../../core/leases.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import { afterArg, idMember, isPossibleId, selectionArgs } from "./keys.ts";
import type { ScriptName } from "./scripts.ts";
import { waitWithDue } from "../due-wait.ts";

// biome-ignore lint/suspicious/noExplicitAny: a script's reply shape depends on the script; callers narrow it
type Run = (name: ScriptName, args: string[]) => Promise<any>;

/** Ids as script arguments (impossible ids dropped: they match nothing). */
const members = (ids: readonly bigint[]): string[] => ids.filter(isPossibleId).map(idMember);
const toIds = (reply: string[]): bigint[] => reply.map((id) => BigInt(id));

/** The lease capabilities of a Redis store whose scripts `run` runs. */
export function redisLeases(run: Run): Required<LeaseCapabilities> {
  /** Run a transition over ids; nothing to do (and no round trip) when none can match. */
  const overIds = async (name: ScriptName, head: string[], ids: readonly bigint[]): Promise<bigint[]> => {
    const list = members(ids);
    return list.length === 0 ? [] : toIds(await run(name, [...head, ...list]));
  };
  return {
    async lease(queue, sel) {
      if (!(sel.leaseMs > 0)) throw new ArgumentError("A lease needs a duration above 0 ms");
      const args = selectionArgs(sel);
      if (!args) return [];
      const token = crypto.randomUUID();
      const leaseMs = String(Math.max(1, Math.trunc(sel.leaseMs)));
      const [due, flat] = (await run("lease", [queue, args.limit, args.after, args.before, args.exact, leaseMs, token])) as [
        string,
        Array<string | number>,
      ];
      const out: LeasedMessage[] = [];
      for (let i = 0; i < flat.length; i += 3) {
        const ts = BigInt(flat[i]!);
        out.push({ body: String(flat[i + 1]), ts, attempt: Number(flat[i + 2]), deadlineMs: Number(due), token });
      }
      return out;
    },
    ack: (queue, ids, token) => overIds("ack", [queue, token ?? ""], ids),
    release: (queue, ids, opts = {}) =>
      overIds("release", [queue, opts.token ?? "", String(Math.max(0, Math.trunc(opts.delayMs ?? 0)))], ids),
    async extend(queue, id, leaseMs, token) {
      if (!isPossibleId(id)) return false;
      const ms = String(Math.max(1, Math.trunc(leaseMs)));
      return Number(await run("extend", [queue, token ?? "", ms, idMember(id)])) === 1;
    },
    deadLetter: (queue, ids, target, token) => overIds("deadLetter", [queue, token ?? "", target], ids),
    async writeDelayed(queue, bodies, due) {
      if (bodies.length === 0) return [];
      // A delay goes as "+ms" and is added to the server's clock in the script.
      const when = "atMs" in due ? String(Math.trunc(due.atMs)) : `+${Math.trunc(due.delayMs)}`;
      return toIds(await run("writeDelayed", [queue, String(wallClockNs()), when, ...bodies]));
    },
    promoteDue: async (queue) => Number(await run("promoteDue", [queue ?? ""])),
    async heldStats(queue) {
      const flat = (await run("heldStats", [queue ?? ""])) as Array<string | number>;
      const out = [];
      for (let i = 0; i < flat.length; i += 3) {
        out.push({ queue: String(flat[i]), leased: Number(flat[i + 1]), scheduled: Number(flat[i + 2]) });
      }
      return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
    },
    async peekHeld(queue, opts) {
      const limit = Math.max(0, Math.trunc(opts.limit));
      if (limit === 0) return [];
      const flat = (await run("peekHeld", [queue, afterArg(opts.after), String(limit)])) as Array<string | number>;
      const out = [];
      for (let i = 0; i < flat.length; i += 5) {
        out.push({
          ts: BigInt(flat[i]!),
          body: String(flat[i + 1]),
          leased: Number(flat[i + 2]) === 1,
          dueMs: Number(flat[i + 3]),
          attempt: Number(flat[i + 4]),
        });
      }
      return out;
    },
  };
}

/** A native wait (`wait`) that also ends, true, when a held id of `queues` becomes due (due-wait.ts). */
export function waitHeld(
  run: Run,
  queues: string[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
  wait: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>,
): Promise<boolean> {
  return waitWithDue(timeoutMs, signal, wait, async () => {
    const ms = Number(await run("untilDue", queues));
    return ms < 0 ? undefined : ms;
  });
}
