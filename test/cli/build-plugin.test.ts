// The build plugin's fast path for citty's camelCase/kebabCase gives the same results as scule's own code.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalFirst, fastCase, noPluginWait, platformDefine } from "../../scripts/build.ts";

const SCULE = `${import.meta.dir}/../../node_modules/citty/dist/_chunks/libs/scule.mjs`;

type Case = (s: unknown) => string;

test("camelCase and kebabCase: the fast path agrees with scule on simple and other names", async () => {
  const text = await Bun.file(SCULE).text();
  const patched = fastCase(text);
  expect(patched).not.toBe(text); // the functions were found: the fast path is in
  expect(patched.match(/\[a-z\]\[a-z0-9\]\*/g)?.length).toBe(2);
  const dir = mkdtempSync(join(tmpdir(), "sb-plugin-"));
  try {
    writeFileSync(join(dir, "orig.mjs"), text);
    writeFileSync(join(dir, "fast.mjs"), patched);
    // scule's chunk exports camelCase as `t` and kebabCase as `n`.
    const orig = (await import(join(dir, "orig.mjs"))) as Record<string, Case>;
    const fast = (await import(join(dir, "fast.mjs"))) as Record<string, Case>;
    const names = ["read", "include-claimed", "no-retarget-aliases", "max-attempts", "a-1b", "since", "json", "t", "x2"];
    const others = ["fooBar", "Foo-Bar", "a--b", "-a", "a-", "snake_case", "dot.name", "ABC", "", "ünï-côde", "1st"];
    for (const name of [...names, ...others]) {
      expect(fast.t!(name)).toBe(orig.t!(name));
      expect(fast.n!(name)).toBe(orig.n!(name));
    }
    expect(fast.t!("include-claimed")).toBe("includeClaimed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resolvePlugins without Promise.all for no plugins: citty runs commands with and without plugins as before", async () => {
  const CITTY = `${import.meta.dir}/../../node_modules/citty/dist/index.mjs`;
  const text = await Bun.file(CITTY).text();
  const patched = noPluginWait(text);
  expect(patched).not.toBe(text);
  expect(patched.match(/\.length === 0\) return \[\];/g)?.length).toBe(1);
  const dir = mkdtempSync(join(tmpdir(), "sb-plugin-"));
  try {
    // The chunk import made absolute, so the copy loads from the temporary folder.
    const scule = `${import.meta.dir}/../../node_modules/citty/dist/_chunks/libs/scule.mjs`;
    writeFileSync(join(dir, "citty.mjs"), patched.replace("./_chunks/libs/scule.mjs", scule));
    const citty = (await import(join(dir, "citty.mjs"))) as typeof import("citty");
    const seen: string[] = [];
    const args = { name: { type: "positional" }, loud: { type: "boolean" } } as const;
    await citty.runCommand(
      { args, run: ({ args: a }) => void seen.push(`plain ${a.name} ${a.loud}`) },
      { rawArgs: ["x", "--loud"] },
    );
    const plugin = citty.defineCittyPlugin({
      name: "p",
      setup: () => void seen.push("setup"),
      cleanup: () => void seen.push("cleanup"),
    });
    await citty.runCommand(
      { args, plugins: [plugin], run: ({ args: a }) => void seen.push(`with ${a.name}`) },
      { rawArgs: ["y"] },
    );
    expect(seen).toEqual(["plain x true", "setup", "with y", "cleanup"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("platformDefine: process.platform of the binary's target", () => {
  expect(platformDefine(undefined)).toEqual({ "process.platform": JSON.stringify(process.platform) });
  expect(platformDefine("bun-windows-x64")).toEqual({ "process.platform": '"win32"' });
  expect(platformDefine("bun-darwin-arm64")).toEqual({ "process.platform": '"darwin"' });
  expect(platformDefine("bun-linux-arm64-musl")).toEqual({ "process.platform": '"linux"' });
});

test("canonicalFirst: citty's parseArgs asks cli/_citty-canonical.ts first", async () => {
  const text = await Bun.file(`${import.meta.dir}/../../node_modules/citty/dist/index.mjs`).text();
  const patched = canonicalFirst(text);
  expect(patched.match(/__parseCanonical\(/g)?.length).toBe(1);
  expect(patched.startsWith("import { parseCanonical as __parseCanonical } from ")).toBe(true);
  expect(patched).toContain("_citty-canonical.ts");
  expect(canonicalFirst("export const x = 1;\n")).toBe("export const x = 1;\n");
});
