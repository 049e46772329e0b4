// "Did you mean": the closest known word to a mistyped one. Pure; used by config validation messages.

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export const editDistance = (a: string, b: string): number => {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
};

/**
 * The known word closest to `word`, if it is close enough to be a likely typo: the only word it starts,
 * a case-only difference, or at most a third of its letters wrong (at least 1, at most 3).
 */
export const closest = (word: string, known: readonly string[]): string | undefined => {
  // A unique completion: `rds` for `rds-instance`.
  const completions = known.filter(
    (w) => w !== word && word.length >= 3 && w.toLowerCase().startsWith(word.toLowerCase()),
  );
  if (completions.length === 1) return completions[0];
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    if (w === word) continue;
    const d = editDistance(word, w);
    if (!best || d < best.d) best = { w, d };
  }
  if (!best) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return best.d <= limit ? best.w : undefined;
};

/** `did you mean "x"?`, or the known words when nothing is close (lists over 12 are cut). */
export const suggestion = (word: string, known: readonly string[]): string => {
  const near = closest(word, known);
  if (near !== undefined) return `did you mean "${near}"?`;
  if (!known.length) return 'nothing is allowed here';
  const shown = known.slice(0, 12).join(', ');
  return `known: ${shown}${known.length > 12 ? `, … (${known.length - 12} more)` : ''}`;
};
