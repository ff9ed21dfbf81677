/**
 * Log loss (cross-entropy, natural log): mean over examples of −ln p_i[y_i]. Probabilities are clipped to
 * [1e-15, 1] before the log (scikit-learn's historical eps), so one confident mistake costs at most ln 1e15 ≈ 34.5 nats
 * instead of Infinity.
 */
import { bootstrapOptionsTable, checkedBootstrapOptions, bootstrapEstimate } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { MetricResult } from './metric-result.js';
import { checkLabels, checkProbabilityRows, checkSameLength } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** Smallest probability fed to the log. */
export const LOG_LOSS_EPSILON = 1e-15;

/** Per-example losses −ln max(p_i[y_i], 1e-15). */
export function perExampleLogLoss(labels: ArrayLike<number>, probabilities: ProbabilityRows): Float64Array {
  return Float64Array.from({ length: labels.length }, (_, i) =>
    -Math.log(Math.max(probabilities[i]![labels[i]!]!, LOG_LOSS_EPSILON)),
  );
}

/** θ(w) = Σ w_i ℓ_i / Σ w_i: the weighted mean of per-example values. */
export function weightedMeanStatistic(values: Float64Array): (weights: Float64Array) => number {
  return (w) => {
    let s = 0;
    let t = 0;
    for (let i = 0; i < values.length; i++) {
      s += w[i]! * values[i]!;
      t += w[i]!;
    }
    return t > 0 ? s / t : NaN;
  };
}

/** The options of {@link logLoss}: the bootstrap's. */
const LOG_LOSS_PARAMS = bootstrapOptionsTable('logLoss');

/**
 * Log loss in nats with a seeded percentile bootstrap interval.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { logLoss } from 'provenant/eval';
 * const r = logLoss([1, 0], [[0.2, 0.8], [0.6, 0.4]]); // r.value === -(Math.log(0.8) + Math.log(0.6)) / 2
 * ```
 */
export function logLoss(labels: readonly number[], probabilities: ProbabilityRows, options: BootstrapOptions = {}): MetricResult {
  const settings = checkedBootstrapOptions(LOG_LOSS_PARAMS, options);
  checkSameLength(labels, probabilities, 'labels', 'probabilities');
  const K = checkProbabilityRows(probabilities, 'probabilities');
  checkLabels(labels, 'labels', K);
  const est = bootstrapEstimate(labels.length, weightedMeanStatistic(perExampleLogLoss(labels, probabilities)), settings);
  return { metric: 'log-loss', higherIsBetter: false, n: labels.length, ...est };
}
