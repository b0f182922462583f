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

// Each function is picked on process.platform itself, not IS_WINDOWS: a compiled binary defines it as a constant,
// and the bundler then leaves the other platform's rules out (scripts/build.ts). Picked one by one, not through a
// namespace object, so nothing runs a getter for them at start-up.

/** The separator this platform's results use. */
export const sep = process.platform === "win32" ? "\\" : "/";
/** `path.isAbsolute` of this platform. */
export const isAbsolute: (path: string) => boolean = process.platform === "win32" ? win32.isAbsolute : posix.isAbsolute;
/** `path.normalize` of this platform. */
export const normalize: (path: string) => string = process.platform === "win32" ? win32.normalize : posix.normalize;
/** `path.join` of this platform. */
export const join: (...parts: string[]) => string = process.platform === "win32" ? win32.join : posix.join;
/** `path.resolve` of this platform (relative to `process.cwd()`). */
export const resolve: (...parts: string[]) => string = process.platform === "win32" ? win32.resolve : posix.resolve;
/** `path.dirname` of this platform. */
export const dirname: (path: string) => string = process.platform === "win32" ? win32.dirname : posix.dirname;
/** `path.basename` (no suffix argument) of this platform. */
export const basename: (path: string) => string = process.platform === "win32" ? win32.basename : posix.basename;

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
