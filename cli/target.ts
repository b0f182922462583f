/**
 * CLI target resolution and SQLite path validation (docs/compatibility.md#target-resolution): which broker
 * a command line means, given `-d`/`-f`, project scope and `BROKER_BACKEND`.
 * @module
 */
import { fs } from "../lib/util/fs-lazy.ts";
import { dirname, isAbsolute, isWithin, join, resolve } from "../lib/util/path.ts";
import { resolveConfig } from "../lib/target/config.ts";
import { ArgumentError, BackendError } from "../lib/core/errors.ts";
import { pythonPathStr, resolveLoose, validateSafePath } from "../lib/target/paths.ts";
import { envBackendTarget, resolveBrokerTarget } from "../lib/target/project.ts";
import { DEFAULT_BACKEND, localFilesOf } from "../lib/backends/index.ts";
import type { BrokerConfig, BrokerTarget } from "../lib/core/types.ts";

/** What the CLI parsed, plus the process working directory. */
export interface CliTargetOptions {
  /** The subcommand (`write`, `init`, …), undefined for `--cleanup`/`--vacuum`/`--status`. */
  command: string | undefined;
  /** `-d` as given; only used when `dirExplicit`. */
  dir: string;
  dirExplicit: boolean;
  /** `-f` as given; only used when `fileExplicit`. */
  file: string;
  fileExplicit: boolean;
  /** Absolute working directory (relative `-d`/`-f` are taken from it). */
  cwd: string;
  /**
   * Run the SQLite path validations on path-mode targets (default: true).
   * Every command and every global action takes checks 1–4 (safe `-d` and
   * `-f`, `-d` exists, the database inside the working folder after
   * symlinks); check 5 (the grandparent folder) applies to commands other
   * than `init`. 3.6.1 skipped them all for `init`, `--cleanup`, `--vacuum`
   * and `--status`, which let a dangling `.broker.db` symlink or `-d ../..`
   * put a database outside the working folder (docs/paths.md).
   */
  validate?: boolean;
  /**
   * Where an existing database at `dbPath` really is: the canonical path of
   * the file (every symlink resolved), or undefined when there is none. The
   * CLI answers it with SQLite's own open, so a command on an existing
   * database needs no `node:fs`. When the answer equals `dbPath`, validations
   * 2, 4 and 5 hold at once (see `validateSqlitePath`).
   */
  locate?: (dbPath: string) => string | undefined;
}

/**
 * Resolve the target of one CLI invocation (docs/compatibility.md#target-resolution) and, for
 * SQLite path-mode targets, run path validations 1–5. Resolution errors are
 * {@link ArgumentError}s; validation errors are {@link BackendError}s (code
 * `ERROR`); an unknown `BROKER_BACKEND` is a `ConfigError`.
 *
 * Differences from 3.6.1: an explicit `-d` beats `BROKER_DEFAULT_DB_LOCATION`
 * (docs/compatibility.md#q14-explicit-dir-wins); the returned SQLite path is always absolute.
 */
export function resolveCliTarget(opts: CliTargetOptions, config: BrokerConfig = resolveConfig()): BrokerTarget {
  const { command, cwd } = opts;
  const dirArg = opts.dirExplicit
    ? pythonPathStr(opts.dir)
    : config.defaultDbLocation && localFilesOf(config.backend)
      ? pythonPathStr(config.defaultDbLocation)
      : cwd;
  const fileArg = opts.fileExplicit ? opts.file : config.defaultDbName;
  const dirAbs = resolve(cwd, dirArg);
  const validate = opts.validate ?? true;
  // 3.6.1 checks the grandparent folder only for commands; init and the global actions never had that check.
  const paths: PathArgs = {
    dirArg,
    dirAbs,
    fileArg,
    locate: opts.locate,
    grandparent: command !== undefined && command !== "init",
  };

  // 1. An explicit -f (outside init) is a plain SQLite file; project scope is ignored.
  if (command !== "init" && opts.fileExplicit) {
    let dbPath: string;
    if (isAbsolute(fileArg)) {
      dbPath = pythonPathStr(fileArg);
      if (opts.dirExplicit && resolveLoose(dirname(dbPath)) !== resolveLoose(dirAbs)) {
        throw new ArgumentError(`Inconsistent paths: absolute database path '${dbPath}' conflicts with directory '${dirArg}'`);
      }
    } else {
      dbPath = join(dirAbs, fileArg);
    }
    return finish(pathTarget(dbPath, false, null), paths, validate);
  }

  // 2. Project scope: upward .broker.toml, then legacy database, then env backend.
  if (config.projectScope) {
    const found = resolveBrokerTarget(resolveLoose(dirAbs), config);
    if (found) return finish(found, paths, validate);
  }

  // 3. A BROKER_BACKEND whose store is not a local file.
  if (!localFilesOf(config.backend)) return envBackendTarget(config, resolveLoose(dirAbs));

  // 4. init always creates in the cwd (ignores -d, -f and BROKER_DEFAULT_DB_LOCATION).
  if (command === "init") {
    const initPaths = { dirArg: cwd, dirAbs: cwd, fileArg: config.defaultDbName, locate: opts.locate, grandparent: false };
    return finish(pathTarget(join(cwd, config.defaultDbName), false, null), initPaths, validate);
  }

  // 5. Project scope found nothing: an error. Otherwise <dir>/<BROKER_DEFAULT_DB_NAME>.
  if (config.projectScope) {
    throw new ArgumentError(
      `BROKER_PROJECT_SCOPE is enabled but no project database '${config.defaultDbName}' was found in ` +
        `'${dirArg}' or any parent directory. Run 'broker init' in the project root directory to create one.`,
    );
  }
  return finish(pathTarget(join(dirAbs, config.defaultDbName), false, null), paths, validate);
}

// --- internal ---

interface PathArgs {
  /** `-d` as printed in messages. */
  dirArg: string;
  dirAbs: string;
  /** `-f` (or the default name) as given. */
  fileArg: string;
  locate?: CliTargetOptions["locate"];
  /** Run check 5 (the database's grandparent folder exists, is searchable and writable). */
  grandparent: boolean;
}

function pathTarget(path: string, usedProjectScope: boolean, projectRoot: string | null): BrokerTarget {
  return {
    backendName: DEFAULT_BACKEND,
    target: path,
    backendOptions: {},
    projectRoot,
    configPath: null,
    usedProjectScope,
    legacySqlitePathMode: true,
  };
}

function finish(target: BrokerTarget, paths: PathArgs, validate: boolean): BrokerTarget {
  if (validate && target.legacySqlitePathMode) {
    validateSqlitePath(target.target, target.usedProjectScope, paths);
  }
  return target;
}

/** The path checks of 3.6.1, in its order and with its messages (docs/compatibility.md#safe-paths). */
function validateSqlitePath(dbPath: string, usedProjectScope: boolean, paths: PathArgs): void {
  const { dirArg, dirAbs, fileArg } = paths;
  safePath(dirArg, "Directory argument (-d/--dir)");

  // An existing database whose canonical path is the path itself (no symlink anywhere; -f relative and
  // safe, so -d is one of its directories) passes 2-5 at once: -d exists and is a directory, the name is
  // safe, the file is inside -d, and its grandparent exists and is searchable. 5's writability test is
  // not repeated for it: that test guards creating the file (docs/compatibility.md#q23-grandparent-directory-check).
  // Anything else takes the checks below, in 3.6.1's order and with its messages.
  if (!usedProjectScope && !isAbsolute(fileArg) && isSafePath(fileArg) && paths.locate?.(dbPath) === dbPath) return;

  const dirStat = statOrNull(dirAbs);
  if (!dirStat) throw new BackendError(`Directory not found: ${dirArg}`);
  if (!dirStat.isDirectory()) {
    throw new BackendError(dirStat.isFile() ? `Path is a file, not a directory: ${dirArg}` : `Not a directory: ${dirArg}`);
  }

  if (!usedProjectScope) safePath(fileArg, "Database filename");

  const resolvedDb = resolveLoose(dbPath);
  if (!usedProjectScope && !isAbsolute(fileArg)) {
    const resolvedDir = resolveLoose(dirAbs);
    if (!isWithin(resolvedDb, resolvedDir)) throw new BackendError("Database file must be within the working directory");
  }

  // Quirk-exact (docs/compatibility.md#q23-grandparent-directory-check): 3.6.1 checks the parent of the database's parent, so one
  // missing level (`-f newdir/x.db`) is created later and deeper ones fail.
  if (!paths.grandparent) return;
  const checked = dirname(dirname(resolvedDb));
  if (!statOrNull(checked)) throw new BackendError(`Parent directory not found: ${checked}`);
  if (!canAccess(checked, fs().constants.X_OK)) throw new BackendError(`Parent directory is not accessible: ${checked}`);
  if (!canAccess(checked, fs().constants.W_OK)) throw new BackendError(`Parent directory is not writable: ${checked}`);
}

function safePath(path: string, context: string): void {
  try {
    validateSafePath(path, context);
  } catch (error) {
    if (error instanceof ArgumentError) throw new BackendError(error.message, { cause: error });
    throw error;
  }
}

function isSafePath(path: string): boolean {
  try {
    validateSafePath(path, "");
    return true;
  } catch {
    return false;
  }
}

function statOrNull(path: string) {
  try {
    return fs().statSync(path);
  } catch {
    return null;
  }
}

function canAccess(path: string, mode: number): boolean {
  try {
    fs().accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
