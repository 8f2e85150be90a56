/**
 * Edit distance between two names: insertions, deletions, substitutions and swaps of two neighbours
 * (optimal string alignment), so that `backtset` is one edit from `backtest`, not two.
 */
export const editDistance = (a: string, b: string): number => {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
};

/**
 * The candidate a person most likely meant by `typed`, ignoring case: the nearest within about a
 * third of its length, else the one it is part of (`sweep` -> `backtest-sweep`); none if neither.
 */
export const closest = (typed: string, candidates: readonly string[]): string | undefined => {
  const wanted = typed.toLowerCase();
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .sort((x, y) => x.distance - y.distance);
  const nearest = scored[0];
  if (nearest && nearest.distance <= Math.max(1, Math.floor(wanted.length / 3))) return nearest.candidate;
  if (wanted.length < 3) return undefined;
  const containing = candidates.filter((candidate) => candidate.toLowerCase().includes(wanted));
  return containing.length === 1 ? containing[0] : undefined;
};
