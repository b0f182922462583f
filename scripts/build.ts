/**
 * `npm run build`: compile the CLI into one self-contained binary.
 *
 *     bun scripts/build.ts [ENTRY] [--outfile PATH] [--target bun-OS-ARCH[-musl]]
 *
 * ENTRY defaults to cli/index.ts, PATH to dist/broker, the target to this
 * machine. Flags are those of `bun build --compile --minify --bytecode
 * --no-compile-autoload-dotenv --no-compile-autoload-bunfig`, given through
 * `Bun.build`'s API so that one bundler plugin can take part: citty's
 * `node:util` import resolves to cli/_citty-parse-args.ts (citty only needs
 * `parseArgs` from it, and loading `node:util` costs a compiled binary
 * several milliseconds on every command). ENTRY may lie outside this tree
 * (bench/cli.ts compiles an earlier commit's CLI with it); the plugin only
 * touches imports made from inside a `citty` package.
 * @module
 */
import { rmSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import type { BunPlugin } from "bun";

const ROOT = resolvePath(import.meta.dir, "..");
/** A file of this tree by its path from the top. */
const inTree = (rel: string): string => resolvePath(ROOT, rel);
const SHIM = inTree("cli/_citty-parse-args.ts");
const CANONICAL = inTree("cli/_citty-canonical.ts");

export interface BuildOptions {
  entry: string;
  outfile: string;
  /** A Bun compile target such as `bun-linux-arm64-musl`; this machine's when absent. */
  target?: string;
}

/**
 * Points citty's `node:util` import at our `parseArgs`; everyone else keeps the
 * real module. Bun's bundler hands built-in modules to no `onResolve` hook,
 * so the import is rewritten as citty's files are loaded.
 *
 * It also gives citty's `camelCase` and `kebabCase` (from its bundled copy of
 * scule) a fast path for the names our commands use, lower-case words joined
 * by single hyphens: citty calls them four times per option on every command
 * line (when building the alias table and in the proxy over the parsed
 * values), and scule's character-by-character split cost a compiled `write`
 * about 0.5 ms of its ~12 ms. Other names take scule's own code, and the
 * results are the same for every name (test/cli/build-plugin.test.ts).
 * And `runCommand` skips `Promise.all` when a command has no plugins (none
 * of ours has): the first call of that built-in costs a compiled CLI about
 * 0.1 M instructions, twice per command line; and `parseArgs` takes the
 * canonical tokens the CLI dispatches with through cli/_citty-canonical.ts
 * (docs/start-up.md).
 */
export const cittyParseArgs: BunPlugin = {
  name: "citty-parse-args",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]citty[\\/].*\.m?js$/ }, async (args) => {
      const text = await Bun.file(args.path).text();
      return {
        contents: canonicalFirst(
          noPluginWait(fastCase(text.replace(/(\bfrom\s*)(["'])(?:node:)?util\2/g, `$1${JSON.stringify(SHIM)}`))),
        ),
        loader: "js",
      };
    });
  },
};

/** Names whose camelCase is "drop each hyphen, upper-case the next character" and whose kebabCase is the name itself. */
const SIMPLE_NAME = "/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/";

/** Insert the fast path at the top of scule's `camelCase` and `kebabCase` when the file defines them. */
export function fastCase(text: string): string {
  return text
    .replace(
      /function camelCase\((\w+), (\w+)\) \{/,
      (m, str, opts) =>
        `${m} if (${opts} === undefined && typeof ${str} === "string" && ${SIMPLE_NAME}.test(${str})) ` +
        `return ${str}.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());`,
    )
    .replace(
      /function kebabCase\((\w+), (\w+)\) \{/,
      (m, str, joiner) =>
        `${m} if (${joiner} === undefined && typeof ${str} === "string" && ${SIMPLE_NAME}.test(${str})) return ${str};`,
    );
}

/**
 * citty's `parseArgs` tries cli/_citty-canonical.ts first: the canonical
 * tokens the CLI dispatches with are parsed there in one small function, and
 * anything else by citty's own parser.
 */
export function canonicalFirst(text: string): string {
  const patched = text.replace(
    /function parseArgs\((\w+), (\w+)\) \{/,
    (m, raw, def) => `${m} const fast = __parseCanonical(${raw}, ${def}); if (fast !== undefined) return fast;`,
  );
  return patched === text ? text : `import { parseCanonical as __parseCanonical } from ${JSON.stringify(CANONICAL)};\n${patched}`;
}

/** An empty plugin list resolves to `[]` at once in citty's `resolvePlugins`, as `Promise.all([])` would. */
export function noPluginWait(text: string): string {
  return text.replace(/async function resolvePlugins\((\w+)\) \{/, (m, list) => `${m} if (${list}.length === 0) return [];`);
}

/**
 * Modules the first bundle of our own CLI leaves out (cli/_edition.ts): each
 * is replaced by one that throws `NeedsFullBundle` when loaded, with the
 * names its importers use. Besides the network backends, `serve` and the
 * TOML parser, the commands a script runs once or that run for long (`init`,
 * `alias`, `rename`, `watch`, `dump`, `load`, help, `--status`, `--vacuum`,
 * `--cleanup`) and the library parts only they reach: every function a
 * bundle holds is created when it starts, and a compiled `write` or
 * `--version` pays for each (docs/start-up.md). Each of these is loaded
 * before its call opens or prints anything, so handing the call over is safe.
 */
const LEFT_OUT: Record<string, string[]> = {
  "lib/backends/postgres/index.ts": ["createPostgresBackend"],
  "lib/backends/redis/index.ts": ["createRedisBackend"],
  "cli/commands/serve.ts": ["serve"],
  "node_modules/@iarna/toml/toml.js": ["parse", "stringify"],
  "cli/commands/init.ts": ["init"],
  "cli/commands/alias.ts": ["alias"],
  "cli/commands/rename.ts": ["rename"],
  "cli/commands/watch.ts": ["watch"],
  "cli/commands/dump.ts": ["dump"],
  "cli/commands/load.ts": ["load"],
  "cli/help.ts": ["helpText"],
  "cli/globals.ts": ["cleanup", "vacuum", "status"],
  "lib/watch/watch-source.ts": ["watchRun"],
  "lib/queue/async-queue.ts": ["AsyncQueue"],
  "lib/dump/dump.ts": ["dumpLines"],
  "lib/dump/load.ts": ["dumpInputError", "loadDump"],
};

/** The plugin that makes the first bundle: `FULL_BUNDLE` set, the modules of {@link LEFT_OUT} replaced. */
export function firstBundle(fullBundle: string): BunPlugin {
  const edition = inTree("cli/_edition.ts");
  const left = new Map(Object.entries(LEFT_OUT).map(([rel, names]) => [inTree(rel), names]));
  const paths = [edition, ...left.keys()];
  const filter = new RegExp(`^(?:${paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`);
  return {
    name: "first-bundle",
    setup(build) {
      build.onLoad({ filter }, async (args) => {
        const names = left.get(args.path);
        if (!names) {
          const text = await Bun.file(args.path).text();
          const set = text.replace(
            "FULL_BUNDLE: string | undefined = undefined",
            `FULL_BUNDLE: string | undefined = ${JSON.stringify(fullBundle)}`,
          );
          if (set === text) throw new Error(`${args.path}: FULL_BUNDLE declaration not found`);
          return { contents: set, loader: "ts" };
        }
        const what = JSON.stringify(args.path.slice(ROOT.length + 1));
        const stub =
          `import { NeedsFullBundle } from ${JSON.stringify(edition)};\n` +
          `throw new NeedsFullBundle(${what});\n` +
          names.map((n) => `export const ${n} = undefined;\n`).join("");
        return { contents: stub, loader: "ts" };
      });
    },
  };
}

/**
 * Our own CLI: first the complete bundle (a plain Bun bundle, written next to
 * the entry so that it is embedded under the executable's own directory), then
 * the binary with two entries, the first bundle and that complete one.
 */
async function buildTwoBundles(opts: BuildOptions, entry: string): Promise<void> {
  const name = `.broker-full-${process.pid}-${Date.now().toString(36)}.js`;
  const fullPath = resolvePath(dirname(entry), name);
  try {
    const full = await Bun.build({
      entrypoints: [entry],
      target: "bun",
      format: "cjs",
      minify: true,
      define: platformDefine(opts.target),
      plugins: [cittyParseArgs],
      throw: false,
    });
    await Bun.write(fullPath, unwrapCjs(await built(full).outputs[0]!.text()));
    await compile(opts, [entry, fullPath], [cittyParseArgs, firstBundle(`./${name}`)]);
  } finally {
    rmSync(fullPath, { force: true });
  }
}

/**
 * Bun marks a CommonJS bundle as already compiled (`// @bun @bun-cjs` and a
 * module wrapper); given to a second build as one of its entries, such a file
 * is embedded but never runs when imported. Its body, as plain code, is
 * bundled again like any source file.
 */
function unwrapCjs(text: string): string {
  const head = /^(?:#![^\n]*\n)?\/\/ @bun @bun-cjs\n\(function\(exports, require, module, __filename, __dirname\) \{/;
  const tail = /\}\)\s*$/;
  if (!head.test(text) || !tail.test(text)) throw new Error("the complete bundle is not in the CommonJS form this build expects");
  return text.replace(head, "").replace(tail, "\n");
}

/** `result` when the build succeeded (with at least one output); else throws with the bundler's messages. */
function built(result: Bun.BuildOutput): Bun.BuildOutput {
  if (!result.success || result.outputs.length === 0) throw new Error(result.logs.map(String).join("\n") || "Bun.build failed");
  return result;
}

/** `bun build --compile --minify --bytecode` of these entries (the first is the one that starts). */
async function compile(opts: BuildOptions, entrypoints: string[], plugins: BunPlugin[]): Promise<void> {
  const result = await Bun.build({
    entrypoints,
    compile: {
      outfile: opts.outfile,
      ...(opts.target ? { target: opts.target as Bun.Build.CompileTarget } : {}),
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    minify: true,
    bytecode: true,
    define: platformDefine(opts.target),
    plugins,
    throw: false,
  });
  built(result);
}

/**
 * `process.platform` as a constant of the platform a binary for `target` runs
 * on, so the bundler drops the other platforms' code (lib/util/path.ts keeps
 * only the Windows or only the POSIX path rules).
 */
export function platformDefine(target: string | undefined): Record<string, string> {
  return { "process.platform": JSON.stringify(platformOf(target)) };
}

/** `bun-windows-x64` → `win32`, `bun-darwin-arm64` → `darwin`, other targets `linux`; this machine's without one. */
function platformOf(target: string | undefined): string {
  if (!target) return process.platform;
  if (target.includes("windows")) return "win32";
  return target.includes("darwin") ? "darwin" : "linux";
}

/**
 * Compile `entry` to `outfile`; throws with the bundler's messages when it
 * fails. Our own cli/index.ts gets two bundles (cli/_edition.ts); any other
 * entry (an earlier commit's tree, for bench/cli.ts) one.
 */
export async function buildBinary(opts: BuildOptions): Promise<void> {
  const ours = inTree("cli/index.ts");
  if (resolvePath(opts.entry) === ours) return buildTwoBundles(opts, ours);
  await compile(opts, [opts.entry], [cittyParseArgs]);
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const opts: BuildOptions = { entry: inTree("cli/index.ts"), outfile: inTree("dist/broker") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] =
      a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (flag === "--outfile" || flag === "--target") {
      const v = inline ?? argv[++i];
      if (!v) fail(`${flag} needs a value`);
      if (flag === "--outfile") opts.outfile = v;
      else opts.target = v;
    } else if (a.startsWith("-")) fail(`unknown option ${a}`);
    else opts.entry = a;
  }
  try {
    await buildBinary(opts);
  } catch (e) {
    fail((e as Error).message);
  }
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}
