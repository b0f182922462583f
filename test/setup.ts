// Preloaded by bun test: tests start from a clean BROKER_* environment so a
// developer's shell settings never change what a test sees. BROKER_TEST_*
// (where the live Redis / Postgres servers are) is for the tests themselves.
for (const key of Object.keys(process.env)) {
  if (key.startsWith("BROKER_") && !key.startsWith("BROKER_TEST_")) delete process.env[key];
}
process.env.NO_COLOR = "1";
