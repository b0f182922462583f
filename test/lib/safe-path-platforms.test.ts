// The path-safety rules hold under both rule sets, on any machine: `..` and
// `.` components are refused whichever separator spells them, Windows adds
// its own character set (a drive letter's colon allowed), reserved device
// names and a 260-character limit, and lock-file names keep their directory
// when it is written with `\` (lib/target/paths.ts).
import { describe, expect, test } from "bun:test";
import { validateSafePath, withSuffix } from "../../lib/target/paths.ts";
import { isWithin } from "../../lib/util/path.ts";

const CONTEXT = "Database filename";

function problem(path: string, windows: boolean): string | null {
  try {
    validateSafePath(path, CONTEXT, windows);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("safe paths on POSIX and Windows", () => {
  for (const windows of [false, true]) {
    const rules = windows ? "windows" : "posix";
    test.each(["../q.db", "a/../q.db", "a\\..\\q.db", "..\\q.db", "a/..\\b"])(
      `${rules}: parent reference %p is refused`,
      (path) => {
        expect(problem(path, windows)).toBe(`${CONTEXT} must not contain parent directory references: ${path}`);
      },
    );
    test.each(["./q.db", "a/./q.db", ".\\q.db", "a\\.\\q.db"])(`${rules}: current-directory reference %p is refused`, (path) => {
      expect(problem(path, windows)).toBe(`${CONTEXT} must not contain current directory references: ${path}`);
    });
    test(`${rules}: a component with outer spaces is refused with either separator`, () => {
      expect(problem("a\\ b\\q.db", windows)).toBe(`${CONTEXT} component cannot start or end with spaces: ' b' in a\\ b\\q.db`);
    });
  }

  test.each(["C:\\data\\q.db", "C:/data/q.db", "\\\\server\\share\\q.db", "queues\\q.db", "d:q.db"])(
    "windows accepts %p",
    (path) => {
      expect(problem(path, true)).toBeNull();
    },
  );

  test.each([
    ["C:\\da:ta\\q.db", ":"],
    ["q*.db", "*"],
    ["q?.db", "?"],
    ["q|x.db", "|"],
    ['q".db', '"'],
    ["q<x.db", "<"],
  ])("windows refuses %p (dangerous %p)", (path, char) => {
    expect(problem(path, true)).toBe(
      `${CONTEXT} contains dangerous character '${char}': ${path}. Path components must not contain shell metacharacters or control characters.`,
    );
  });

  test.each(["CON", "nul.db", "data\\COM1", "Lpt9.txt"])("windows refuses the reserved name in %p", (path) => {
    expect(problem(path, true)).toStartWith(`${CONTEXT} contains reserved name '`);
    expect(problem(path, false)).toBeNull();
  });

  test("posix keeps its own set: `$` is refused there, `:` is not", () => {
    expect(problem("a$b.db", false)).toStartWith(`${CONTEXT} contains dangerous character '$'`);
    expect(problem("a:b.db", false)).toBeNull();
  });

  test("the length limit is 260 on windows and 1024 elsewhere", () => {
    const path = `${"d".repeat(200)}\\${"q".repeat(70)}`;
    expect(problem(path, true)).toStartWith(`${CONTEXT} too long (max 260 chars): 271 chars in `);
    expect(problem(path, false)).toBeNull();
  });

  test("withSuffix keeps a backslash directory on windows", () => {
    expect(withSuffix("C:\\x.d\\.broker.db", ".vacuum.lock", true)).toBe("C:\\x.d\\.broker.vacuum.lock");
    expect(withSuffix("C:\\x.d\\broker", ".setup.lock", true)).toBe("C:\\x.d\\broker.setup.lock");
    expect(withSuffix("C:\\x.d\\broker\\", ".setup.lock", true)).toBe("C:\\x.d\\broker.setup.lock");
    expect(withSuffix("/x.d/broker", ".setup.lock", false)).toBe("/x.d/broker.setup.lock");
    expect(() => withSuffix("C:\\q.db", ".a\\b", true)).toThrow("Invalid suffix '.a\\b'");
  });

  // The -f symlink rule: the resolved database must stay inside the resolved -d directory.
  test("isWithin: a database inside its directory, under each platform's rules", () => {
    expect(isWithin("/srv/q/x.db", "/srv/q", false)).toBe(true);
    expect(isWithin("/srv/q", "/srv/q", false)).toBe(true);
    expect(isWithin("/srv/queue/x.db", "/srv/q", false)).toBe(false);
    expect(isWithin("/SRV/q/x.db", "/srv/q", false)).toBe(false);
    expect(isWithin("C:\\Data\\x.db", "c:\\data", true)).toBe(true);
    expect(isWithin("C:\\data2\\x.db", "C:\\data", true)).toBe(false);
    expect(isWithin("\\\\srv\\share\\q\\x.db", "\\\\srv\\share\\", true)).toBe(true);
    expect(isWithin("D:\\data\\x.db", "C:\\data", true)).toBe(false);
  });
});
