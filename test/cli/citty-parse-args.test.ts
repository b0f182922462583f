/**
 * cli/_citty-parse-args.ts stands in for `node:util`'s `parseArgs` inside the
 * compiled binary (scripts/build.ts points citty's import at it). Here it
 * must agree with the real one on generated option sets and token lists,
 * called the way citty calls it: `{ args, options, allowPositionals: true,
 * strict: false }`, same values, same positionals, and a throw where the
 * real one throws.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs, type OptionConfig } from "../../cli/_citty-parse-args.ts";
import { seededRandom as rng } from "../helpers.ts";

const NAMES = ["a", "b", "f", "x", "foo", "bar", "dry-run", "queue", "__proto__", "toString", "constructor"];
const SHORTS = ["a", "b", "f", "x", "v", "q", "-", "=", "ab", ""];
const WORDS = ["", "-", "--", "---", "=", "-=", "--=", "--=x", "=x", "v", "val=ue", "x y", "é", "-1", "--1"];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

function genDefault(r: () => number, type: string, multiple: boolean): unknown {
  const one = () => (r() < 0.9 ? (type === "string" ? pick(r, WORDS) : r() < 0.5) : type === "string" ? true : "x");
  if (!multiple) return one();
  return r() < 0.1 ? one() : Array.from({ length: Math.floor(r() * 3) }, one);
}

/** Mostly valid option sets, now and then one node rejects. */
function genOptions(r: () => number): Record<string, OptionConfig> | undefined {
  if (r() < 0.05) return undefined;
  const options: Record<string, OptionConfig> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const name = pick(r, NAMES);
    if (name === "__proto__") continue; // an own "__proto__" key needs defineProperty; citty never makes one
    const type = (r() < 0.02 ? "number" : r() < 0.5 ? "string" : "boolean") as OptionConfig["type"];
    const opt: OptionConfig = { type };
    if (r() < 0.6) opt.short = r() < 0.95 ? pick(r, SHORTS.slice(0, 6)) : pick(r, SHORTS);
    if (r() < 0.3) opt.multiple = r() < 0.97 ? r() < 0.5 : ("yes" as unknown as boolean);
    if (r() < 0.3) opt.default = genDefault(r, type, opt.multiple === true) as OptionConfig["default"];
    else if (r() < 0.2) opt.default = undefined; // citty passes `default: undefined`
    options[name] = opt;
  }
  return options;
}

/** Tokens built from option names, shorts, groups, inline values, `--` and plain words. */
function genToken(r: () => number, options: Record<string, OptionConfig> | undefined): string {
  const names = [...NAMES, ...Object.keys(options ?? {})];
  const shorts = [...SHORTS.slice(0, 8), ...Object.values(options ?? {}).map((o) => o.short ?? "a")];
  const k = r();
  if (k < 0.2) return `--${pick(r, names)}`;
  if (k < 0.32) return `--${pick(r, names)}=${pick(r, WORDS)}`;
  if (k < 0.47) return `-${pick(r, shorts)}`;
  if (k < 0.6) return `-${Array.from({ length: 2 + Math.floor(r() * 3) }, () => pick(r, shorts)).join("")}`;
  if (k < 0.68) return `-${pick(r, shorts)}${pick(r, WORDS)}`;
  if (k < 0.75) return "--";
  if (k < 0.85) return pick(r, WORDS);
  return pick(r, ["pos", "q1", "hello world", "-", "a=b", "--no-x"]);
}

type Outcome = { threw: true } | { threw: false; values: Record<string, unknown>; positionals: string[] };

function outcome(run: () => { values: object; positionals: string[] }): Outcome {
  try {
    const { values, positionals } = run();
    return { threw: false, values: { ...values }, positionals };
  } catch {
    return { threw: true };
  }
}

describe("citty's parseArgs stand-in", () => {
  test("agrees with node:util's parseArgs on 20,000 generated calls", () => {
    let compared = 0;
    let threw = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const r = rng(seed);
      const options = genOptions(r);
      const args = Array.from({ length: Math.floor(r() * 8) }, () => genToken(r, options));
      const config = { args, options, allowPositionals: true, strict: false };
      const ours = outcome(() => parseArgs(structuredClone(config)));
      const theirs = outcome(() => nodeParseArgs(structuredClone(config) as Parameters<typeof nodeParseArgs>[0]));
      if (theirs.threw) threw++;
      if (!Bun.deepEquals(ours, theirs, true)) expect({ seed, config, ours }).toEqual({ seed, config, ours: theirs });
      compared++;
    }
    expect(compared).toBe(20_000);
    expect(threw).toBeGreaterThan(100); // the rejected option sets were exercised too
  });

  test("values keep node's null prototype and never take a __proto__ key", () => {
    const r = parseArgs({ args: ["--__proto__", "--toString=x"], allowPositionals: true, strict: false });
    expect(Object.getPrototypeOf(r.values)).toBe(null);
    expect(Object.keys(r.values)).toEqual(["toString"]);
  });

  test("the cases citty meets: string options take the next token, `--` ends options, groups expand", () => {
    const options: Record<string, OptionConfig> = {
      json: { type: "boolean", short: "j" },
      limit: { type: "string", short: "l" },
      queue: { type: "string", multiple: true },
      timestamps: { type: "boolean", short: "t", default: false },
    };
    const r = parseArgs({
      args: ["q", "--limit", "--json", "-jt", "--queue=a", "--queue", "b", "-l5", "--", "--json", "-x"],
      options,
      allowPositionals: true,
      strict: false,
    });
    expect({ ...r.values }).toEqual({ limit: "5", json: true, timestamps: true, queue: ["a", "b"] });
    expect(r.positionals).toEqual(["q", "--json", "-x"]);
  });
});
