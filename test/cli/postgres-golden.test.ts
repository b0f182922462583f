// The golden CLI transcripts of SimpleBroker 3.6.1, replayed with a
// .broker.toml that points every scenario at its own Postgres schema.
// No server = failed scenarios, not a skip.
import { afterAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, goldenCheck, tempDir } from "../helpers.ts";
import { postgresUrl } from "../services.ts";

const URL = await postgresUrl();

/** Scenarios that are about files, not about the store; each runs the SQLite path or checks file discovery. */
const EXCLUDED: Record<string, string> = {
  "file-option": "-f names a SQLite file: the CLI bypasses .broker.toml, so Postgres is never used",
  "dir-option": "-d names a directory of SQLite files (and expects 'Directory not found'); .broker.toml is bypassed",
  "project-scope-missing": "expects upward search to find no .broker.db; the harness always places a .broker.toml",
};

const dir = tempDir("sb-pg-golden-");
let pythonPid: number | undefined;

afterAll(async () => {
  dir[Symbol.dispose]();
  if (pythonPid === undefined) return;
  // golden.py names each schema golden_<scenario>_<its pid>: drop exactly this run's.
  const admin = new SQL(URL, { max: 1 });
  try {
    const rows = await admin.unsafe("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'golden\\_%' AND nspname LIKE $1", [
      `%\\_${pythonPid}`,
    ]);
    for (const r of rows as { nspname: string }[]) await admin.unsafe(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
  } finally {
    await admin.close();
  }
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

test("golden transcripts pass on the Postgres backend", async () => {
  const toml = join(dir.path, "broker.toml.tmpl");
  writeFileSync(toml, `version = 1\nbackend = "postgres"\ntarget = "${URL}"\n\n[backend_options]\nschema = "{SCHEMA}"\n`);
  const skip = `^(${Object.keys(EXCLUDED)
    .map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))
    .join("|")})$`;
  const run = await goldenCheck(`${process.execPath} ${CLI}`, ["--toml", toml, "--skip", skip]);
  pythonPid = run.pid;
  const summary = run.summary;
  if (!/ 0 failed$/.test(summary)) console.error(run.output);
  expect(summary).toMatch(/^\d+ passed, 0 failed$/);
  expect(Number(summary.split(" ")[0])).toBeGreaterThanOrEqual(46);
}, 300_000);
