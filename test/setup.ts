// Preloaded by bun test: tests start from a clean BROKER_* environment so a
// developer's shell settings never change what a test sees. BROKER_TEST_*
// (where the live Redis / Postgres servers are) is for the tests themselves.
for (const key of Object.keys(process.env)) {
  if (key.startsWith("BROKER_") && !key.startsWith("BROKER_TEST_")) delete process.env[key];
}
process.env.NO_COLOR = "1";
// The test Redis keeps nothing on disk; its warning (docs/redis.md#durability) is asserted by
// test/lib/backends/redis-durability.test.ts and silenced everywhere else.
process.env.BROKER_REDIS_PERSISTENCE_WARNING = "0";
