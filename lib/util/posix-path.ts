/**
 * POSIX path arithmetic with `node:path`'s results (`join`, `resolve`,
 * `dirname`, `basename`, `isAbsolute`), in plain string code. Loading
 * `node:path` costs a compiled CLI ~2 ms of start-up, more than a whole
 * `broker write` spends on its own work, so the hot path uses these instead.
 * The test suite compares them with `node:path` on generated inputs.
 * @module
 */

/** `path.isAbsolute`: starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.charCodeAt(0) === 47; // "/"
}

/** `path.normalize`: `.` dropped, `..` folded, slashes collapsed, a trailing slash kept. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = isAbsolute(path);
  const trailing = path.charCodeAt(path.length - 1) === 47;
  const body = fold(path, absolute);
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  return (absolute ? "/" : "") + body + (trailing ? "/" : "");
}

/** `path.join`: the non-empty parts joined with `/`, then normalized. */
export function join(...parts: string[]): string {
  let joined = "";
  for (const part of parts) {
    if (part === "") continue;
    joined = joined === "" ? part : `${joined}/${part}`;
  }
  return joined === "" ? "." : normalize(joined);
}

/** `path.resolve`: from the right until an absolute part, on top of `process.cwd()`; no trailing slash. */
export function resolve(...parts: string[]): string {
  let resolved = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(resolved); i--) {
    const part = parts[i]!;
    if (part === "") continue;
    resolved = resolved === "" ? part : `${part}/${resolved}`;
  }
  if (!isAbsolute(resolved)) resolved = resolved === "" ? process.cwd() : `${process.cwd()}/${resolved}`;
  return `/${fold(resolved, true)}`;
}

/** `path.dirname`: everything before the last component (trailing slashes ignored, inner ones kept as node does). */
export function dirname(path: string): string {
  if (path === "") return ".";
  let i = path.length - 1;
  while (i >= 1 && path.charCodeAt(i) === 47) i--;
  while (i >= 1 && path.charCodeAt(i) !== 47) i--;
  if (i < 1) return isAbsolute(path) ? "/" : ".";
  return i === 1 && isAbsolute(path) ? "//" : path.slice(0, i);
}

/** `path.basename` (without the suffix argument): the last component. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  if (end === 0) return "";
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

// --- internal ---

/** The components of `path` with `.` and empty parts dropped and `..` folded; `..` above the root is dropped when absolute. */
function fold(path: string, absolute: boolean): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(part);
  }
  return out.join("/");
}
