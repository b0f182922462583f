/**
 * `npm run test:package`: proves the package as a user receives it.
 *
 * 1. `npm pack` (its `prepack` writes the declarations) and check the file list:
 *    the library, the CLI, the declarations, LICENSE and README, and nothing
 *    of the tests, benches, fixtures, stress runs, CI or any database.
 * 2. `bun add` the tarball into a fresh temporary project, run its `broker`
 *    bin (write, then read), and type-check a consumer under the strictest
 *    common flags with `skipLibCheck` off: 0 errors expected.
 * 3. Publish the tarball (and its three dependencies, fetched with `npm pack`)
 *    to a verdaccio registry this script runs on 127.0.0.1 without uplinks,
 *    then run `bunx simplebroker --version`, `write` and `read` with that
 *    registry set for those commands only; finally stop the registry.
 *
 * Prints one `ok - …` line per check; exits 1 at the first failure.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONSUMER_SOURCE, CONSUMER_TSCONFIG, checkFileList, startRegistry } from "./_package-helpers.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "node_modules", ".bin");
const work = mkdtempSync(join(tmpdir(), "sb-package-"));
const keep = process.env.KEEP_PACKAGE_TMP === "1";

/** The environment of every child: ours without BROKER_* (so the broker uses its defaults) and npm's per-script noise. */
const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) {
  if (v !== undefined && !k.startsWith("BROKER_") && !k.startsWith("npm_")) baseEnv[k] = v;
}
baseEnv.PATH = `${BIN}:${baseEnv.PATH ?? ""}`;
baseEnv.BUN_INSTALL_CACHE_DIR = join(work, "bun-cache");

function run(cmd: string[], cwd: string, extraEnv: Record<string, string> = {}, stdin?: string): string {
  const proc = Bun.spawnSync(cmd, {
    cwd,
    env: { ...baseEnv, ...extraEnv },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
  const out = proc.stdout.toString();
  if (proc.exitCode !== 0) {
    fail(`${cmd.join(" ")} (in ${cwd}) exited ${proc.exitCode}\n${out}${proc.stderr.toString()}`);
  }
  return out;
}

function fail(message: string): never {
  console.error(`not ok - ${message}`);
  cleanup();
  process.exit(1);
}

function ok(message: string): void {
  console.log(`ok - ${message}`);
}

function expectEqual(actual: string, expected: string, what: string): void {
  if (actual !== expected) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  ok(what);
}

let stopRegistry: (() => void) | undefined;
function cleanup(): void {
  stopRegistry?.();
  stopRegistry = undefined;
  if (!keep) rmSync(work, { recursive: true, force: true });
}

// 1. pack
const packJson = run(["npm", "pack", "--json", "--pack-destination", work], ROOT);
const packed = JSON.parse(packJson.slice(packJson.indexOf("["))) as { filename: string; files: { path: string }[] }[];
const info = packed[0] ?? fail("npm pack printed no package");
const tarball = join(work, info.filename);
const problems = checkFileList(info.files.map((f) => f.path));
if (problems.length > 0) fail(`packed file list:\n  ${problems.join("\n  ")}`);
ok(`npm pack: ${info.files.length} files, none of tests/benches/fixtures/stress/.ci/databases`);

// 2. bun add into a fresh project, run the bin, type-check a consumer
const app = join(work, "app");
await Bun.write(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
run(["bun", "add", tarball], app);
run(["bun", "add", "--dev", "@types/bun@1.4.5"], app);
ok("bun add <tarball> into a fresh project");
run([join(app, "node_modules", ".bin", "broker"), "write", "jobs", "from the bin"], app);
expectEqual(
  run([join(app, "node_modules", ".bin", "broker"), "read", "jobs"], app),
  "from the bin\n",
  "installed broker bin: write then read",
);

await Bun.write(join(app, "consumer.ts"), CONSUMER_SOURCE);
await Bun.write(join(app, "tsconfig.json"), CONSUMER_TSCONFIG);
const tsc = Bun.spawnSync([join(BIN, "tsc"), "-p", app], { cwd: app, env: baseEnv });
if (tsc.exitCode !== 0) fail(`consumer type-check:\n${tsc.stdout.toString()}${tsc.stderr.toString()}`);
ok(
  "consumer type-checks (strict, exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature, noUncheckedIndexedAccess, verbatimModuleSyntax, no skipLibCheck): 0 errors",
);
expectEqual(run(["bun", "consumer.ts"], app), "hello true\n", "consumer runs under Bun from the package's .ts source");

// 3. a real registry on 127.0.0.1, bunx against it
const registry = await startRegistry(
  join(ROOT, "node_modules", "verdaccio", "bin", "verdaccio"),
  join(work, "registry"),
  baseEnv,
).catch((error: Error) => fail(error.message));
stopRegistry = registry.stop;
ok(`verdaccio listening at ${registry.url}`);
const npmrc = join(work, "publish.npmrc");
await Bun.write(npmrc, `registry=${registry.url}\n//${registry.url.slice("http://".length)}:_authToken=${registry.token}\n`);
const deps = join(work, "deps");
mkdirSync(deps);
for (const dep of ["citty@0.2.2", "consola@3.4.2", "@iarna/toml@3.0.0"]) {
  const name = run(["npm", "pack", dep, "--pack-destination", deps, "--silent"], ROOT).trim().split("\n").pop() ?? "";
  run(["npm", "publish", join(deps, name), "--userconfig", npmrc, "--registry", registry.url, "--tag", "latest"], deps);
}
run(["npm", "publish", tarball, "--userconfig", npmrc, "--registry", registry.url], work);
ok("published simplebroker and its dependencies to the local registry");

const user = join(work, "user");
await Bun.write(join(user, ".npmrc"), `registry=${registry.url}\n`);
const bunxEnv = {
  BUN_CONFIG_REGISTRY: registry.url,
  NPM_CONFIG_REGISTRY: registry.url,
  TMPDIR: join(work, "bunx-tmp"),
  BUN_INSTALL_CACHE_DIR: join(work, "bunx-cache"),
};
await Bun.write(join(work, "bunx-tmp", ".keep"), "");
const version = run(["bunx", "simplebroker", "--version"], user, bunxEnv).trim();
const expected = (await Bun.file(join(ROOT, "package.json")).json()).version as string;
if (!version.endsWith(expected)) fail(`bunx simplebroker --version printed ${JSON.stringify(version)}`);
ok(`bunx simplebroker --version: ${version}`);
run(["bunx", "simplebroker", "write", "jobs", "via bunx"], user, bunxEnv);
expectEqual(run(["bunx", "simplebroker", "read", "jobs"], user, bunxEnv), "via bunx\n", "bunx simplebroker write then read");
if (!(await registry.served("simplebroker"))) fail("the local registry never served simplebroker");
ok("bunx fetched simplebroker from the local registry");

cleanup();
ok("registry stopped, temporary files removed");
