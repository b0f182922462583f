/**
 * `npm run build:release`: one self-contained `broker` binary per platform in
 * `dist/` (`broker-<os>-<arch>[-musl][.exe]`), `dist/SHA256SUMS` over them,
 * and a smoke test of the binary this machine can run.
 *
 * Each is compiled by scripts/build.ts (as `npm run build` is) with
 * `--target=…`. Cross targets need Bun's runtime for that platform; the
 * compiler downloads it from the npm registry (`@oven/bun-<os>-<arch>`
 * packages) on first use and caches it under `~/.bun/install/cache`.
 * Same flags as `npm run build`: minified, bytecode, and no `.env` /
 * `bunfig.toml` read from the directory the binary runs in.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");

/** Output name → Bun compile target. */
const TARGETS: Record<string, string> = {
  "broker-linux-x64": "bun-linux-x64",
  "broker-linux-arm64": "bun-linux-arm64",
  "broker-linux-x64-musl": "bun-linux-x64-musl",
  "broker-linux-arm64-musl": "bun-linux-arm64-musl",
  "broker-darwin-x64": "bun-darwin-x64",
  "broker-darwin-arm64": "bun-darwin-arm64",
  "broker-windows-x64.exe": "bun-windows-x64",
};

const only = process.argv.slice(2);
mkdirSync(DIST, { recursive: true });
const built: string[] = [];
for (const [name, target] of Object.entries(TARGETS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const started = performance.now();
  const proc = Bun.spawnSync(
    [
      process.execPath,
      join(ROOT, "scripts", "build.ts"),
      join(ROOT, "cli", "index.ts"),
      `--target=${target}`,
      "--outfile",
      join(DIST, name),
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  if (proc.exitCode !== 0) {
    console.error(`build-release: ${name} (${target}) failed:\n${proc.stdout}${proc.stderr}`);
    process.exit(1);
  }
  const size = Bun.file(join(DIST, name)).size;
  console.error(
    `build-release: ${name} ${(size / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  built.push(name);
}

const lines: string[] = [];
for (const name of built.sort()) {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await Bun.file(join(DIST, name)).arrayBuffer());
  lines.push(`${hasher.digest("hex")}  ${name}`);
}
await Bun.write(join(DIST, "SHA256SUMS"), `${lines.join("\n")}\n`);
console.error(`build-release: dist/SHA256SUMS (${lines.length} files)`);

const host = hostBinary();
if (built.includes(host)) smokeTest(join(DIST, host));
else console.error(`build-release: no smoke test (${host} was not built)`);

// --- internal ---

/** The output name of the binary this machine runs. */
function hostBinary(): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (process.platform === "win32") return `broker-windows-${arch}.exe`;
  if (process.platform === "darwin") return `broker-darwin-${arch}`;
  const ldd = Bun.spawnSync(["ldd", "--version"], { stdout: "pipe", stderr: "pipe" });
  const musl = `${ldd.stdout}${ldd.stderr}`.toLowerCase().includes("musl");
  return `broker-linux-${arch}${musl ? "-musl" : ""}`;
}

/** `--version`, then write and read in an empty directory, with no BROKER_* settings. */
function smokeTest(binary: string): void {
  const dir = mkdtempSync(join(tmpdir(), "sb-release-"));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("BROKER_")) env[k] = v;
  const run = (args: string[]) => {
    const p = Bun.spawnSync([binary, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${binary} ${args.join(" ")} exited ${p.exitCode}: ${p.stderr}`);
    return p.stdout.toString();
  };
  try {
    const version = run(["--version"]).trim();
    run(["write", "smoke", "hello"]);
    const read = run(["read", "smoke"]);
    if (read !== "hello\n") throw new Error(`read printed ${JSON.stringify(read)}`);
    console.error(`build-release: smoke test of ${binary}: ${version}; write + read ok`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
