// Leases and delays on the PostgreSQL backend against a live server (BROKER_TEST_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/test): the cases of lease-cases.ts, plus the layout.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresBackend } from "../../../lib/backends/postgres/index.ts";
import type { Backend } from "../../../lib/core/types.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { uniqueName } from "../../helpers.ts";
import { postgresUrl } from "../../services.ts";
import { describeLeaseCases } from "./lease-cases.ts";
import { describeLeaseContract } from "../../../lib/testing.ts";

const URL = await postgresUrl();
const config = resolveConfig();
const schemas = new Set<string>();
const opened: PostgresBackend[] = [];
const admin = new SQL(URL, { max: 2 });

function backend(schema = uniqueName("sbpgl")): PostgresBackend {
  schemas.add(schema);
  const b = new PostgresBackend({ url: URL, options: { schema }, config });
  opened.push(b);
  return b;
}

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close().catch(() => {});
});

afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

describeLeaseContract({
  name: "postgres",
  create: async () => {
    const b = backend();
    await b.init();
    return b;
  },
  connectSame: async (b) => backend((b as PostgresBackend).schema),
});

describe("postgres leases", () => {
  describeLeaseCases({
    fresh: async () => {
      const b = backend();
      await b.init();
      return b;
    },
    peer: async (b) => backend((b as PostgresBackend).schema),
  });

  test("a store made before the lease tables gets them when this version opens it; cleanup drops them", async () => {
    const b = backend();
    await b.write("q", ["a"]);
    await admin.unsafe(`DROP TABLE "${b.schema}".held, "${b.schema}".attempts`);
    await b.close();
    const again: Backend = backend(b.schema);
    expect(await again.lease!("q", { leaseMs: 1000 })).toMatchObject([{ body: "a", attempt: 1 }]);
    expect(await again.cleanup!()).toBe(true);
    const [row] = await admin.unsafe("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [b.schema]);
    expect(row.n).toBe(0);
  });

  test("vacuum forgets the attempts of messages that were read", async () => {
    const pg = backend();
    const b: Backend = pg;
    const [id] = await b.write("q", ["a"]);
    await b.lease!("q", { leaseMs: 60_000 });
    await b.release!("q", [id!]);
    const count = async () => (await admin.unsafe(`SELECT count(*)::int AS n FROM "${pg.schema}".attempts`))[0].n;
    expect(await count()).toBe(1);
    await b.claim("q", {});
    await b.vacuum!();
    expect(await count()).toBe(0);
  });
});
