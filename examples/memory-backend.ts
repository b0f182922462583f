/**
 * A backend from outside: every queue in this process's memory. It passes
 * the contract suite our SQLite, Postgres and Redis backends pass
 * (test/lib/backends/memory.test.ts runs it), and the CLI can use it:
 *
 *     BROKER_BACKEND=./examples/memory-backend.ts BROKER_BACKEND_TARGET=/tmp/q.json bun cli/index.ts write jobs hi
 *     BROKER_BACKEND=./examples/memory-backend.ts BROKER_BACKEND_TARGET=/tmp/q.json bun cli/index.ts read jobs
 *
 * The target names the store: stores with the same name share their queues
 * inside one process. A target that is a file path (`/…` or `./…`) also
 * keeps the store in that JSON file between runs: read on first use, written
 * on close, without locking — for demos and tests, not for concurrent use.
 *
 * It implements the required core plus three capabilities: rename,
 * maintenance (`vacuum`) and activity hints (`onActivity`). Without `reserve`, batches
 * are claimed at once; without `waitForActivity`, watchers poll.
 */
import { ArgumentError, defineBackend, nextHybridTimestamp, wallClockNs } from "../index.ts"; // in your project: from "simplebroker"
import type { Backend, Message, QueueStats, Selection } from "../index.ts";

interface Row {
  queue: string;
  body: string;
  ts: bigint;
  claimed: boolean;
}

interface Store {
  rows: Row[];
  lastTs: bigint;
  aliases: Map<string, string>;
  listeners: Set<(queue: string) => void>;
}

/** The module's backend: `BROKER_BACKEND=<this file>` or `backend = "<this file>"` in `.broker.toml`. */
export const backend = defineBackend({
  name: "memory",
  create: (target) => createMemoryBackend(target.target),
});

const stores = new Map<string, Store>();

/** A backend on the store named `name` (created empty on first use). */
export function createMemoryBackend(name = ""): Backend {
  const file = name.startsWith("/") || name.startsWith("./") ? name : undefined;
  const s = () => {
    let store = stores.get(name);
    if (!store) stores.set(name, (store = file ? load(file) : empty()));
    return store;
  };
  const notify = (queue: string) => {
    for (const fn of s().listeners) fn(queue);
  };
  const append = (queue: string, body: string): bigint => {
    const store = s();
    store.lastTs = nextHybridTimestamp(store.lastTs, wallClockNs());
    store.rows.push({ queue, body, ts: store.lastTs, claimed: false });
    return store.lastTs;
  };
  const select = (queue: string, sel: Selection, unclaimedOnly = true): Row[] => {
    const found = s().rows.filter(
      (r) =>
        r.queue === queue &&
        !(unclaimedOnly && r.claimed) &&
        (sel.exactId === undefined || r.ts === sel.exactId) &&
        (sel.after === undefined || r.ts > sel.after) &&
        (sel.before === undefined || r.ts < sel.before),
    );
    const from = sel.offset ?? 0;
    return found.slice(from, from + (sel.limit ?? 1));
  };
  const out = (rows: Row[]): Message[] => rows.map((r) => ({ body: r.body, ts: r.ts }));
  const stats = (queue: string): QueueStats => {
    const rows = s().rows.filter((r) => r.queue === queue);
    const pending = rows.filter((r) => !r.claimed).length;
    return { queue, pending, claimed: rows.length - pending, total: rows.length, exists: rows.length > 0 };
  };
  const queues = () => [...new Set(s().rows.map((r) => r.queue))].sort();

  return {
    name: "memory",
    displayTarget: name || "memory",
    init: async () => void s(),
    close: async () => {
      if (file && stores.has(name)) await Bun.write(file, dump(s()));
    },
    write: async (queue, bodies) => {
      const ids = bodies.map((body) => append(queue, body));
      notify(queue);
      return ids;
    },
    claim: async (queue, sel) => {
      const rows = select(queue, sel);
      for (const r of rows) r.claimed = true;
      return out(rows);
    },
    peek: async (queue, sel) => out(select(queue, sel, !sel.includeClaimed)),
    move: async (source, target, sel) => {
      const rows = select(source, sel, sel.requireUnclaimed ?? true);
      for (const r of rows) Object.assign(r, { queue: target, claimed: false });
      if (rows.length) notify(target);
      return out(rows);
    },
    deleteQueue: async (queue) => {
      const store = s();
      const before = store.rows.length;
      store.rows = queue === undefined ? [] : store.rows.filter((r) => r.queue !== queue);
      return before - store.rows.length;
    },
    broadcast: async (body, targets) => {
      const present = queues();
      if (targets?.listed && present.some((q) => !targets.listed!.includes(q))) return -1;
      const chosen = targets ? targets.queues.filter((q) => present.includes(q)) : present;
      for (const q of chosen) append(q, body);
      for (const q of chosen) notify(q);
      return chosen.length;
    },
    listStats: async () => queues().map(stats),
    queueStats: async (queue) => stats(queue),
    hasPending: async (queue, after) => select(queue, { after }).length > 0,
    status: async () => ({ totalMessages: s().rows.length, lastTimestamp: s().lastTs, dbSize: 0 }),
    generateTimestamp: async () => {
      const store = s();
      return (store.lastTs = nextHybridTimestamp(store.lastTs, wallClockNs()));
    },
    lastTimestamp: async () => s().lastTs,
    listAliases: async () => [...s().aliases].sort(([a], [b]) => (a < b ? -1 : 1)),
    resolveAlias: async (alias) => s().aliases.get(alias),
    addAlias: async (alias, target) => {
      const aliases = s().aliases;
      if (aliases.has(alias)) throw new ArgumentError(`Alias '${alias}' already exists`);
      if (aliases.has(target)) throw new ArgumentError("Cannot target another alias");
      aliases.set(alias, target);
    },
    removeAlias: async (alias) => s().aliases.delete(alias),

    // Capabilities: rename, maintenance and activity hints.
    rename: async (source, target, retargetAliases) => {
      const store = s();
      if (store.rows.some((r) => r.queue === target)) throw new ArgumentError("Target queue already exists");
      const rows = store.rows.filter((r) => r.queue === source);
      for (const r of rows) r.queue = target;
      let aliases = 0;
      if (rows.length && retargetAliases) {
        for (const [alias, to] of store.aliases) if (to === source && ++aliases) store.aliases.set(alias, target);
      }
      if (rows.length) notify(target);
      return { messages: rows.length, aliases };
    },
    vacuum: async () => {
      const store = s();
      const before = store.rows.length;
      store.rows = store.rows.filter((r) => !r.claimed);
      return { vacuumed: before - store.rows.length, ran: true };
    },
    onActivity: (listener) => {
      s().listeners.add(listener);
      return () => s().listeners.delete(listener);
    },
  };
}

// --- internal ---

function empty(): Store {
  return { rows: [], lastTs: 0n, aliases: new Map(), listeners: new Set() };
}

function load(file: string): Store {
  const store = empty();
  let text: string;
  try {
    text = require("node:fs").readFileSync(file, "utf8");
  } catch {
    return store; // nothing kept yet
  }
  const data = JSON.parse(text) as { rows: Array<Omit<Row, "ts"> & { ts: string }>; lastTs: string; aliases: [string, string][] };
  store.rows = data.rows.map((r) => ({ ...r, ts: BigInt(r.ts) }));
  store.lastTs = BigInt(data.lastTs);
  store.aliases = new Map(data.aliases);
  return store;
}

function dump(store: Store): string {
  const rows = store.rows.map((r) => ({ ...r, ts: String(r.ts) }));
  return JSON.stringify({ rows, lastTs: String(store.lastTs), aliases: [...store.aliases] });
}
