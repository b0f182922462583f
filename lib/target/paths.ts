/**
 * Path helpers with Python `pathlib` semantics: the safe-path check of
 * docs/compatibility.md#safe-paths, `PurePath.with_suffix` (docs/on-disk-format.md#files), `str(Path(p))` normalisation and a
 * non-strict `Path.resolve()`.
 * @module
 */
import { fs } from "../util/fs-lazy.ts";
import { basename, dirname, isAbsolute, IS_WINDOWS, join, resolve } from "../util/path.ts";
import { ArgumentError } from "../core/errors.ts";

/** Characters rejected anywhere in a path (3.6.1's POSIX set: control characters and shell metacharacters). */
const DANGEROUS_CHARS = "\0\r\n\t\x7f|&;$`\"'<>(){}[]*?~^!#";

/** Characters rejected anywhere in a Windows path (a drive letter's colon excepted). */
const WINDOWS_DANGEROUS_CHARS = '\0\r\n\t\x7f:*?"<>|';
/** Names Windows reserves for devices, in any case and with any extension. */
const WINDOWS_RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$/i;

/** Longest accepted path, in characters (POSIX). */
const MAX_PATH_CHARS = 1024;
/** Longest accepted path, in characters (Windows). */
const MAX_WINDOWS_PATH_CHARS = 260;
/** Longest accepted path component, in characters. */
const MAX_COMPONENT_CHARS = 255;

/**
 * Reject paths that could confuse a shell or escape a directory (docs/compatibility.md#safe-paths).
 * Throws {@link ArgumentError} with the exact 3.6.1 texts, where `context`
 * names the value, e.g. `Database filename`. `windows` (default: the
 * platform's) selects Windows' character set, reserved device names and
 * 260-character limit; `..`, `.` and the component rules are the same on
 * both, with `\` and `/` both separating.
 */
export function validateSafePath(path: string, context: string, windows: boolean = IS_WINDOWS): void {
  if (typeof path !== "string" || path === "") {
    throw new ArgumentError(`${context} must be a non-empty string`);
  }
  // Char-code loops rather than a regex, Array.from and filter: this runs on every CLI call, and
  // the first use of each of those costs a compile of ~0.1-0.7 ms in a fresh process.
  const dangerous = windows ? WINDOWS_DANGEROUS_CHARS : DANGEROUS_CHARS;
  // A drive letter's colon (`C:`) is the one colon Windows allows.
  const first = windows && /^[A-Za-z]:/.test(path) ? 2 : 0;
  for (let i = first; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 128 && dangerous.indexOf(path[i]!) !== -1) {
      throw new ArgumentError(
        `${context} contains dangerous character '${path[i]}': ${path}. ` +
          "Path components must not contain shell metacharacters or control characters.",
      );
    }
  }
  // Backslash is allowed, but counts as a separator for the component checks.
  const normalized = path.indexOf("\\") === -1 ? path : path.split("\\").join("/");
  for (const part of pathParts(normalized)) {
    if (part === "..") {
      throw new ArgumentError(`${context} must not contain parent directory references: ${path}`);
    }
    if (windows && WINDOWS_RESERVED.test(part)) {
      throw new ArgumentError(`${context} contains reserved name '${part}': ${path}`);
    }
    if (part.startsWith(" ") || part.endsWith(" ")) {
      throw new ArgumentError(`${context} component cannot start or end with spaces: '${part}' in ${path}`);
    }
    if (codePointCount(part) > MAX_COMPONENT_CHARS) {
      throw new ArgumentError(
        `${context} component too long (max ${MAX_COMPONENT_CHARS} chars): '${Array.from(part).slice(0, 50).join("")}...' in ${path}`,
      );
    }
  }
  if (normalized.includes("/./") || normalized.startsWith("./") || normalized === ".") {
    throw new ArgumentError(`${context} must not contain current directory references: ${path}`);
  }
  const count = codePointCount(path);
  const max = windows ? MAX_WINDOWS_PATH_CHARS : MAX_PATH_CHARS;
  if (count > max) {
    throw new ArgumentError(
      `${context} too long (max ${max} chars): ${count} chars in ${Array.from(path).slice(0, 50).join("")}...`,
    );
  }
}

/** Characters as Python counts them: code points, a lone surrogate counting as one. */
function codePointCount(text: string): number {
  let count = text.length;
  for (let i = 0; i + 1 < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/**
 * Python `PurePath(path).with_suffix(suffix)`: replace the suffix of the last
 * component (text from its last `.`, unless that dot is the first or last
 * character) or append `suffix` when there is none.
 * `withSuffix("/x/.broker.db", ".setup.lock")` → `/x/.broker.setup.lock`.
 */
export function withSuffix(path: string, suffix: string, windows: boolean = IS_WINDOWS): string {
  if (
    suffix !== "" &&
    (!suffix.startsWith(".") || suffix === "." || suffix.includes("/") || (windows && suffix.includes("\\")))
  ) {
    throw new ArgumentError(`Invalid suffix '${suffix}'`);
  }
  const isSep = (text: string) => text.endsWith("/") || (windows && text.endsWith("\\"));
  let trimmed = path;
  while (trimmed.length > 1 && isSep(trimmed)) trimmed = trimmed.slice(0, -1);
  const slash = windows ? Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) : trimmed.lastIndexOf("/");
  const head = trimmed.slice(0, slash + 1);
  const name = trimmed.slice(slash + 1);
  if (name === "" || name === ".") throw new ArgumentError(`${path} has an empty name`);
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : name;
  return head + stem + suffix;
}

/**
 * The components of a path as Python's `PurePosixPath.parts` sees them,
 * without the root: empty and `.` components are dropped.
 * `pathParts("a//./b/")` → `["a", "b"]`.
 */
export function pathParts(path: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== 47) continue;
    if (i > start && !(i === start + 1 && path.charCodeAt(start) === 46)) parts.push(path.slice(start, i));
    start = i + 1;
  }
  return parts;
}

/**
 * `str(PurePosixPath(path))`: collapse repeated slashes, drop `.` components
 * and a trailing slash; `..` is kept. An empty result is `.`.
 */
export function pythonPathStr(path: string): string {
  let root = "";
  if (path.startsWith("//") && !path.startsWith("///")) root = "//";
  else if (path.startsWith("/")) root = "/";
  const joined = root + pathParts(path).join("/");
  return joined === "" ? "." : joined;
}

/**
 * Python `Path(path).resolve(strict=False)`: an absolute path with every
 * existing symlink followed; the part that does not exist is appended as is.
 * Relative paths are taken from `cwd` (default: the process cwd).
 */
export function resolveLoose(path: string, cwd: string = process.cwd()): string {
  return resolveExisting(resolve(cwd, path), 0);
}

// --- internal ---

/** Symlink hops followed before giving up (Linux uses 40 as well). */
const MAX_SYMLINK_HOPS = 40;

function resolveExisting(absolute: string, hops: number): string {
  try {
    return fs().realpathSync(absolute);
  } catch {
    // Missing (or looping) path: resolve the parent, then re-attach the name.
  }
  const parent = dirname(absolute);
  if (parent === absolute) return absolute;
  const name = basename(absolute);
  const resolvedParent = resolveExisting(parent, hops);
  const candidate = join(resolvedParent, name);
  if (hops < MAX_SYMLINK_HOPS) {
    try {
      if (fs().lstatSync(candidate).isSymbolicLink()) {
        // A dangling link: follow its text like Python's non-strict resolve does.
        const link = fs().readlinkSync(candidate);
        return resolveExisting(isAbsolute(link) ? link : resolve(resolvedParent, link), hops + 1);
      }
    } catch {
      // Not there at all: keep the lexical name.
    }
  }
  return candidate;
}
