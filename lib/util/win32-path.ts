/**
 * Windows path arithmetic with `node:path`'s `win32` results (`isAbsolute`,
 * `normalize`, `join`, `resolve`, `dirname`, `basename`), in plain string
 * code like {@link ./posix-path.ts} and for the same reason: start-up time.
 * Both `\` and `/` separate; results use `\`. A root is a drive (`C:`,
 * absolute as `C:\`), a single separator, or a UNC share (`\\server\share\`,
 * which also covers `\\?\…` and `\\.\…` device paths).
 * The test suite compares every function with `node:path`'s `win32` on
 * generated inputs, on any operating system.
 * @module
 */

/** `path.win32.isAbsolute`: a leading separator, or a drive followed by one. */
export function isAbsolute(path: string): boolean {
  if (path.length === 0) return false;
  if (isSep(path.charCodeAt(0))) return true;
  return path.length > 2 && isDriveLetter(path.charCodeAt(0)) && path.charCodeAt(1) === 58 && isSep(path.charCodeAt(2));
}

/** `path.win32.normalize`: separators become `\`, `.` dropped, `..` folded, a trailing separator kept. */
export function normalize(path: string): string {
  if (path.length === 0) return ".";
  if (path.length === 1) return isSep(path.charCodeAt(0)) ? "\\" : path;
  const root = splitRoot(path, false);
  if (root.uncOnly) return `${root.device}\\`;
  let tail = root.end < path.length ? fold(path.slice(root.end), root.absolute) : "";
  if (tail === "" && !root.absolute) tail = ".";
  if (tail !== "" && isSep(path.charCodeAt(path.length - 1))) tail += "\\";
  return root.absolute ? `${root.device}\\${tail}` : `${root.device}${tail}`;
}

/** `path.win32.join`: the non-empty parts joined with `\`, then normalized; only the first part can make a UNC root. */
export function join(...parts: string[]): string {
  let joined = "";
  let first = "";
  for (const part of parts) {
    if (part === "") continue;
    if (joined === "") joined = first = part;
    else joined = `${joined}\\${part}`;
  }
  if (joined === "") return ".";
  // A UNC root survives only when the first part itself starts with exactly two separators
  // and a name; otherwise runs of leading separators collapse to one, so joining "\\" and
  // "server" never invents a share.
  let keep = false;
  let leading = 0;
  if (isSep(first.charCodeAt(0))) {
    leading = 1;
    if (first.length > 1 && isSep(first.charCodeAt(1))) {
      leading = 2;
      if (first.length > 2) {
        if (isSep(first.charCodeAt(2))) leading = 3;
        else keep = true;
      }
    }
  }
  if (!keep) {
    while (leading < joined.length && isSep(joined.charCodeAt(leading))) leading++;
    if (leading >= 2) joined = `\\${joined.slice(leading)}`;
  }
  return normalize(joined);
}

/**
 * `path.win32.resolve`: from the right until a part is absolute and has a
 * device; a drive-relative part (`C:x`) is taken from that drive's current
 * directory (`=C:` in the environment) when the process is on another drive.
 */
export function resolve(...parts: string[]): string {
  let device = "";
  let tail = "";
  let absolute = false;
  for (let i = parts.length - 1; i >= -1; i--) {
    let path: string;
    if (i >= 0) {
      path = parts[i]!;
      if (path === "") continue;
    } else if (device === "") {
      path = process.cwd();
    } else {
      path = process.env[`=${device}`] || process.cwd();
      const other = path.slice(0, 2).toLowerCase() !== device.toLowerCase() && path.charCodeAt(2) === 92;
      if (other) path = `${device}\\`;
    }
    const root = splitRoot(path, true);
    if (root.device !== "") {
      if (device === "") device = root.device;
      else if (root.device.toLowerCase() !== device.toLowerCase()) continue;
    }
    if (absolute) {
      if (device !== "") break;
    } else {
      tail = `${path.slice(root.end)}\\${tail}`;
      absolute = root.absolute;
      if (absolute && device !== "") break;
    }
  }
  tail = fold(tail, absolute);
  if (absolute) return `${device}\\${tail}`;
  return `${device}${tail}` || ".";
}

/** `path.win32.dirname`: everything before the last component; a root is its own dirname. */
export function dirname(path: string): string {
  const len = path.length;
  if (len === 0) return ".";
  if (len === 1) return isSep(path.charCodeAt(0)) ? path : ".";
  const root = splitRoot(path, false);
  if (root.uncOnly) return path;
  // Where the root ends for the scan: after a drive, after a leading separator, or after the
  // separator that follows a UNC share.
  let offset = root.end;
  if (isSep(path.charCodeAt(0))) offset = root.device === "" ? 1 : root.end + 1;
  let end = -1;
  let inName = false;
  for (let i = len - 1; i >= offset; i--) {
    if (isSep(path.charCodeAt(i))) {
      if (inName) {
        end = i;
        break;
      }
    } else {
      inName = true;
    }
  }
  if (end === -1) {
    if (offset === 0) return ".";
    end = offset;
  }
  return path.slice(0, end);
}

/** `path.win32.basename` (without the suffix argument): the last component, after any drive. */
export function basename(path: string): string {
  const start = path.length >= 2 && isDriveLetter(path.charCodeAt(0)) && path.charCodeAt(1) === 58 ? 2 : 0;
  let end = path.length;
  while (end > start && isSep(path.charCodeAt(end - 1))) end--;
  let i = end - 1;
  while (i >= start && !isSep(path.charCodeAt(i))) i--;
  return path.slice(i + 1, end);
}

// --- internal ---

interface Root {
  /** `C:` or `\\server\share` (as written, separators made `\`), or "" for none. */
  device: string;
  /** The root includes a separator after the device (or is one). */
  absolute: boolean;
  /** Index where the path after the root starts. */
  end: number;
  /** The whole path is `\\server\share` with nothing after it. */
  uncOnly: boolean;
}

/**
 * The root of `path`. `shareOnly` (resolve's rule) accepts a UNC root with
 * nothing after the share as an ordinary root instead of flagging it.
 */
function splitRoot(path: string, shareOnly: boolean): Root {
  const len = path.length;
  const c0 = path.charCodeAt(0);
  if (isSep(c0)) {
    if (len > 1 && isSep(path.charCodeAt(1))) {
      // `\\server\share`: a server name, separators, then a share name.
      let j = 2;
      while (j < len && !isSep(path.charCodeAt(j))) j++;
      if (j < len && j !== 2) {
        const server = path.slice(2, j);
        let last = j;
        while (j < len && isSep(path.charCodeAt(j))) j++;
        if (j < len && j !== last) {
          last = j;
          while (j < len && !isSep(path.charCodeAt(j))) j++;
          const device = `\\\\${server}\\${path.slice(last, j)}`;
          if (j === len && !shareOnly) return { device, absolute: true, end: j, uncOnly: true };
          if (j === len || j !== last) return { device, absolute: true, end: j, uncOnly: false };
        }
      }
      return { device: "", absolute: true, end: shareOnly ? 1 : 0, uncOnly: false };
    }
    return { device: "", absolute: true, end: 1, uncOnly: false };
  }
  if (len > 1 && isDriveLetter(c0) && path.charCodeAt(1) === 58) {
    const absolute = len > 2 && isSep(path.charCodeAt(2));
    return { device: path.slice(0, 2), absolute, end: absolute ? 3 : 2, uncOnly: false };
  }
  return { device: "", absolute: false, end: 0, uncOnly: false };
}

/** The components of `path` joined with `\`, `.` and empty ones dropped, `..` folded (dropped above an absolute root). */
function fold(path: string, absolute: boolean): string {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && !isSep(path.charCodeAt(i))) continue;
    const part = path.slice(start, i);
    start = i + 1;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(part);
  }
  return out.join("\\");
}

function isSep(code: number): boolean {
  return code === 47 || code === 92; // "/" or "\"
}

function isDriveLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
