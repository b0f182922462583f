// The HTTP API over a real `broker serve` on PostgreSQL (BROKER_BACKEND=postgres, a fresh schema).
import { describe } from "bun:test";
import { apiSuite } from "./_api-suite.ts";
import { POSTGRES_URL, postgresPlace } from "./_server.ts";

describe.skipIf(!POSTGRES_URL)("broker serve on PostgreSQL", () => apiSuite(postgresPlace));
