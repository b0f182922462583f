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
import type { BunPlugin } from "bun";

const ROOT = `${import.meta.dir}/..`;
const SHIM = Bun.fileURLToPath(new URL("../cli/_citty-parse-args.ts", import.meta.url));

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
 */
export const cittyParseArgs: BunPlugin = {
  name: "citty-parse-args",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]citty[\\/].*\.m?js$/ }, async (args) => {
      const text = await Bun.file(args.path).text();
      return {
        contents: fastCase(text.replace(/(\bfrom\s*)(["'])(?:node:)?util\2/g, `$1${JSON.stringify(SHIM)}`)),
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

/** Compile `entry` to `outfile`; throws with the bundler's messages when it fails. */
export async function buildBinary(opts: BuildOptions): Promise<void> {
  const result = await Bun.build({
    entrypoints: [opts.entry],
    compile: {
      outfile: opts.outfile,
      ...(opts.target ? { target: opts.target as Bun.Build.CompileTarget } : {}),
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    minify: true,
    bytecode: true,
    plugins: [cittyParseArgs],
    throw: false,
  });
  if (!result.success) throw new Error(result.logs.map(String).join("\n") || "Bun.build failed");
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const opts: BuildOptions = { entry: `${ROOT}/cli/index.ts`, outfile: `${ROOT}/dist/broker` };
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
