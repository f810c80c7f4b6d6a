/**
 * "Did you mean …?" for a misspelt field name or option: the closest candidate by
 * Damerau–Levenshtein distance (a swap of two neighbours counts as one edit), or null when
 * nothing is close enough to be a plausible typo.
 *
 * Case, `_` and `-` are ignored first (`subnetID`, `instance_type` find `subnetId`,
 * `instanceType`); then a candidate within max(1, ⌊length/3⌋) edits wins, or one that starts
 * with what was typed (`size` → `sizeGiB`). Two candidates equally close suggest neither
 * (`gp4` is as near `gp2` as `gp3`).
 *
 * @example
 * ```ts
 * closestMatch('instanceTyp', ['image', 'instanceType']); // 'instanceType'
 * closestMatch('colour', ['name', 'region']);              // null
 * ```
 */
export function closestMatch(word: string, candidates: readonly string[]): string | null {
  const w = normalize(word);
  if (w.length === 0) return null;
  let best: string | null = null;
  let bestDistance = Infinity;
  let tie = false;
  const limit = Math.max(1, Math.floor(w.length / 3));
  for (const c of candidates) {
    const n = normalize(c);
    if (n === w) return c;
    if (Math.abs(n.length - w.length) > limit) continue;
    const d = editDistance(w, n);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance) {
      tie = true;
    }
  }
  if (best !== null && bestDistance <= limit) return tie ? null : best;
  if (w.length >= 3) {
    const prefixed = candidates.filter((c) => normalize(c).startsWith(w));
    if (prefixed.length === 1) return prefixed[0] as string;
  }
  return null;
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_]/g, '');
}

/** Optimal string alignment distance (Damerau–Levenshtein where no substring is edited twice). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(rows - 1, cols - 1);
}
