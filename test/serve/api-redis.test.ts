// The HTTP API over a real `broker serve` on Redis (a project .broker.toml, a fresh namespace).
import { describe } from "bun:test";
import { apiSuite } from "./_api-suite.ts";
import { REDIS_URL, redisPlace } from "./_server.ts";

describe.skipIf(!REDIS_URL)("broker serve on Redis", () => apiSuite(redisPlace));
