/**
 * Precision, recall and F1 per class, and their macro averages.
 *
 * Undefined ratios follow scikit-learn's `zero_division=0`: a class never predicted has precision 0, a class absent from
 * the labels has recall 0, and F1 = 2TP / (2TP + FP + FN) is 0 when its denominator is 0 — each with a flag, never NaN.
 * Macro averages are taken over the classes present in labels ∪ predictions of the full sample (scikit-learn's default
 * `labels=None`), and the same class set is kept in every bootstrap resample.
 */
import { bootstrapOptionsTable, checkedBootstrapOptions, intervalForColumn, runBootstrap } from './bootstrap.js';
import type { BootstrapOptions, BootstrapSummary, Estimate } from './bootstrap.js';
import { resolvePredictions } from './predictions.js';
import type { Predictions } from './predictions.js';

/** Scores of one class. */
export interface ClassScores {
  class: number;
  /** Examples whose label is this class. */
  support: number;
  /** Examples predicted as this class. */
  predicted: number;
  precision: Estimate;
  recall: Estimate;
  f1: Estimate;
  /** True when the class is never predicted, so precision is defined as 0 (scikit-learn's zero_division=0). */
  precisionUndefined: boolean;
  /** True when the class never occurs in the labels, so recall is defined as 0. */
  recallUndefined: boolean;
  /** True when the class occurs in neither labels nor predictions, so F1 is defined as 0. */
  f1Undefined: boolean;
}

/** The per-class and macro report. */
export interface ClassificationReport {
  metric: 'precision-recall-f1';
  n: number;
  numClasses: number;
  perClass: ClassScores[];
  macro: { precision: Estimate; recall: Estimate; f1: Estimate; classes: number[] };
  bootstrap: BootstrapSummary;
}

/** Options of {@link precisionRecallF1}. */
export interface PrecisionRecallF1Options extends BootstrapOptions {
  /** Number of classes K. Default: the probability-row width, or max(label, prediction) + 1. */
  numClasses?: number;
}

/**
 * Vector statistic over the weighted confusion counts: [P_0..P_{K−1}, R_0..R_{K−1}, F_0..F_{K−1}, macroP, macroR, macroF].
 */
export function precisionRecallF1Statistic(
  labels: Int32Array,
  predicted: Int32Array,
  numClasses: number,
  macroClasses: readonly number[],
): (weights: Float64Array, out: Float64Array) => void {
  const K = numClasses;
  const tp = new Float64Array(K);
  const fp = new Float64Array(K);
  const fn = new Float64Array(K);
  return (w, out) => {
    tp.fill(0);
    fp.fill(0);
    fn.fill(0);
    for (let i = 0; i < labels.length; i++) {
      const wi = w[i]!;
      if (wi === 0) continue;
      const y = labels[i]!;
      const p = predicted[i]!;
      if (y === p) tp[y]! += wi;
      else {
        fp[p]! += wi;
        fn[y]! += wi;
      }
    }
    for (let k = 0; k < K; k++) {
      const pDen = tp[k]! + fp[k]!;
      const rDen = tp[k]! + fn[k]!;
      const fDen = 2 * tp[k]! + fp[k]! + fn[k]!;
      out[k] = pDen > 0 ? tp[k]! / pDen : 0;
      out[K + k] = rDen > 0 ? tp[k]! / rDen : 0;
      out[2 * K + k] = fDen > 0 ? (2 * tp[k]!) / fDen : 0;
    }
    let mp = 0;
    let mr = 0;
    let mf = 0;
    for (const k of macroClasses) {
      mp += out[k]!;
      mr += out[K + k]!;
      mf += out[2 * K + k]!;
    }
    const m = macroClasses.length;
    out[3 * K] = mp / m;
    out[3 * K + 1] = mr / m;
    out[3 * K + 2] = mf / m;
  };
}

/** Classes that occur in labels or predictions, ascending. */
export function presentClasses(labels: Int32Array, predicted: Int32Array, numClasses: number): number[] {
  const seen = new Uint8Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    seen[labels[i]!] = 1;
    seen[predicted[i]!] = 1;
  }
  const out: number[] = [];
  for (let k = 0; k < numClasses; k++) if (seen[k]) out.push(k);
  return out;
}

/** The options of {@link precisionRecallF1}: the bootstrap's and `numClasses` (default derived from the data). */
const PRECISION_RECALL_F1_PARAMS = bootstrapOptionsTable('precisionRecallF1', [
  { name: 'numClasses', default: null, defaultText: 'the probability-row width, or max(label, prediction) + 1', meaning: 'Number of classes K.', aliases: ['num_labels', 'numLabels'] },
]);

/**
 * Precision, recall and F1 for every class and their macro averages, each with a seeded percentile bootstrap interval
 * (all from the same resamples).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { precisionRecallF1 } from 'provenant/eval';
 * const r = precisionRecallF1([0, 0, 1, 1], [0, 1, 1, 1]);
 * // r.perClass[1].precision.value === 2 / 3, r.perClass[1].recall.value === 1, r.macro.f1.value === (2/3 + 0.8) / 2
 * ```
 */
export function precisionRecallF1(
  labels: readonly number[],
  predictions: Predictions,
  options: PrecisionRecallF1Options = {},
): ClassificationReport {
  const settings = checkedBootstrapOptions(PRECISION_RECALL_F1_PARAMS, options);
  const r = resolvePredictions(labels, predictions, options.numClasses);
  const K = r.numClasses;
  const macroClasses = presentClasses(r.labels, r.predicted, K);
  const dims = 3 * K + 3;
  const { point, replicates } = runBootstrap(labels.length, dims, precisionRecallF1Statistic(r.labels, r.predicted, K, macroClasses), settings);
  const support = new Array<number>(K).fill(0);
  const predictedCount = new Array<number>(K).fill(0);
  for (let i = 0; i < r.labels.length; i++) {
    support[r.labels[i]!]! += 1;
    predictedCount[r.predicted[i]!]! += 1;
  }
  let skipped = 0;
  const est = (d: number, what: string): Estimate => {
    const { ci, skipped: s } = intervalForColumn(replicates, dims, d, settings.alpha, what);
    skipped = Math.max(skipped, s);
    return { value: point[d]!, ci };
  };
  const perClass: ClassScores[] = [];
  for (let k = 0; k < K; k++) {
    perClass.push({
      class: k,
      support: support[k]!,
      predicted: predictedCount[k]!,
      precision: est(k, `precision of class ${k}`),
      recall: est(K + k, `recall of class ${k}`),
      f1: est(2 * K + k, `F1 of class ${k}`),
      precisionUndefined: predictedCount[k] === 0,
      recallUndefined: support[k] === 0,
      f1Undefined: predictedCount[k] === 0 && support[k] === 0,
    });
  }
  const macro = {
    precision: est(3 * K, 'macro precision'),
    recall: est(3 * K + 1, 'macro recall'),
    f1: est(3 * K + 2, 'macro F1'),
    classes: macroClasses,
  };
  return {
    metric: 'precision-recall-f1',
    n: labels.length,
    numClasses: K,
    perClass,
    macro,
    bootstrap: { method: 'percentile', ...settings, skipped },
  };
}
