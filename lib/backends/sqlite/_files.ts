/**
 * The files of one SQLite store that `--cleanup` removes: the database, its
 * `-wal`, `-shm` and `-journal` files, and the lock files SimpleBroker makes
 * beside it (`.vacuum.lock`, and 3.6.1's `.setup.lock`) when their content is
 * recognisably ours. Nothing else in the folder is touched.
 * @module
 */
import { withSuffix } from "../../target/paths.ts";
import { fs } from "../../util/fs-lazy.ts";

/** Remove the database at `path` (the caller checked it is ours) and its companions; the database goes first. */
export function removeStoreFiles(path: string): void {
  fs().unlinkSync(path);
  for (const suffix of ["-wal", "-shm", "-journal"]) fs().rmSync(path + suffix, { force: true });
  removeIf(withSuffix(path, ".vacuum.lock"), (text) => /^\d+\n/.test(text));
  // 3.6.1 writes a single NUL byte into its setup lock.
  removeIf(withSuffix(path, ".setup.lock"), (text) => text === "" || text === "\0");
}

// --- internal ---

function removeIf(path: string, ours: (text: string) => boolean): void {
  try {
    if (fs().lstatSync(path).isFile() && ours(fs().readFileSync(path, "latin1"))) fs().unlinkSync(path);
  } catch {
    // absent or unreadable: leave it
  }
}
