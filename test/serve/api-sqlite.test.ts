// The HTTP API over a real `broker serve` on a SQLite file.
import { describe } from "bun:test";
import { apiSuite } from "./_api-suite.ts";
import { sqlitePlace } from "./_server.ts";

describe("broker serve on SQLite", () => apiSuite(sqlitePlace));
