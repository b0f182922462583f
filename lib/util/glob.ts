/**
 * Shell-style globs with Python's `fnmatch.fnmatchcase` semantics, matched in
 * time linear in pattern × name: no regular expression, no backtracking
 * beyond the last `*` (the classic two-pointer wildcard walk).
 *
 * - `*` matches any run of characters (also empty), `?` exactly one;
 * - `[seq]` one character of the set, `[!seq]` one character outside it;
 *   `a-z` inside a set is a range, a reversed range (`[z-a]`) matches
 *   nothing; a `]` right after `[` or `[!` belongs to the set; a `-` first,
 *   last or right after a range is literal;
 * - an unclosed `[` is a literal `[`; there is no escape character.
 *
 * Case-sensitive; characters are compared as Unicode code points.
 * @module
 */

/** One compiled glob. */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string;
  /** Whether `name` matches the whole pattern. */
  test(name: string): boolean;
}

/** Whether `name` matches the glob `pattern` (Python `fnmatch.fnmatchcase`). */
export function globMatch(name: string, pattern: string): boolean {
  return compileGlob(pattern).test(name);
}

/** Compile `pattern` once (cached) for repeated {@link Glob.test} calls. */
export function compileGlob(pattern: string): Glob {
  let glob = cache.get(pattern);
  if (!glob) {
    const tokens = tokenize(pattern);
    glob = { pattern, test: (name) => matchTokens(tokens, name) };
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(pattern, glob);
  }
  return glob;
}

/** The literal text before the first `*`, `?` or `[` (what 3.6.1 validates and range-scans). */
export function globLiteralPrefix(pattern: string): string {
  const i = pattern.search(/[*?[]/);
  return i === -1 ? pattern : pattern.slice(0, i);
}

// --- internal ---

const CACHE_MAX = 256;
const cache = new Map<string, Glob>();

/** `*`, or one position matched by a set of inclusive code-point ranges (negated or not). */
type Token = "*" | { negate: boolean; ranges: number[] };

const ANY_ONE: Token = { negate: true, ranges: [] };
const NONE: Token = { negate: false, ranges: [] };
/** A joining `-` between two chunks of a set: a range operator (see {@link parseSet}). */
const RANGE_OP = -1;
const DASH = 45;
const BANG = 33;

function literal(cp: number): Token {
  return { negate: false, ranges: [cp, cp] };
}

function tokenize(pattern: string): Token[] {
  const pat = Array.from(pattern, (c) => c.codePointAt(0)!);
  const out: Token[] = [];
  for (let i = 0; i < pat.length; ) {
    const c = pat[i++]!;
    if (c === 42) {
      if (out[out.length - 1] !== "*") out.push("*");
    } else if (c === 63) out.push(ANY_ONE);
    else if (c === 91) {
      let j = i;
      if (pat[j] === BANG) j++;
      if (pat[j] === 93) j++;
      while (j < pat.length && pat[j] !== 93) j++;
      if (j >= pat.length) out.push(literal(91));
      else {
        out.push(parseSet(pat, i, j));
        i = j + 1;
      }
    } else out.push(literal(c));
  }
  return out;
}

/**
 * The set `pat[start..end)` (between `[` and `]`), split into chunks at the
 * range dashes and with reversed ranges dropped exactly as Python's
 * `fnmatch.translate` does, then read the way Python's regex parser reads
 * the class it would build.
 */
function parseSet(pat: number[], start: number, end: number): Token {
  const body = pat.slice(start, end);
  let seq: number[];
  if (!body.includes(DASH)) seq = body;
  else {
    const chunks: number[][] = [];
    let i = 0;
    let k = body[0] === BANG ? 2 : 1;
    for (;;) {
      k = k < body.length ? body.indexOf(DASH, k) : -1;
      if (k < 0) break;
      chunks.push(body.slice(i, k));
      i = k + 1;
      k += 3;
    }
    const last = body.slice(i);
    if (last.length) chunks.push(last);
    else chunks[chunks.length - 1]!.push(DASH);
    for (let c = chunks.length - 1; c > 0; c--) {
      const left = chunks[c - 1]!;
      const right = chunks[c]!;
      if (left[left.length - 1]! > right[0]!) {
        chunks[c - 1] = left.slice(0, -1).concat(right.slice(1));
        chunks.splice(c, 1);
      }
    }
    seq = chunks.flatMap((chunk, n) => (n === 0 ? chunk : [RANGE_OP, ...chunk]));
  }
  if (seq.length === 0) return NONE;
  if (seq.length === 1 && seq[0] === BANG) return ANY_ONE;
  const negate = seq[0] === BANG;
  const ranges: number[] = [];
  for (let i = negate ? 1 : 0; i < seq.length; ) {
    const lo = value(seq[i++]!);
    if (seq[i] !== RANGE_OP) ranges.push(lo, lo);
    else if (i + 1 >= seq.length) {
      ranges.push(lo, lo, DASH, DASH);
      i++;
    } else {
      const hi = value(seq[i + 1]!);
      if (lo <= hi) ranges.push(lo, hi);
      i += 2;
    }
  }
  return { negate, ranges };
}

function value(cp: number): number {
  return cp === RANGE_OP ? DASH : cp;
}

function accepts(token: Exclude<Token, "*">, cp: number): boolean {
  const r = token.ranges;
  for (let i = 0; i < r.length; i += 2) if (cp >= r[i]! && cp <= r[i + 1]!) return !token.negate;
  return token.negate;
}

/**
 * Every token but `*` consumes exactly one character, so remembering only the
 * last `*` is enough: on a mismatch, that star absorbs one more character and
 * the walk resumes after it. At most |name| restarts of at most |pattern| steps.
 */
function matchTokens(tokens: Token[], name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const t = tokens[p];
    if (t === "*") {
      star = p++;
      resume = n;
      continue;
    }
    const cp = name.codePointAt(n)!;
    if (t !== undefined && accepts(t, cp)) {
      p++;
      n += cp > 0xffff ? 2 : 1;
    } else if (star >= 0) {
      p = star + 1;
      resume += name.codePointAt(resume)! > 0xffff ? 2 : 1;
      n = resume;
    } else return false;
  }
  while (tokens[p] === "*") p++;
  return p === tokens.length;
}
