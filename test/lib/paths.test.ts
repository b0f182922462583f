// Guards the safe-path check (docs/compatibility.md#safe-paths), Python's with_suffix naming of
// sidecar files (docs/on-disk-format.md#files) and the pathlib-style helpers used by target resolution.
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError } from "../../lib/core/errors.ts";
import { pathParts, pythonPathStr, resolveLoose, validateSafePath, withSuffix } from "../../lib/target/paths.ts";
import { tempDir } from "../helpers.ts";

const CTX = "Database filename";
const METACHAR_TAIL = "Path components must not contain shell metacharacters or control characters.";

function errorOf(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("validateSafePath", () => {
  test.each(["broker.db", ".broker.db", "sub/x.db", "/abs/path/x.db", "a\\b.db", "with space.db", "dir/"])(
    "accepts %p",
    (path) => {
      expect(() => validateSafePath(path, CTX)).not.toThrow();
    },
  );

  const dangerous = ["\0", "\r", "\n", "\t", "\x7f", ..."|&;$`\"'<>(){}[]*?~^!#"];
  test.each(dangerous)("rejects dangerous character %p", (ch) => {
    const path = `a${ch}b.db`;
    const error = errorOf(() => validateSafePath(path, CTX));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toBe(`${CTX} contains dangerous character '${ch}': ${path}. ${METACHAR_TAIL}`);
  });

  test("reports the first dangerous character in string order", () => {
    expect(() => validateSafePath("x#y$z", CTX)).toThrow(`${CTX} contains dangerous character '#': x#y$z.`);
  });

  const long = "a".repeat(256);
  const tooLongPath = `${"abcdefghi/".repeat(102)}xyzxy`; // 1025 characters, short components
  test.each([
    ["", `${CTX} must be a non-empty string`],
    ["..", `${CTX} must not contain parent directory references: ..`],
    ["../x", `${CTX} must not contain parent directory references: ../x`],
    ["a/../b", `${CTX} must not contain parent directory references: a/../b`],
    ["a\\..\\b", `${CTX} must not contain parent directory references: a\\..\\b`],
    [".", `${CTX} must not contain current directory references: .`],
    ["./x.db", `${CTX} must not contain current directory references: ./x.db`],
    ["a/./b", `${CTX} must not contain current directory references: a/./b`],
    [" lead.db", `${CTX} component cannot start or end with spaces: ' lead.db' in  lead.db`],
    ["dir/trail /x", `${CTX} component cannot start or end with spaces: 'trail ' in dir/trail /x`],
    [long, `${CTX} component too long (max 255 chars): '${"a".repeat(50)}...' in ${long}`],
    [tooLongPath, `${CTX} too long (max 1024 chars): 1025 chars in ${tooLongPath.slice(0, 50)}...`],
  ])("rejects %p", (path, message) => {
    const error = errorOf(() => validateSafePath(path, CTX));
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toBe(message);
  });

  test("a 255-character component and a 1024-character path are fine", () => {
    expect(() => validateSafePath("b".repeat(255), CTX)).not.toThrow();
    expect(() => validateSafePath(`${"abcdefghi/".repeat(102)}xyzx`, CTX)).not.toThrow();
  });

  test("uses the given context", () => {
    expect(() => validateSafePath("x;y", "Directory argument (-d/--dir)")).toThrow(
      "Directory argument (-d/--dir) contains dangerous character ';'",
    );
  });
});

describe("withSuffix", () => {
  test.each([
    [".broker.db", ".setup.lock", ".broker.setup.lock"],
    ["queue.db", ".setup.lock", "queue.setup.lock"],
    ["data", ".setup.lock", "data.setup.lock"],
    ["my.q.db", ".setup.lock", "my.q.setup.lock"],
    ["/tmp/x/.broker.db", ".vacuum.lock", "/tmp/x/.broker.vacuum.lock"],
    ["/tmp/x.y/data", ".vacuum.lock", "/tmp/x.y/data.vacuum.lock"],
    [".hidden", ".lock", ".hidden.lock"],
    ["name.", ".lock", "name..lock"],
    ["dir/file.db/", ".lock", "dir/file.lock"],
    ["file.db", "", "file"],
  ])("%p with %p → %p", (path, suffix, expected) => {
    expect(withSuffix(path, suffix)).toBe(expected);
  });

  test.each([
    ["x.db", "lock"],
    ["x.db", "."],
    ["/", ".lock"],
  ])("rejects %p with %p", (path, suffix) => {
    expect(() => withSuffix(path, suffix)).toThrow(ArgumentError);
  });
});

describe("pythonPathStr / pathParts", () => {
  test.each([
    ["sub/", "sub"],
    ["./sub", "sub"],
    ["a//b/./c", "a/b/c"],
    ["/", "/"],
    ["//x", "//x"],
    ["///x", "/x"],
    ["", "."],
    [".", "."],
    ["a/../b", "a/../b"],
  ])("str(Path(%p)) = %p", (input, expected) => {
    expect(pythonPathStr(input)).toBe(expected);
  });

  test("parts drop empty and current-directory components", () => {
    expect(pathParts("/a//./b/")).toEqual(["a", "b"]);
  });
});

describe("resolveLoose", () => {
  test("follows existing symlinks and keeps the missing tail", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "real"));
    symlinkSync(join(d.path, "real"), join(d.path, "link"));
    expect(resolveLoose(join(d.path, "link", "missing", "x.db"))).toBe(join(d.path, "real", "missing", "x.db"));
  });

  test("follows a dangling symlink", () => {
    using d = tempDir();
    symlinkSync(join(d.path, "nowhere", "x.db"), join(d.path, "dangling"));
    expect(resolveLoose(join(d.path, "dangling"))).toBe(join(d.path, "nowhere", "x.db"));
  });

  test("resolves relative paths from cwd", () => {
    using d = tempDir();
    expect(resolveLoose("a/b", d.path)).toBe(join(d.path, "a", "b"));
  });
});
