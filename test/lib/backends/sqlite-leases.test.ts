// The lease and delay contract (lib/testing/leases.ts) on SQLite, plus what only SQLite has:
// the side tables appear on first use only (docs/leases.md#sqlite).
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createSqliteBackend } from "../../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { describeLeaseContract } from "../../../lib/testing.ts";
import { tempDir } from "../../helpers.ts";

const dir = tempDir("sb-leases-");
afterAll(() => dir[Symbol.dispose]());
let n = 0;
const config = resolveConfig({ syncMode: "OFF" });

describeLeaseContract({
  name: "sqlite",
  create: async () => {
    const b = createSqliteBackend(join(dir.path, `db${n++}.db`), config);
    await b.init();
    return b;
  },
  connectSame: async (b) => createSqliteBackend(b.displayTarget, config),
});
