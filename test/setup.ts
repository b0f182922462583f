// Preloaded by bun test: tests start from a clean BROKER_* environment so a
// developer's shell settings never change what a test sees.
for (const key of Object.keys(process.env)) {
  if (key.startsWith("BROKER_")) delete process.env[key];
}
process.env.NO_COLOR = "1";
