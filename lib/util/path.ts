/**
 * The path arithmetic of the platform we run on: Windows rules
 * ({@link ./win32-path.ts}: drives, `\` and `/`, UNC shares) on Windows,
 * POSIX rules ({@link ./posix-path.ts}) elsewhere. Both are plain string
 * code, so choosing costs nothing at start-up, unlike loading `node:path`.
 * @module
 */
import * as posix from "./posix-path.ts";
import * as win32 from "./win32-path.ts";

/** True when paths follow Windows rules. */
export const IS_WINDOWS = process.platform === "win32";

// Tested on process.platform itself, not IS_WINDOWS: a compiled binary defines it as a constant, and the
// bundler then leaves the other platform's rules out (scripts/build.ts).
const impl = process.platform === "win32" ? win32 : posix;

/** The separator this platform's results use. */
export const sep = IS_WINDOWS ? "\\" : "/";
/** `path.isAbsolute` of this platform. */
export const isAbsolute: (path: string) => boolean = impl.isAbsolute;
/** `path.normalize` of this platform. */
export const normalize: (path: string) => string = impl.normalize;
/** `path.join` of this platform. */
export const join: (...parts: string[]) => string = impl.join;
/** `path.resolve` of this platform (relative to `process.cwd()`). */
export const resolve: (...parts: string[]) => string = impl.resolve;
/** `path.dirname` of this platform. */
export const dirname: (path: string) => string = impl.dirname;
/** `path.basename` (no suffix argument) of this platform. */
export const basename: (path: string) => string = impl.basename;

/**
 * True when `path` is `dir` or lies inside it; both absolute and resolved
 * (symlinks followed). Windows compares without regard to case, as its file
 * systems do, and separates with `\`.
 */
export function isWithin(path: string, dir: string, windows: boolean = IS_WINDOWS): boolean {
  const s = windows ? "\\" : "/";
  const p = windows ? path.toLowerCase() : path;
  const d = windows ? dir.toLowerCase() : dir;
  return p === d || p.startsWith(d.endsWith(s) ? d : `${d}${s}`);
}
