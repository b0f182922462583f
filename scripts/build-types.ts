/**
 * Writes the `.d.ts` declarations the package ships in `dist/types/`
 * (`npm pack` runs this as `prepack`). Consumers' type checkers read these
 * through the `types` condition of `exports`, so a stricter tsconfig than ours
 * never type-checks our `.ts` source, while Bun still runs the source.
 *
 * tsc keeps our `./x.ts` import specifiers in the declarations; a consumer
 * without `allowImportingTsExtensions` rejects those, so they are rewritten to
 * `./x.js`, which every module resolution maps back to `./x.d.ts`.
 * @module
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "dist", "types");

rmSync(OUT, { recursive: true, force: true });
const tsc = Bun.spawnSync([join(ROOT, "node_modules", ".bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], {
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
});

let files = 0;
for (const name of readdirSync(OUT, { recursive: true, encoding: "utf8" })) {
  if (!name.endsWith(".d.ts")) continue;
  const path = join(OUT, name);
  const text = await Bun.file(path).text();
  await Bun.write(path, rewriteSpecifiers(text));
  files++;
}
if (tsc.exitCode !== 0) {
  console.error("build-types: tsc reported errors (declarations written anyway, but the build fails)");
  process.exit(1);
}
console.error(`build-types: ${files} declaration files in dist/types`);

/** `from "./a.ts"` / `import("../b.ts")` → `.js`; bare specifiers are left alone. */
export function rewriteSpecifiers(text: string): string {
  return text.replace(/((?:from\s+|import\s*\(\s*)["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1$2.js$3");
}
