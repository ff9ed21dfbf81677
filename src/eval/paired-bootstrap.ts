/**
 * Paired bootstrap comparison of two models on the same examples (Koehn 2004, "Statistical Significance Tests for
 * Machine Translation Evaluation"; Efron & Tibshirani 1993 ch. 13 and 16). Each replicate draws one multiplicity vector
 * w* and evaluates both models on it, so the per-example pairing — the reason a small delta can be significant when
 * both intervals overlap — is kept.
 *
 * The test. δ = θ_tuned − θ_base. The interval is the percentile interval of the replicates δ*. The p-value is the
 * two-sided bootstrap p-value of H0: δ = 0 obtained by inverting that interval — the smallest alpha at which the
 * percentile interval would exclude 0:
 *     p = min(1, 2 · min(1 + #{δ* ≤ 0}, 1 + #{δ* ≥ 0}) / (B + 1)),
 * with the +1 of Davison & Hinkley (1997, *Bootstrap Methods and their Application*, ch. 4) so that p is never
 * exactly 0 from a finite B (its floor is 2/(B + 1)).
 * Identical models give δ* = 0 everywhere and p = 1.
 */
import { intervalForColumn, percentileInterval, replicateColumn, runBootstrap } from './bootstrap.js';
import type { BootstrapOptions, BootstrapSummary, Estimate } from './bootstrap.js';
import { ProvenantError } from '../core/index.js';

/** Relative size below which a replicate's delta counts as an exact tie (float64 rounding of two equal sums). */
export const DELTA_TIE_TOLERANCE = 1e-12;

/** Both values, the delta and the relative delta, each with an interval, and the p-value of δ = 0. */
export interface PairedComparison {
  base: Estimate;
  tuned: Estimate;
  /** tuned − base. */
  delta: Estimate;
  /** (tuned − base) / |base|; null when the base value is 0 (or is 0 on most resamples). */
  relativeDelta: Estimate | null;
  /** Two-sided paired-bootstrap p-value of δ = 0 (see the module note). */
  pValue: number;
  bootstrap: BootstrapSummary;
}

/**
 * The two-sided bootstrap p-value of H0: δ = 0 from replicates δ* (NaN replicates ignored), by inverting the percentile
 * interval: p = min(1, 2 · (1 + min(#{δ* ≤ 0}, #{δ* ≥ 0})) / (B + 1)), B the number of non-NaN replicates, with the +1
 * of Davison & Hinkley (1997, ch. 4) so p ≥ 2/(B + 1) is never exactly 0. All-zero replicates give 1.
 *
 * @example
 * ```ts
 * import { bootstrapPValue } from 'provenant/eval';
 *
 * bootstrapPValue([0.1, 0.2, -0.05, 0.3, 0.15]); // 0.667: one of five replicates ≤ 0, so 2·(1 + 1)/(5 + 1)
 * ```
 */
export function bootstrapPValue(deltas: ArrayLike<number>): number {
  let le = 0;
  let ge = 0;
  let m = 0;
  for (let b = 0; b < deltas.length; b++) {
    const d = deltas[b]!;
    if (Number.isNaN(d)) continue;
    m++;
    if (d <= 0) le++;
    if (d >= 0) ge++;
  }
  return Math.min(1, (2 * (Math.min(le, ge) + 1)) / (m + 1));
}

/**
 * Paired bootstrap of two weighted statistics over the same n examples.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { pairedBootstrap } from 'provenant/eval';
 * const correctBase = [1, 0, 1, 0, 1, 0, 1, 0];
 * const correctTuned = [1, 1, 1, 1, 1, 0, 1, 1];
 * const mean = (x: number[]) => (w: Float64Array) => x.reduce((s, v, i) => s + w[i]! * v, 0) / x.length;
 * const cmp = pairedBootstrap(8, mean(correctBase), mean(correctTuned), { seed: 1 });
 * // cmp.delta.value === 0.375
 * ```
 */
export function pairedBootstrap(
  n: number,
  baseStatistic: (weights: Float64Array) => number,
  tunedStatistic: (weights: Float64Array) => number,
  options: BootstrapOptions = {},
): PairedComparison {
  const { point, replicates, settings } = runBootstrap(
    n,
    4,
    (w, out) => {
      const a = baseStatistic(w);
      const b = tunedStatistic(w);
      // Two weighted sums that are equal in exact arithmetic (the models agree on every drawn example) can differ by
      // an ulp; snapping such deltas to 0 keeps a tie from counting as a win for one side in the p-value and the CI.
      const d = Math.abs(b - a) <= DELTA_TIE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b)) ? 0 : b - a;
      out[0] = a;
      out[1] = b;
      out[2] = d;
      out[3] = a !== 0 ? d / Math.abs(a) : NaN;
    },
    options,
  );
  if (!Number.isFinite(point[0]!) || !Number.isFinite(point[1]!)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'A compared statistic is not finite on the full sample.', {
      metaMessages: [`base: ${point[0]}`, `tuned: ${point[1]}`],
    });
  }
  const alpha = settings.alpha;
  const a = intervalForColumn(replicates, 4, 0, alpha, 'the base value');
  const b = intervalForColumn(replicates, 4, 1, alpha, 'the tuned value');
  const d = intervalForColumn(replicates, 4, 2, alpha, 'the delta');
  let relativeDelta: Estimate | null = null;
  // The relative delta is undefined on resamples where the base value is 0; when that is most of them (a base
  // accuracy of 1 %, say) there is no honest interval, and the field is null rather than the comparison failing.
  const rel = replicateColumn(replicates, 4, 3);
  if (point[0] !== 0 && rel.values.length > 0 && rel.skipped <= settings.resamples / 2) {
    relativeDelta = { value: point[3]!, ci: percentileInterval(rel.values, alpha) };
  }
  return {
    base: { value: point[0]!, ci: a.ci },
    tuned: { value: point[1]!, ci: b.ci },
    delta: { value: point[2]!, ci: d.ci },
    relativeDelta,
    pValue: bootstrapPValue(replicateColumn(replicates, 4, 2).values),
    bootstrap: { method: 'percentile', ...settings, skipped: Math.max(a.skipped, b.skipped, d.skipped) },
  };
}
