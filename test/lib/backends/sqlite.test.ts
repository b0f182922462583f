import { join } from "node:path";
import { createSqliteBackend } from "../../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { tempDir } from "../../helpers.ts";
import { describeBackendContract } from "../../../lib/testing.ts";
import { afterAll } from "bun:test";

const dir = tempDir("sb-contract-");
afterAll(() => dir[Symbol.dispose]());
let n = 0;

describeBackendContract({
  name: "sqlite",
  create: async () => {
    const b = createSqliteBackend(join(dir.path, `db${n++}.db`), resolveConfig({ syncMode: "OFF" }));
    await b.init();
    return b;
  },
  connectSame: async (b) => createSqliteBackend(b.displayTarget, resolveConfig({ syncMode: "OFF" })),
});
