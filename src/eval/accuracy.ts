/** Accuracy: the weighted fraction of examples whose predicted class equals the label. */
import { bootstrapEstimate, bootstrapOptionsTable, checkedBootstrapOptions } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { MetricResult } from './metric-result.js';
import { resolvePredictions } from './predictions.js';
import type { Predictions } from './predictions.js';

/** θ(w) = Σ w_i [ŷ_i = y_i] / Σ w_i, for the bootstrap. */
export function accuracyStatistic(labels: Int32Array, predicted: Int32Array): (weights: Float64Array) => number {
  return (w) => {
    let hit = 0;
    let total = 0;
    for (let i = 0; i < labels.length; i++) {
      total += w[i]!;
      if (labels[i] === predicted[i]) hit += w[i]!;
    }
    return total > 0 ? hit / total : NaN;
  };
}

/** The options of {@link accuracy}: the bootstrap's. */
const ACCURACY_PARAMS = bootstrapOptionsTable('accuracy');

/**
 * Accuracy with a seeded percentile bootstrap interval.
 *
 * @param labels true class indices.
 * @param predictions predicted class indices, or probability rows (argmax; ties to the lowest class).
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { accuracy } from 'provenant/eval';
 * const r = accuracy([0, 1, 1, 0], [0, 1, 0, 0]); // r.value === 0.75
 * ```
 */
export function accuracy(labels: readonly number[], predictions: Predictions, options: BootstrapOptions = {}): MetricResult {
  const settings = checkedBootstrapOptions(ACCURACY_PARAMS, options);
  const resolved = resolvePredictions(labels, predictions);
  const est = bootstrapEstimate(labels.length, accuracyStatistic(resolved.labels, resolved.predicted), settings);
  return { metric: 'accuracy', higherIsBetter: true, n: labels.length, ...est };
}
