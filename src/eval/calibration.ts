/**
 * Expected calibration error with reliability-diagram bins (Guo et al. 2017, "On Calibration of Modern Neural
 * Networks", eq. 3): confidences are the top-label probabilities max_k p_i[k], grouped into M equal-width bins
 * I_m = ((m−1)/M, m/M]; ECE = Σ_m (|B_m| / n) · |acc(B_m) − conf(B_m)|. Always in [0, 1].
 *
 * Default M = 15, the value Guo et al. use. With weights w the bin sums become weighted sums, so the bootstrap
 * reuses one bin assignment.
 */
import { ProvenantError } from '../core/index.js';
import { bootstrapOptionsTable, checkedBootstrapOptions, bootstrapEstimate } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { MetricResult } from './metric-result.js';
import { argmax, checkLabels, checkProbabilityRows, checkSameLength } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** Default number of equal-width confidence bins. */
export const DEFAULT_ECE_BINS = 15;

/** One bar of a reliability diagram. Empty bins carry `null` means (JSON has no NaN). */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanConfidence: number | null;
  accuracy: number | null;
  /** |accuracy − meanConfidence|, null when empty. */
  gap: number | null;
}

/** ECE with its interval and the reliability diagram of the full sample. */
export interface CalibrationResult extends MetricResult {
  metric: 'ece';
  /** Largest bin gap (maximum calibration error, Guo et al. eq. 5) over non-empty bins. */
  maxCalibrationError: number;
  bins: ReliabilityBin[];
}

/** Options of {@link expectedCalibrationError}. */
export interface CalibrationOptions extends BootstrapOptions {
  /** Number of equal-width bins M. Default 15 (Guo et al. 2017). */
  bins?: number;
}

/** Top-label confidence, correctness and bin index of each example. */
export function calibrationInputs(
  labels: ArrayLike<number>,
  probabilities: ProbabilityRows,
  bins: number,
): { confidence: Float64Array; correct: Uint8Array; bin: Int32Array } {
  const n = labels.length;
  const confidence = new Float64Array(n);
  const correct = new Uint8Array(n);
  const bin = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = probabilities[i]!;
    const k = argmax(row);
    const c = Math.min(1, Math.max(0, row[k]!));
    confidence[i] = c;
    correct[i] = k === labels[i] ? 1 : 0;
    // Right-closed bins (m/M, (m+1)/M]; confidence 0 joins the first bin. c·M can round across an edge
    // (0.3 · 10 = 3.0000000000000004), so the guess is corrected against the edges m/M themselves.
    let m = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    while (m > 0 && c <= m / bins) m--;
    while (m < bins - 1 && c > (m + 1) / bins) m++;
    bin[i] = m;
  }
  return { confidence, correct, bin };
}

/** θ(w) = Σ_m |Σ_{i∈B_m} w_i (correct_i − conf_i)| / Σ_i w_i. */
export function eceStatistic(
  inputs: { confidence: Float64Array; correct: Uint8Array; bin: Int32Array },
  bins: number,
): (weights: Float64Array) => number {
  const diff = new Float64Array(bins);
  return (w) => {
    diff.fill(0);
    let total = 0;
    for (let i = 0; i < inputs.bin.length; i++) {
      diff[inputs.bin[i]!]! += w[i]! * (inputs.correct[i]! - inputs.confidence[i]!);
      total += w[i]!;
    }
    let s = 0;
    for (let m = 0; m < bins; m++) s += Math.abs(diff[m]!);
    return total > 0 ? s / total : NaN;
  };
}

/** The options of {@link expectedCalibrationError}: the bootstrap's and `bins`. */
const CALIBRATION_PARAMS = bootstrapOptionsTable('expectedCalibrationError', [
  { name: 'bins', default: DEFAULT_ECE_BINS, meaning: 'Number of equal-width confidence bins M (Guo et al. 2017).', aliases: ['n_bins', 'numBins'] },
]);

/**
 * Expected calibration error with a seeded percentile bootstrap interval and the reliability-diagram bins.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { expectedCalibrationError } from 'provenant/eval';
 * const r = expectedCalibrationError([1, 0], [[0.1, 0.9], [0.3, 0.7]], { bins: 10 });
 * // confidences 0.9 (right) and 0.7 (wrong) fall in (0.8, 0.9] and (0.6, 0.7]; ECE = (|1 − 0.9| + |0 − 0.7|) / 2 = 0.4
 * ```
 */
export function expectedCalibrationError(
  labels: readonly number[],
  probabilities: ProbabilityRows,
  options: CalibrationOptions = {},
): CalibrationResult {
  const settings = checkedBootstrapOptions(CALIBRATION_PARAMS, options);
  const M = options.bins ?? DEFAULT_ECE_BINS;
  if (!(Number.isInteger(M) && M >= 1)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'bins must be an integer ≥ 1.', { data: { bins: M } });
  }
  checkSameLength(labels, probabilities, 'labels', 'probabilities');
  const K = checkProbabilityRows(probabilities, 'probabilities');
  checkLabels(labels, 'labels', K);
  const inputs = calibrationInputs(labels, probabilities, M);
  const est = bootstrapEstimate(labels.length, eceStatistic(inputs, M), settings);
  const bins: ReliabilityBin[] = [];
  let mce = 0;
  for (let m = 0; m < M; m++) {
    let count = 0;
    let conf = 0;
    let acc = 0;
    for (let i = 0; i < inputs.bin.length; i++) {
      if (inputs.bin[i] !== m) continue;
      count++;
      conf += inputs.confidence[i]!;
      acc += inputs.correct[i]!;
    }
    const meanConfidence = count ? conf / count : null;
    const accuracy = count ? acc / count : null;
    const gap = count ? Math.abs(acc / count - conf / count) : null;
    if (gap !== null && gap > mce) mce = gap;
    bins.push({ lower: m / M, upper: (m + 1) / M, count, meanConfidence, accuracy, gap });
  }
  return { metric: 'ece', higherIsBetter: false, n: labels.length, ...est, maxCalibrationError: mce, bins };
}
