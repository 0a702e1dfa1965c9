/** "Did you mean": the allowed name nearest to a mistyped one, when one is near enough to be the intent. */
import { distance } from 'fastest-levenshtein';

/** Edits tolerated for a word of this length: a typo or a swap in short words, more in long ones. */
function tolerance(length: number): number {
  if (length <= 3) return 1;
  if (length <= 5) return 2;
  return Math.max(2, Math.floor(length / 3));
}

/** The candidate nearest to `word` (case-insensitive), or undefined when none is close. */
function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (c === word) continue;
    const d = distance(w, c.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= tolerance(w.length) ? best : undefined;
}

/** `did you mean "x"? ` for a fix text, or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const n = nearest(word, candidates);
  return n === undefined ? '' : `did you mean "${n}"? `;
}
