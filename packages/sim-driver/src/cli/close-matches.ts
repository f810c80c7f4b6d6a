// Python's difflib.get_close_matches, which the AWS CLI uses for its "Maybe you meant:" hints:
// similarity is SequenceMatcher's ratio 2*M/T, M counting the characters of the matching blocks
// found by repeatedly taking the longest common substring (earliest in the candidate, then in the
// word) and recursing on both sides of it.

function longestMatch(a: string, b: string, alo: number, ahi: number, blo: number, bhi: number): [number, number, number] {
  let besti = alo;
  let bestj = blo;
  let bestSize = 0;
  let prev = new Map<number, number>();
  for (let i = alo; i < ahi; i++) {
    const next = new Map<number, number>();
    for (let j = blo; j < bhi; j++) {
      if (a[i] !== b[j]) continue;
      const k = (prev.get(j - 1) ?? 0) + 1;
      next.set(j, k);
      if (k > bestSize) {
        besti = i - k + 1;
        bestj = j - k + 1;
        bestSize = k;
      }
    }
    prev = next;
  }
  return [besti, bestj, bestSize];
}

export function similarityRatio(a: string, b: string): number {
  let matched = 0;
  const queue: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop() as [number, number, number, number];
    const [i, j, k] = longestMatch(a, b, alo, ahi, blo, bhi);
    if (k === 0) continue;
    matched += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  const total = a.length + b.length;
  return total === 0 ? 1 : (2 * matched) / total;
}

/** The up to `n` best `possibilities` with a ratio of at least `cutoff`, best first. */
export function closeMatches(word: string, possibilities: readonly string[], n = 3, cutoff = 0.6): string[] {
  const scored = possibilities.map((x) => [similarityRatio(x, word), x] as const).filter(([score]) => score >= cutoff);
  // heapq.nlargest on (score, word) tuples: equal scores put the larger string first.
  scored.sort((p, q) => (q[0] !== p[0] ? q[0] - p[0] : q[1] < p[1] ? -1 : q[1] > p[1] ? 1 : 0));
  return scored.slice(0, n).map(([, x]) => x);
}
