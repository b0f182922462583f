/**
 * Which bundle of the CLI this code runs in. From source, and in the complete
 * bundle of a compiled binary, {@link FULL_BUNDLE} is undefined and every
 * command runs here.
 *
 * A compiled binary (scripts/build.ts) carries two bundles. The first, which
 * starts on every call, leaves out what only some calls need: the PostgreSQL
 * and Redis backends, `broker serve` and its dashboard, and the TOML parser
 * for `.broker.toml` (about half of the code, whose bytecode a compiled
 * binary would otherwise load on every start). The build points
 * {@link FULL_BUNDLE} of that first bundle at the second, complete one, and
 * puts in place of each module left out one that throws
 * {@link NeedsFullBundle} when loaded. The first bundle then hands the call
 * over — before it has opened anything or printed anything — and the
 * complete bundle runs the same command line from the start.
 * @module
 */

/** The embedded path of the complete bundle, relative to the executable; set only in a binary's first bundle. */
export const FULL_BUNDLE: string | undefined = undefined;

/**
 * Whether the first bundle can serve a call on this backend: only on a
 * backend whose target is a local file (SQLite); the network backends are
 * among what it leaves out.
 */
export function firstBundleServes(backend: string): boolean {
  const { localFilesOf } = require("../lib/backends/index.ts") as typeof import("../lib/backends/index.ts");
  return localFilesOf(backend) !== undefined;
}

/** Thrown by a module the first bundle left out, when something loads it. */
export class NeedsFullBundle extends Error {
  override name = "NeedsFullBundle";
}

/** Whether `error`, or an error it was caused by, says the complete bundle must run this call. */
export function needsFullBundle(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === "NeedsFullBundle") return true;
  }
  return false;
}

/**
 * Run this process's command line in the complete bundle: importing it runs
 * its entry, which sets the exit status when the command ends. The promise
 * returned never settles, so the caller does nothing more.
 */
export async function handOver(): Promise<never> {
  // `.slice(0)`: a specifier the bundler cannot fold to a constant, so it stays an import at run time
  // (a constant one would be resolved at build time and the complete bundle put inside this one).
  await import((FULL_BUNDLE as string).slice(0));
  return new Promise<never>(() => {});
}
