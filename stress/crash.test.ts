/**
 * Guards crash safety (docs/on-disk-format.md, docs/compatibility.md#delivery): writers, readers and movers — CLI
 * subprocesses and library fixture processes — share one SQLite file and are
 * SIGKILLed at random moments, for 100 rounds (seeded PRNG; STRESS_SEED and
 * STRESS_ROUNDS override). After every round:
 *   - PRAGMA integrity_check is "ok";
 *   - every write that reported success is in the database (pending or
 *     claimed) with the id it was given, or was delivered to a reader;
 *   - no message was delivered twice, and every delivered one is claimed;
 *   - claimed rows no reader ever logged are counted: that is the documented
 *     exactly-once window (claimed and committed, then killed before the
 *     message was printed/logged).
 * Prints one summary line at the end.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, tempDir } from "../test/helpers.ts";
import { seededRandom as mulberry32 } from "../test/helpers.ts";

const FIXTURE = resolve(import.meta.dir, "../test/fixtures/stress-crash-fixture.ts");
const ROUNDS = Number(process.env.STRESS_ROUNDS ?? 100);
const SEED = Number(process.env.STRESS_SEED ?? 0x5eed1234) >>> 0;
/** Library fixtures are killed somewhere in this window after they start (ms). */
const KILL_MIN_MS = 150;
const KILL_MAX_MS = 2000;

interface Totals {
  written: number;
  delivered: number;
  lost: number;
  duplicated: number;
  window: number;
  kills: number;
  cliRuns: number;
}

/** Everything the harness knows across rounds. */
class Ledger {
  /** body → id reported by the successful write (undefined for CLI writes). */
  readonly written = new Map<string, bigint | undefined>();
  /** body → number of times a reader received it. */
  readonly delivered = new Map<string, number>();
  duplicates: string[] = [];

  addWrite(body: string, id: bigint | undefined): void {
    this.written.set(body, id);
  }

  addDelivery(body: string): void {
    const n = (this.delivered.get(body) ?? 0) + 1;
    this.delivered.set(body, n);
    if (n === 2) this.duplicates.push(body);
  }

  /** Parse complete lines of a fixture log (a torn last line is ignored). */
  readLog(path: string): void {
    if (!existsSync(path)) return;
    const text = readFileSync(path, "utf8");
    const end = text.lastIndexOf("\n");
    if (end < 0) return;
    for (const line of text.slice(0, end).split("\n")) {
      const [kind, id, body] = line.split("\t");
      if (body === undefined) throw new Error(`malformed log line in ${path}: ${JSON.stringify(line)}`);
      if (kind === "W") this.addWrite(body, BigInt(id!));
      else if (kind === "R") this.addDelivery(body);
      else throw new Error(`unknown log kind in ${path}: ${JSON.stringify(line)}`);
    }
  }
}

describe("crash safety under SIGKILL", () => {
  test(`${ROUNDS} rounds of writers, readers and movers killed at random moments`, async () => {
    using dir = tempDir("sb-crash-");
    const db = join(dir.path, "crash.db");
    const rand = mulberry32(SEED);
    const ledger = new Ledger();
    const totals: Totals = { written: 0, delivered: 0, lost: 0, duplicated: 0, window: 0, kills: 0, cliRuns: 0 };
    const started = performance.now();
    console.log(`crash: seed=${SEED} rounds=${ROUNDS} db=${db}`);

    for (let round = 0; round < ROUNDS; round++) {
      await runRound(round, db, dir.path, rand, ledger, totals);
      const check = verify(db, ledger);
      totals.written = ledger.written.size;
      totals.delivered = ledger.delivered.size;
      totals.lost = check.lost.length;
      totals.duplicated = ledger.duplicates.length;
      totals.window = check.window;
      if (check.integrity !== "ok" || check.lost.length || ledger.duplicates.length || check.problems.length) {
        console.log(
          `crash: round ${round} FAILED integrity=${check.integrity} lost=${JSON.stringify(check.lost.slice(0, 5))} ` +
            `duplicated=${JSON.stringify(ledger.duplicates.slice(0, 5))} problems=${JSON.stringify(check.problems.slice(0, 5))}`,
        );
      }
      expect(check.integrity).toBe("ok");
      expect(check.lost).toEqual([]);
      expect(ledger.duplicates).toEqual([]);
      expect(check.problems).toEqual([]);
    }

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `crash summary: rounds=${ROUNDS} written=${totals.written} delivered=${totals.delivered} lost=${totals.lost} ` +
        `duplicated=${totals.duplicated} window=${totals.window} kills=${totals.kills} cli_runs=${totals.cliRuns} ` +
        `seed=${SEED} seconds=${seconds}`,
    );
    expect(totals.written).toBeGreaterThan(ROUNDS * 10);
    expect(totals.delivered).toBeGreaterThan(ROUNDS);
  }, 600_000);
});

// --- one round ---

async function runRound(round: number, db: string, dir: string, rand: () => number, ledger: Ledger, totals: Totals) {
  const roles = ["writer", "writer", "reader", "mover", rand() < 0.5 ? "reader" : "writer"];
  const logs: string[] = [];
  const fixtures = roles.map((role, i) => {
    const log = join(dir, `r${round}-${role}${i}.log`);
    logs.push(log);
    const proc = Bun.spawn(
      [process.execPath, FIXTURE, role, db, log, `r${round}L${i}`, String(Math.floor(rand() * 2 ** 32))],
      // Auto-vacuum would delete claimed rows and blur the accounting of the window.
      { stdout: "ignore", stderr: "pipe", stdin: "ignore", env: { ...process.env, BROKER_AUTO_VACUUM: "0" } },
    );
    const killAt = KILL_MIN_MS + rand() * (KILL_MAX_MS - KILL_MIN_MS);
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      totals.kills++;
    }, killAt);
    return { proc, timer, stderr: new Response(proc.stderr).text() };
  });

  // CLI lanes run until every library fixture is dead.
  let stop = false;
  const laneSeeds = [0, 1, 2].map(() => Math.floor(rand() * 2 ** 32));
  const lanes = [
    cliLane("write", round, db, mulberry32(laneSeeds[0]!), () => stop, ledger, totals),
    cliLane("read", round, db, mulberry32(laneSeeds[1]!), () => stop, ledger, totals),
    cliLane("move", round, db, mulberry32(laneSeeds[2]!), () => stop, ledger, totals),
  ];

  for (const f of fixtures) {
    const code = await f.proc.exited;
    clearTimeout(f.timer);
    // A fixture may only end by our SIGKILL; anything else is a crash of its own.
    if (f.proc.signalCode !== "SIGKILL") {
      throw new Error(`fixture exited by itself (code ${code}): ${await f.stderr}`);
    }
  }
  stop = true;
  await Promise.all(lanes);
  for (const log of logs) ledger.readLog(log);
}

/** A loop of CLI subprocesses of one kind, some of them SIGKILLed shortly after start. */
async function cliLane(
  kind: "write" | "read" | "move",
  round: number,
  db: string,
  rand: () => number,
  stopped: () => boolean,
  ledger: Ledger,
  totals: Totals,
): Promise<void> {
  for (let seq = 0; !stopped(); seq++) {
    let args: string[];
    let stdin: string | undefined;
    let body: string | undefined;
    if (kind === "write") {
      body = `r${round}C-${seq}-ü`;
      if (rand() < 0.3) {
        args = ["write", "q", "-"];
        stdin = body;
      } else args = ["write", "q", body];
    } else if (kind === "read") {
      const q = rand() < 0.5 ? "q" : "q2";
      args = rand() < 0.3 ? ["read", q, "--all", "--json"] : ["read", q, "--json"];
    } else {
      args = rand() < 0.7 ? ["move", "q", "q2", "--json"] : ["move", "q2", "q", "--json"];
    }
    const proc = Bun.spawn([process.execPath, CLI, "-f", db, ...args], {
      stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
      stdout: "pipe",
      stderr: "pipe",
    });
    totals.cliRuns++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (rand() < 0.4) {
      timer = setTimeout(() => {
        proc.kill("SIGKILL");
        totals.kills++;
      }, rand() * 70);
    }
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    const killed = proc.signalCode === "SIGKILL";
    if (!killed && code !== 0 && code !== 2) {
      throw new Error(`broker ${args.join(" ")} exited ${code}: ${stderr}`);
    }
    if (kind === "write" && !killed && code === 0) ledger.addWrite(body!, undefined);
    if (kind === "read") {
      // Whatever reached our end of the pipe was received, even from a process killed later.
      const end = stdout.lastIndexOf("\n");
      if (end >= 0) {
        for (const line of stdout.slice(0, end).split("\n")) ledger.addDelivery(JSON.parse(line).message);
      }
    }
  }
}

// --- checks ---

interface Check {
  integrity: string;
  lost: string[];
  window: number;
  problems: string[];
}

function verify(path: string, ledger: Ledger): Check {
  const db = new Database(path, { readwrite: true, safeIntegers: true });
  try {
    const integrity = (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join("; ");
    const rows = db.query("SELECT id, queue, body, ts, claimed FROM messages ORDER BY id").all() as {
      id: bigint;
      queue: string;
      body: string;
      ts: bigint;
      claimed: bigint;
    }[];
    const lastTs = (db.query("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint }).value;
    const byBody = new Map<string, (typeof rows)[number]>();
    const problems: string[] = [];
    let maxTs = 0n;
    for (const r of rows) {
      if (byBody.has(r.body)) problems.push(`body stored twice: ${r.body}`);
      byBody.set(r.body, r);
      if (r.ts > maxTs) maxTs = r.ts;
      if (r.claimed !== 0n && r.claimed !== 1n) problems.push(`claimed=${r.claimed} for ${r.body}`);
      if (r.queue !== "q" && r.queue !== "q2") problems.push(`unexpected queue ${r.queue}`);
      if (!/^r\d+(L\d+|C)-\d+(-é✓(-[bc])?|-ü)$/.test(r.body)) problems.push(`unexpected body ${JSON.stringify(r.body)}`);
    }
    if (lastTs < maxTs) problems.push(`meta.last_ts ${lastTs} < max(ts) ${maxTs}`);

    const lost: string[] = [];
    for (const [body, id] of ledger.written) {
      const row = byBody.get(body);
      if (!row) {
        if (!ledger.delivered.has(body)) lost.push(body);
        else problems.push(`delivered message vanished from the database: ${body}`);
        continue;
      }
      if (id !== undefined && row.ts !== id) problems.push(`id changed for ${body}: wrote ${id}, stored ${row.ts}`);
    }
    let window = 0;
    for (const row of rows) {
      const seen = ledger.delivered.has(row.body);
      if (row.claimed === 1n && !seen) window++;
      if (row.claimed === 0n && seen) problems.push(`delivered but still pending: ${row.body}`);
    }
    for (const body of ledger.delivered.keys()) {
      if (!byBody.has(body)) problems.push(`delivered a message that is not in the database: ${body}`);
    }
    return { integrity, lost, window, problems };
  } finally {
    db.close();
  }
}
