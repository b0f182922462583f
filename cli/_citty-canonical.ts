/**
 * A fast path for citty's `parseArgs` inside the compiled binary
 * (`scripts/build.ts` puts it at the top of citty's own). The CLI hands
 * citty's `runCommand` only the canonical tokens of `canonicalArgs`
 * (cli/argv.ts), which the strict 3.6.1 grammar has already checked:
 * `--name` for a boolean, `--name=value` for a string, then `--` and the
 * positionals; the root command gets the command's words in front. For
 * those, this builds the very object citty's parser builds — each value
 * under its name, its aliases and, for a hyphenated name, its camelCase; the
 * positionals under `_` and under their names — in one small function, where
 * citty's general parser runs some twenty (their first calls cost a compiled
 * `write` ~0.6 M instructions; docs/start-up.md).
 *
 * Anything else returns undefined and citty parses it as always: another
 * token shape, a `--no-…` token (citty reads it as a negation), a boolean
 * with a value or a string without one, an argument type other than
 * positional, boolean or string, a default on an option, a missing required
 * argument (citty reports it), a name that is not lower-case words joined by
 * single hyphens.
 * test/cli/argv.test.ts checks it against citty's parser on random command
 * lines.
 * @module
 */
import type { ArgsDef } from "citty";

/** citty's parse of canonical tokens, or undefined to let citty parse them. */
export function parseCanonical(rawArgs: readonly string[], def: ArgsDef): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const positionals: string[] = [];
  let i = 0;
  for (; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === "--") break;
    if (!token.startsWith("-")) {
      positionals.push(token); // the command words the root command is given
      continue;
    }
    if (!token.startsWith("--") || token.startsWith("--no-")) return undefined;
    const eq = token.indexOf("=");
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const d = Object.hasOwn(def, name) ? def[name] : undefined;
    if (d === undefined && simpleName(name))
      out[name] = eq < 0 ? true : token.slice(eq + 1); // another command's option
    else if (d?.type === "boolean" && eq < 0) out[name] = true;
    else if (d?.type === "string" && eq >= 0) out[name] = token.slice(eq + 1);
    else return undefined;
  }
  if (i === rawArgs.length) return undefined;
  for (i++; i < rawArgs.length; i++) positionals.push(rawArgs[i]!);
  out._ = positionals;
  let next = 0;
  for (const name in def) {
    const d = def[name]!;
    if (!simpleName(name)) return undefined;
    if (d.type === "positional") {
      const value = positionals[next++];
      if (value !== undefined) out[name] = value;
      else if (d.default === undefined && d.required !== false) return undefined;
      else out[name] = d.default;
      continue;
    }
    if ((d.type !== "boolean" && d.type !== "string") || d.default !== undefined) return undefined;
    const value = out[name];
    if (value === undefined) {
      if (d.required) return undefined;
      continue;
    }
    for (const alias of typeof d.alias === "string" ? [d.alias] : (d.alias ?? [])) out[alias] = value;
    const camel = camelOf(name);
    if (camel !== name) out[camel] = value;
  }
  return out;
}

// --- internal ---

/** Lower-case letters and digits, starting with a letter, in words joined by single hyphens. */
function simpleName(name: string): boolean {
  let afterHyphen = true;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c === 45) {
      if (afterHyphen) return false;
      afterHyphen = true;
      continue;
    }
    const letter = c >= 97 && c <= 122;
    if (!letter && !(c >= 48 && c <= 57 && k > 0)) return false;
    afterHyphen = false;
  }
  return name.length > 0 && !afterHyphen;
}

/** `include-claimed` → `includeClaimed` (for a {@link simpleName}). */
function camelOf(name: string): string {
  if (!name.includes("-")) return name;
  const words = name.split("-");
  let out = words[0]!;
  for (let k = 1; k < words.length; k++) out += words[k]!.charAt(0).toUpperCase() + words[k]!.slice(1);
  return out;
}
