/**
 * Area under the ROC curve for a binary (or one-vs-rest) problem, as the Mann–Whitney statistic
 * AUC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) (Hanley & McNeil 1982, eq. 1). Tied scores count one half, which is the same as
 * ranking with average ranks (the Wilcoxon form) and as scikit-learn's trapezoidal `roc_auc_score`.
 *
 * With weights w (bootstrap multiplicities) the statistic is Σ_{i∈pos, j∈neg} w_i w_j ([s_i > s_j] + ½[s_i = s_j]) /
 * (W⁺ W⁻); after one sort it is a single O(n) pass over tie groups in ascending score order.
 */
import { ProvenantError } from '../core/index.js';
import { bootstrapOptionsTable, checkedBootstrapOptions, bootstrapEstimate } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { MetricResult } from './metric-result.js';
import { isProbabilityRows } from './predictions.js';
import { checkFiniteValues, checkLabels, checkProbabilityRows, checkSameLength } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** Options of {@link auroc}. */
export interface AurocOptions extends BootstrapOptions {
  /** The class counted as positive; every other label is negative (one-vs-rest). Default 1. */
  positiveClass?: number;
}

/** Weighted AUROC statistic; NaN when a resample holds no positive or no negative example. */
export function aurocStatistic(isPositive: Uint8Array, scores: Float64Array): (weights: Float64Array) => number {
  const n = scores.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Start of each tie group in `order`, plus a sentinel n.
  const starts: number[] = [0];
  for (let r = 1; r < n; r++) if (scores[order[r]!] !== scores[order[r - 1]!]) starts.push(r);
  starts.push(n);
  return (w) => {
    let negBelow = 0;
    let sum = 0;
    let wPos = 0;
    for (let g = 0; g + 1 < starts.length; g++) {
      let p = 0;
      let q = 0;
      for (let r = starts[g]!; r < starts[g + 1]!; r++) {
        const i = order[r]!;
        if (isPositive[i]) p += w[i]!;
        else q += w[i]!;
      }
      sum += p * (negBelow + q / 2);
      negBelow += q;
      wPos += p;
    }
    return wPos > 0 && negBelow > 0 ? sum / (wPos * negBelow) : NaN;
  };
}

/** The options of {@link auroc}: the bootstrap's and `positiveClass`. */
const AUROC_PARAMS = bootstrapOptionsTable('auroc', [
  { name: 'positiveClass', default: 1, meaning: 'The class counted as positive (one-vs-rest).', aliases: ['pos_label', 'positiveLabel'] },
]);

/**
 * AUROC with a seeded percentile bootstrap interval. Resamples that contain only one class are left out of the
 * interval and counted in `bootstrap.skipped`.
 *
 * @param labels class indices; `positiveClass` (default 1) is positive, the rest negative.
 * @param scores a real score per example (higher = more positive), or probability rows (column `positiveClass`).
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { auroc } from 'provenant/eval';
 * auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).value; // 0.75
 * ```
 */
export function auroc(
  labels: readonly number[],
  scores: readonly number[] | ProbabilityRows,
  options: AurocOptions = {},
): MetricResult {
  const settings = checkedBootstrapOptions(AUROC_PARAMS, options);
  const positiveClass = options.positiveClass ?? 1;
  checkSameLength(labels, scores, 'labels', 'scores');
  let s: Float64Array;
  if (isProbabilityRows(scores)) {
    const K = checkProbabilityRows(scores, 'scores');
    checkLabels(labels, 'labels', K);
    if (!(Number.isInteger(positiveClass) && positiveClass >= 0 && positiveClass < K)) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `positiveClass must be a class index in [0, ${K}).`, {
        data: { positiveClass },
      });
    }
    s = Float64Array.from(scores, (row) => row[positiveClass]!);
  } else {
    checkFiniteValues(scores as readonly number[], 'scores');
    checkLabels(labels, 'labels');
    s = Float64Array.from(scores as readonly number[]);
  }
  const isPositive = Uint8Array.from(labels, (y) => (y === positiveClass ? 1 : 0));
  const positives = isPositive.reduce((a, b) => a + b, 0);
  if (positives === 0 || positives === labels.length) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'AUROC needs at least one positive and one negative example.', {
      metaMessages: [`positives (class ${positiveClass}): ${positives} of ${labels.length}`],
      data: { positives, n: labels.length, positiveClass },
    });
  }
  const est = bootstrapEstimate(labels.length, aurocStatistic(isPositive, s), settings);
  return { metric: 'auroc', higherIsBetter: true, n: labels.length, ...est };
}
