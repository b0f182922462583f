/**
 * `parseArgs` for citty inside the compiled binary. citty's parser calls
 * `node:util`'s `parseArgs({ args, options, allowPositionals: true, strict:
 * false })`, and loading `node:util` costs a compiled binary several
 * milliseconds before any command runs. `scripts/build.ts` resolves citty's
 * `node:util` import to this module, which implements that call with
 * the rules of the `parseArgs` built into Bun (node's, with a group of short
 * options read letter by letter):
 *
 * - `--` ends the options: every later token is a positional;
 * - `--name` is an option; a `string` option takes the next token (whatever
 *   it looks like) as its value, anything else is `true`;
 * - `--name=value` (the first `=` at index 3 or later) carries its value
 *   inline, whatever the option's type;
 * - `-x` is the option whose `short` is `x`, else the option called `x`,
 *   else an unknown `x`; `-xVALUE` gives a `string` option its value inline;
 *   `-abc`, where `a` is not a `string` option, is `-a -b -c`: a `string`
 *   option inside the group takes the rest of the group, and as the last
 *   letter the next token (`-x-` is `-x` and an option named `-`);
 * - `-` and anything else is a positional;
 * - a `multiple` option collects every value in an array; defaults fill the
 *   options not given; `__proto__` is never stored;
 * - option sets Bun rejects (a type other than string/boolean, a `short`
 *   that is not one character, a `multiple` that is not boolean, a default
 *   of the wrong type) throw (citty then treats every token as a
 *   positional).
 *
 * Only what citty calls is implemented: no `strict`, `tokens` or
 * `allowNegative`. test/cli/citty-parse-args.test.ts checks it against
 * `node:util` on generated token lists.
 * @module
 */

/** One option as citty describes it to `parseArgs`. */
export interface OptionConfig {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
}

export interface ParseArgsConfig {
  args?: string[];
  options?: Record<string, OptionConfig>;
  allowPositionals?: boolean;
  strict?: boolean;
}

type Value = string | boolean | (string | boolean)[];

export interface ParsedResults {
  values: Record<string, Value | undefined>;
  positionals: string[];
}

export function parseArgs(config: ParseArgsConfig): ParsedResults {
  const options = config.options ?? {};
  const byShort = new Map<string, string>();
  for (const [name, opt] of Object.entries(options)) {
    check(name, opt);
    if (typeof opt.short === "string" && !byShort.has(opt.short)) byShort.set(opt.short, name);
  }
  /** The option a short letter names: by `short` first, else the option called by that letter. */
  const byLetter = (c: string): string | undefined => byShort.get(c) ?? (Object.hasOwn(options, c) ? c : undefined);
  const isString = (name: string | undefined): boolean =>
    name !== undefined && Object.hasOwn(options, name) && options[name]?.type === "string";
  const values: Record<string, Value | undefined> = Object.create(null);
  const positionals: string[] = [];
  const store = (name: string, value: string | undefined): void => {
    if (name === "__proto__") return;
    const v = value ?? true;
    if (Object.hasOwn(options, name) && options[name]?.multiple) {
      const list = values[name];
      if (Array.isArray(list)) list.push(v);
      else values[name] = [v];
    } else values[name] = v;
  };

  const args = config.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      positionals.push(arg);
    } else if (arg.length > 2 && arg[1] === "-") {
      const eq = arg.indexOf("=");
      if (eq >= 3) store(arg.slice(2, eq), arg.slice(eq + 1));
      else {
        const name = arg.slice(2);
        store(name, isString(name) && i + 1 < args.length ? args[++i] : undefined);
      }
    } else if (arg.length > 2 && isString(byLetter(arg.charAt(1)))) {
      store(byLetter(arg.charAt(1)) as string, arg.slice(2));
    } else {
      // -x, or a group -abc: each letter an option; a string option takes the
      // rest of the group, or the next token when it is the last letter
      for (let k = 1; k < arg.length; k++) {
        const c = arg.charAt(k);
        const name = byLetter(c) ?? c;
        if (!isString(name)) store(name, undefined);
        else if (k < arg.length - 1) {
          store(name, arg.slice(k + 1));
          break;
        } else store(name, i + 1 < args.length ? args[++i] : undefined);
      }
    }
  }

  for (const [name, opt] of Object.entries(options)) {
    if (name !== "__proto__" && opt.default !== undefined && values[name] === undefined) values[name] = opt.default;
  }
  return { values, positionals };
}

// --- internal ---

/** Reject what node's parseArgs rejects in an option's description. */
function check(name: string, opt: OptionConfig): void {
  const bad = (what: string) => new TypeError(`parseArgs: options.${name}${what}`);
  if (opt === null || typeof opt !== "object" || Array.isArray(opt)) throw bad(" must be an object");
  if (opt.type !== "string" && opt.type !== "boolean") throw bad(".type must be 'string' or 'boolean'");
  if (Object.hasOwn(opt, "short") && (typeof opt.short !== "string" || opt.short.length !== 1)) {
    throw bad(".short must be a single character");
  }
  if (opt.multiple !== undefined && typeof opt.multiple !== "boolean") throw bad(".multiple must be a boolean");
  const d = opt.default;
  if (d === undefined) return;
  const one = (v: unknown) => typeof v === opt.type;
  if (opt.multiple ? !(Array.isArray(d) && d.every(one)) : !one(d)) throw bad(`.default must be of type ${opt.type}`);
}
