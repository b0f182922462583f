/**
 * "Did you mean …?" for a mistyped command word.
 * @module
 */

/**
 * The command `word` was probably meant to be: the nearest of `known` within
 * one edit (two for words of five letters or more), counting a swap of two
 * neighbouring letters as one edit. Only lowercase words are guessed at:
 * commands are lowercase, and anything else (`Read`, `q1`, a path) is more
 * likely an argument in the wrong place than a typo.
 */
export function suggestCommand(word: string, known: readonly string[]): string | undefined {
  if (!/^[a-z]+$/.test(word)) return undefined;
  const limit = word.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

// --- internal ---

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
