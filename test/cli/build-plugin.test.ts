// The build plugin's fast path for citty's camelCase/kebabCase gives the same results as scule's own code.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fastCase } from "../../scripts/build.ts";

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
