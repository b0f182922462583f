/**
 * The golden CLI transcripts of SimpleBroker 3.6.1, replayed with a
 * `.broker.toml` that puts every scenario on Redis (one namespace per
 * scenario). Stdout and exit codes must match the SQLite recording byte for
 * byte, except in the scenarios that are about files and folders.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, goldenCheck, tempDir } from "../helpers.ts";
import { redisUrl, unlinkRedisKeys } from "../services.ts";

const URL = await redisUrl();

/** Scenarios left out, each with why it cannot hold on a Redis target. */
const SKIPPED: Record<string, string> = {
  "dir-option":
    "`-d {DIR}/missing` must fail on a missing folder; with a project .broker.toml the target is Redis, not a file in that folder",
  "project-scope-missing":
    "expects project-scope discovery to find no database file; here the scenario folder holds the .broker.toml",
};

const dir = tempDir("sb-redis-golden-");
let goldenPid: number | undefined;

afterAll(async () => {
  dir[Symbol.dispose]();
  if (goldenPid === undefined) return;
  // Namespaces are golden_<scenario>_<pid of golden.py>: delete only this run's keys.
  await unlinkRedisKeys(URL, `simplebroker:golden_*_${goldenPid}:*`);
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

test("golden transcripts pass on a Redis target", async () => {
  const toml = join(dir.path, "broker.toml.template");
  writeFileSync(toml, `version = 1\nbackend = "redis"\ntarget = "${URL}"\n\n[backend_options]\nnamespace = "{SCHEMA}"\n`);
  const skip = `^(${Object.keys(SKIPPED)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))
    .join("|")})$`;
  const run = await goldenCheck(`${process.execPath} ${CLI}`, ["--toml", toml, "--skip", skip]);
  goldenPid = run.pid;
  const summary = run.summary;
  const code = run.exitCode;
  if (!summary.endsWith(" 0 failed")) console.error(run.output);
  expect(summary).toMatch(/^\d+ passed, 0 failed$/);
  expect(Number(summary.split(" ")[0])).toBeGreaterThanOrEqual(40);
  expect(code).toBe(0);
  rmSync(toml, { force: true });
}, 300_000);
