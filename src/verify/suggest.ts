// "did you mean ...?" for a symbol the user misspelled: nearest names by edit distance,
// over both the mangled and the demangled spellings.

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMinimum) rowMinimum = value;
    }
    if (rowMinimum > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}

export interface Candidate {
  /** What to show (and what the user can paste back). */
  label: string;
  /** Spellings to compare against. */
  spellings: string[];
}

/** Up to `count` candidates closest to `query`; names containing the query count as close. */
export function closeMatches(query: string, candidates: readonly Candidate[], count = 3): string[] {
  const limit = Math.max(2, Math.floor(query.length / 3));
  const lowered = query.toLowerCase();
  const scored: { label: string; score: number }[] = [];
  for (const candidate of candidates) {
    let best = limit + 1;
    for (const spelling of candidate.spellings) {
      const s = spelling.toLowerCase();
      const distance = s.includes(lowered) || (lowered.length >= 4 && lowered.includes(s) && s.length >= 4) ? 1 : editDistance(lowered, s, limit);
      if (distance < best) best = distance;
    }
    if (best <= limit) scored.push({ label: candidate.label, score: best });
  }
  scored.sort((x, y) => x.score - y.score || x.label.length - y.label.length || x.label.localeCompare(y.label));
  return [...new Set(scored.map((s) => s.label))].slice(0, count);
}
