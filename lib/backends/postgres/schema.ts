/**
 * The dedicated schema of the PostgreSQL backend (docs/on-disk-format.md#postgres, schema version
 * 5): name rules, the DDL, recognition (absent / empty / owned / partial /
 * foreign) and idempotent creation under an advisory lock. Cleanup is in
 * maintenance.ts.
 * @module
 */
import type { SQL } from "bun";
import { BackendError, ConfigError } from "../../core/errors.ts";
import { isConnectionError } from "./connection.ts";
import { advisoryKey } from "./keys.ts";
import { LEASE_RELATIONS, leaseDdl, leaseTablesPresent } from "./lease-schema.ts";
import { claimTokenDdl, claimTokenPresent } from "./claim-token.ts";

/** `meta.magic` of every SimpleBroker store. */
export const MAGIC = "simplebroker-v1";
/** The schema version of the Postgres layout. */
export const PG_SCHEMA_VERSION = 5n;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throw {@link ConfigError} unless `name` may hold a SimpleBroker store. */
export function validateSchemaName(name: string): void {
  if (!NAME.test(name)) {
    throw new ConfigError(`Invalid PostgreSQL schema name '${name}': it must match ^[A-Za-z_][A-Za-z0-9_]*$`, {
      key: "BROKER_BACKEND_SCHEMA",
    });
  }
  if (Buffer.byteLength(name) > 63) {
    throw new ConfigError(`Invalid PostgreSQL schema name '${name}': longer than 63 bytes`, { key: "BROKER_BACKEND_SCHEMA" });
  }
  const lower = name.toLowerCase();
  if (lower === "public" || lower === "information_schema" || lower.startsWith("pg_")) {
    throw new ConfigError(`Refusing to use the PostgreSQL schema '${name}': SimpleBroker needs a dedicated schema`, {
      key: "BROKER_BACKEND_SCHEMA",
    });
  }
}

/** A validated schema name as a quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name}"`;
}

/** Relations SimpleBroker creates (tables, their sequence and indexes). */
export const OWN_RELATIONS = new Set([
  "messages",
  "messages_pkey",
  "messages_order_id_seq",
  "meta",
  "meta_pkey",
  "aliases",
  "aliases_pkey",
  "idx_messages_queue_order",
  "idx_messages_unclaimed",
  "idx_messages_queue_ts_order_unclaimed",
  "idx_messages_ts_unique",
  "idx_aliases_target",
  ...LEASE_RELATIONS,
]);

function ddl(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.messages (
  order_id BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  ts BIGINT NOT NULL,
  claimed BOOLEAN NOT NULL DEFAULT FALSE,
  claim_token UUID
);
${claimTokenDdl(s)}
CREATE TABLE IF NOT EXISTS ${s}.meta (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  magic TEXT NOT NULL,
  schema_version BIGINT NOT NULL,
  last_ts BIGINT NOT NULL,
  alias_version BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_messages_queue_order ON ${s}.messages (queue, order_id);
CREATE INDEX IF NOT EXISTS idx_messages_unclaimed ON ${s}.messages (queue, order_id) WHERE claimed = FALSE;
CREATE INDEX IF NOT EXISTS idx_messages_queue_ts_order_unclaimed ON ${s}.messages (queue, ts, order_id) WHERE claimed = FALSE;
CREATE UNIQUE INDEX IF NOT EXISTS idx_messages_ts_unique ON ${s}.messages (ts);
CREATE INDEX IF NOT EXISTS idx_aliases_target ON ${s}.aliases (target);
${leaseDdl(s)}
INSERT INTO ${s}.meta (singleton, magic, schema_version, last_ts, alias_version)
  VALUES (TRUE, '${MAGIC}', ${PG_SCHEMA_VERSION}, 0, 0) ON CONFLICT (singleton) DO NOTHING;`;
}

/** What a schema holds, as far as SimpleBroker is concerned. */
export type SchemaState = "absent" | "empty" | "owned" | "partial" | "foreign";

/** Classify `schema` (run inside the caller's transaction). */
export async function classifySchema(tx: SQL, schema: string): Promise<SchemaState> {
  const [row] = await tx.unsafe(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present,
       ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1) AS relations,
       (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1)
       + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = $1 AND t.typrelid = 0 AND t.typcategory <> 'A') AS others`,
    [schema],
  );
  if (!row.present) return "absent";
  const relations = row.relations as string[];
  if (relations.length === 0 && row.others === 0n) return "empty";
  if (relations.includes("meta")) {
    // to_jsonb reads `magic` whatever columns a foreign `meta` table has.
    const [meta] = await tx.unsafe(`SELECT to_jsonb(m) ->> 'magic' AS magic FROM ${quoteIdent(schema)}.meta m LIMIT 1`);
    if (meta?.magic === MAGIC) return "owned";
    if (meta !== undefined) return "foreign";
  }
  return row.others === 0n && relations.every((r) => OWN_RELATIONS.has(r)) ? "partial" : "foreign";
}

/** Fast check: the store is there and current. False means "run {@link setUpSchema}". */
export async function schemaIsReady(sql: SQL, schema: string): Promise<boolean> {
  try {
    const s = quoteIdent(schema);
    const [row] = await sql.unsafe(
      `SELECT magic, schema_version, ${leaseTablesPresent(s)} AND ${claimTokenPresent(s)} AS current FROM ${s}.meta WHERE singleton`,
    );
    return row?.magic === MAGIC && row.schema_version === PG_SCHEMA_VERSION && row.current === true;
  } catch (error) {
    // A statement error (no schema, no table, a foreign `meta`) means "set up"; connection failures propagate.
    if ((error as { code?: string }).code === "ERR_POSTGRES_SERVER_ERROR" && !isConnectionError(error)) return false;
    throw error;
  }
}

/**
 * Create or complete the store in one transaction, serialised by an advisory
 * lock so that concurrent processes can all call it. Refuses foreign schemas,
 * another magic, and newer schema versions.
 */
export async function setUpSchema(sql: SQL, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  await sql.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("init", schema)]);
    const state = await classifySchema(tx, schema);
    if (state === "foreign") {
      throw new BackendError(`PostgreSQL schema '${schema}' is not empty and is not a SimpleBroker schema; refusing to use it`);
    }
    await tx.unsafe(ddl(s));
    const [meta] = await tx.unsafe(`SELECT magic, schema_version FROM ${s}.meta WHERE singleton`);
    if (meta.magic !== MAGIC) {
      throw new BackendError(`PostgreSQL schema '${schema}' has magic '${meta.magic}', expected '${MAGIC}'`);
    }
    if (meta.schema_version > PG_SCHEMA_VERSION) {
      throw new BackendError(
        `PostgreSQL schema '${schema}' has schema version ${meta.schema_version}, newer than supported version ${PG_SCHEMA_VERSION}. Please upgrade SimpleBroker.`,
      );
    }
    if (meta.schema_version < PG_SCHEMA_VERSION) {
      await tx.unsafe(`UPDATE ${s}.meta SET schema_version = $1 WHERE singleton`, [PG_SCHEMA_VERSION]);
    }
  });
}
