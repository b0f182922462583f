/**
 * The global actions that are options, not commands (docs/compatibility.md#commands):
 * `--cleanup`, `--vacuum [--compact]` and `--status [--json]`.
 * @module
 */
import { fs } from "../lib/util/fs-lazy.ts";
import { localFilesOf } from "../lib/backends/index.ts";
import { BackendError } from "../lib/core/errors.ts";
import type { VacuumResult } from "../lib/core/types.ts";
import type { CliContext } from "./context.ts";
import { EXIT, type ExitCode } from "./exit.ts";
import { jsonId, log, out } from "./output.ts";
import { startProgress } from "./progress.ts";
import { exitAfterSignal, withStopSignals } from "./signals.ts";

export async function cleanup(ctx: CliContext): Promise<ExitCode> {
  const target = ctx.target();
  const files = localFilesOf(target.backendName);
  if (files) {
    const path = target.target;
    if (!fs().existsSync(path)) {
      log.info(`Database not found, nothing to clean up: ${path}`);
      return EXIT.OK;
    }
    files.check(path, true);
  }
  const broker = await ctx.broker();
  let existed: boolean;
  try {
    existed = await broker.cleanup();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EACCES" || code === "EPERM") throw new BackendError(`Permission denied: ${broker.displayTarget}`);
    throw error;
  }
  const shown = broker.displayTarget;
  if (files) log.info(existed ? `Database cleaned up: ${shown}` : `Database not found, nothing to clean up: ${shown}`);
  else
    log.info(
      existed ? `Cleaned up SimpleBroker target: ${shown}` : `SimpleBroker target not found, nothing to clean up: ${shown}`,
    );
  return EXIT.OK;
}

export async function vacuum(ctx: CliContext): Promise<ExitCode> {
  const target = ctx.target();
  if (localFilesOf(target.backendName) && !fs().existsSync(target.target)) {
    log.info(`Database not found: ${target.target}`);
    return EXIT.OK;
  }
  const broker = await ctx.broker();
  const compact = ctx.globals.compact;
  const { claimed } = await broker.overallStats();
  if (claimed === 0 && !compact) {
    log.info("No claimed messages to vacuum");
    return EXIT.OK;
  }
  const started = performance.now();
  const progress = startProgress("vacuum", ctx.globals.quiet);
  let outcome: Awaited<ReturnType<typeof vacuumUntilStopped>>;
  try {
    outcome = await withStopSignals((stop) => vacuumUntilStopped(broker.vacuum(compact), stop));
  } finally {
    progress.done();
  }
  if (!("ran" in outcome)) return exitAfterSignal(outcome.stoppedBy, "walk");
  const result = outcome;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (!result.ran) log.info("Vacuum skipped: another process holds the vacuum lock");
  else {
    if (result.vacuumed > 0) log.info(`Vacuumed ${result.vacuumed} claimed messages in ${seconds}s`);
    if (compact) log.info(`Database compacted in ${seconds}s`);
  }
  return EXIT.OK;
}

/**
 * The vacuum's result, or the stop signal that came first. After a signal the
 * vacuum gets a moment to end its batch and remove its lock (SQLite stops
 * between batches); a lock left behind by a vacuum cut short is taken over
 * by the next one, since its owner is gone.
 */
async function vacuumUntilStopped(run: Promise<VacuumResult>, stop: AbortSignal): Promise<VacuumResult | { stoppedBy: unknown }> {
  const stopped = new Promise<"stopped">((resolve) => {
    if (stop.aborted) resolve("stopped");
    stop.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
  const first = await Promise.race([run, stopped]);
  if (first !== "stopped") return first;
  await Promise.race([run.catch(() => {}), Bun.sleep(2000)]);
  return { stoppedBy: stop.reason };
}

export async function status(ctx: CliContext): Promise<ExitCode> {
  const target = ctx.target();
  // --status never creates a database: a missing SQLite file reads as empty, size 0 (docs/compatibility.md).
  const missing = localFilesOf(target.backendName) !== undefined && !fs().existsSync(target.target);
  const s = missing ? { totalMessages: 0, lastTimestamp: 0n, dbSize: 0 } : await (await ctx.broker()).status();
  await out(
    ctx.globals.statusJson
      ? `{"total_messages": ${s.totalMessages}, "last_timestamp": ${jsonId(s.lastTimestamp)}, "db_size": ${s.dbSize}${"persistence" in s && s.persistence ? `, "persistence": "${s.persistence}"` : ""}}\n`
      : `total_messages: ${s.totalMessages}\nlast_timestamp: ${s.lastTimestamp}\ndb_size: ${s.dbSize}\n`,
  );
  return EXIT.OK;
}
