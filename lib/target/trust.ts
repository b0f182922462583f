/**
 * Whether a file found by project scope's upward search may decide where
 * messages (and credentials) go: it must be owned by us or root, not be
 * writable by others, and sit in a folder that others cannot write to. The
 * rule and its reasons are in docs/project-scope.md.
 * @module
 */
import type { Stats } from "node:fs";
import { fs } from "../util/fs-lazy.ts";
import { dirname } from "../util/path.ts";
import { ConfigError } from "../core/errors.ts";

const WORLD_WRITABLE = 0o002;
const GROUP_WRITABLE = 0o020;
const STICKY = 0o1000;

/**
 * Throw a {@link ConfigError} naming the reason when `file` (a `.broker.toml`
 * or a legacy database found upward) could have been put there or changed by
 * another user; return quietly otherwise. Runs before anything is read from
 * the file or any connection is made.
 */
export function assertTrustedProjectFile(file: string): void {
  const reason = untrustedReason(file);
  if (reason !== undefined) {
    throw new ConfigError(
      `Refusing project file ${file}: ${reason}. With BROKER_PROJECT_SCOPE, a .broker.toml or database found ` +
        "in a parent folder must be owned by you or root, in a folder only you or root can write (docs/project-scope.md)",
    );
  }
}

/** Why `file` is not trusted, or undefined when it is. */
export function untrustedReason(file: string): string | undefined {
  const uid = process.geteuid?.() ?? -1;
  if (uid === -1) return undefined; // no POSIX owners (Windows): nothing to compare
  let st: Stats;
  try {
    st = fs().statSync(file);
  } catch {
    return undefined; // gone: the caller's own open reports it
  }
  if (st.uid !== uid && st.uid !== 0) return `it is owned by uid ${st.uid}`;
  if (st.mode & WORLD_WRITABLE) return "it is writable by every user";
  if (st.mode & GROUP_WRITABLE && sharedGroup(st.gid)) return `it is writable by group ${st.gid}`;
  const folder = dirname(file);
  let dir: Stats;
  try {
    dir = fs().statSync(folder);
  } catch {
    return undefined;
  }
  if (dir.uid !== uid && dir.uid !== 0) return `its folder ${folder} is owned by uid ${dir.uid}`;
  if (dir.mode & STICKY) return undefined; // like /tmp: others may add files, not replace ours
  if (dir.mode & WORLD_WRITABLE) return `its folder ${folder} is writable by every user`;
  if (dir.mode & GROUP_WRITABLE && sharedGroup(dir.gid)) return `its folder ${folder} is writable by group ${dir.gid}`;
  return undefined;
}

// --- internal ---

/**
 * True unless group `gid` is ours alone: our effective group, with no other
 * user listed as a member in /etc/group or having it as primary group in
 * /etc/passwd. Unreadable files count as shared.
 */
function sharedGroup(gid: number): boolean {
  if (gid !== process.getegid?.()) return true;
  try {
    const uid = process.geteuid?.();
    const users = fs()
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((l) => l.split(":"));
    const me = users.find((u) => Number(u[2]) === uid)?.[0];
    if (users.some((u) => u[0] && u[0] !== me && Number(u[3]) === gid)) return true;
    const group = fs()
      .readFileSync("/etc/group", "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((g) => Number(g[2]) === gid);
    const members = (group?.[3] ?? "").split(",").filter((m) => m !== "" && m !== me);
    return members.length > 0;
  } catch {
    return true;
  }
}
