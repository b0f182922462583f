/**
 * Dependencies in lib/ and cli/ run one way: no module reaches itself again
 * through its imports. Edges are read with Bun's own transpiler
 * (`scanImports`: static, `require` and dynamic imports) plus the type-only
 * imports it leaves out (`import type`, `export type … from`, `import { type X }`,
 * `import("…")` in a type), which a regex finds in the source without comments.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const transpiler = new Bun.Transpiler({ loader: "ts" });

describe("import graph of lib/ and cli/", () => {
  const graph = buildGraph(["lib", "cli"]);

  test("sees type-only imports that scanImports leaves out", () => {
    const src = `import type { A } from "./a.ts";\nimport { type B } from "./b.ts";\nexport type { C } from "./c.ts";\nlet d: import("./d.ts").D;\nimport { E } from "./e.ts";`;
    expect(importsOf(src).sort()).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts"]);
    expect(importsOf(`/** {@link import("./x.ts").X} */\n// import { Y } from "./y.ts";\nconst s = "import('./z.ts')";`)).toEqual(
      [],
    );
  });

  test("reads every module", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get("lib/queue/broker.ts")).toContain("lib/delivery/ops.ts");
  });

  test("has no cycle", () => {
    const cycles = findCycles(graph).map((c) => c.join(" -> "));
    if (cycles.length) console.error(`import cycles:\n  ${cycles.join("\n  ")}`);
    expect(cycles).toEqual([]);
  });
});

// --- internal ---

function buildGraph(folders: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const folder of folders) {
    for (const file of new Glob("**/*.ts").scanSync({ cwd: join(ROOT, folder) })) {
      const path = join(ROOT, folder, file);
      const edges = importsOf(require("node:fs").readFileSync(path, "utf8"))
        .filter((spec) => spec.startsWith("."))
        .map((spec) => relative(ROOT, resolve(dirname(path), spec)))
        .filter((target) => folders.some((f) => target.startsWith(`${f}/`)));
      graph.set(relative(ROOT, path), [...new Set(edges)]);
    }
  }
  return graph;
}

/** Every module specifier `source` imports, type-only imports included. */
function importsOf(source: string): string[] {
  const found = new Set<string>();
  try {
    for (const i of transpiler.scanImports(source)) found.add(i.path);
  } catch {
    // a syntax error shows up in the typecheck; the regex below still reads the file
  }
  const code = withoutComments(source);
  const statement = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm;
  for (const m of code.matchAll(statement)) found.add(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.add(m[1]!);
  return [...found];
}

/** `source` with comments and the contents of string literals blanked (quotes of import specifiers kept). */
function withoutComments(source: string): string {
  let out = "";
  for (let i = 0; i < source.length; ) {
    const c = source[i]!;
    if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end === -1 ? source.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      const body = source.slice(i + 1, j);
      // Keep the text of a string that can be a module specifier (right after `from` or `import(`).
      const keep = /(?:\bfrom\s*|\bimport\(\s*)$/.test(out) && c !== "`";
      out += c + (keep ? body : "") + c;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** One cycle (as a path that returns to its start) per strongly connected component. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => pathThrough(graph, new Set(c), c.sort()[0]!));
}

/** A path from `start` back to `start` inside `members`. */
function pathThrough(graph: Map<string, string[]>, members: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
