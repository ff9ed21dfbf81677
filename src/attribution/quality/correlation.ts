/**
 * Rank and linear correlation, the statistics every attribution metric reduces to. Spearman uses average ranks for ties
 * (the textbook definition, as scipy.stats.spearmanr), so a constant block of scores does not invent an order.
 */
import { ProvenantError } from '../../core/index.js';

/**
 * 1-based ranks with ties given the average of the ranks they span (the textbook definition, as
 * `scipy.stats.rankdata(method='average')`): Spearman's ρ is Pearson's r of these ranks.
 *
 * @example
 * ```ts
 * import { averageRanks } from 'provenant/attribution';
 *
 * averageRanks([10, 20, 20, 30]); // Float64Array [1, 2.5, 2.5, 4]
 * ```
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]!]! === values[order[start]!]!) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>, what: string): void {
  if (x.length !== y.length) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${what} needs two series of equal length, got ${x.length} and ${y.length}.`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${what}: non-finite value at position ${i}.`, {
        metaMessages: [`x[${i}] = ${x[i]}`, `y[${i}] = ${y[i]}`],
      });
    }
  }
}

/**
 * Pearson's r. Returns NaN when either series is constant (the correlation is undefined there; callers decide whether
 * to skip such a test point, and say so).
 *
 * @example
 * ```ts
 * import { pearsonCorrelation } from 'provenant/attribution';
 * pearsonCorrelation([1, 2, 3], [2, 4, 7]); // ≈ 0.9934
 * ```
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, 'pearson');
  const n = x.length;
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  // Two-pass (centre, then sum) keeps the result exact for the ~1e-6-scale influence values of a converged model.
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Spearman's ρ: Pearson's r of the average ranks. NaN when either series is constant.
 *
 * @example
 * ```ts
 * import { spearmanCorrelation } from 'provenant/attribution';
 * spearmanCorrelation([1, 2, 3, 4], [1, 3, 2, 4]); // 0.8
 * ```
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

/** Mean of the finite entries and how many were finite (undefined correlations are skipped, and counted). */
export function finiteMean(values: ArrayLike<number>): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) {
      sum += values[i]!;
      count++;
    }
  }
  return { mean: count === 0 ? Number.NaN : sum / count, count };
}
