/**
 * Brittleness (Ilyas et al. 2022, "Datamodels", §4.2; Park et al. 2023, "TRAK", App. E): for a test point the model gets
 * right, the smallest number k of its top proponents (by the attribution scores) whose removal, followed by retraining,
 * flips the prediction. A better attribution method finds smaller sets; a random ranking needs far more rows.
 */
import { ProvenantError, createProgressReporter, resolve, type ParamTable, type ProgressCallback } from '../../core/index.js';
import { assertIndices, assertScoreMatrix, scoreColumn, type ScoreMatrix } from './score-matrix.js';
import { callRetrain, complementRows, type RetrainFunction } from './train-function.js';

/** The options of {@link brittleness}: a misspelt name is refused with the nearest field, never ignored. */
export const BRITTLENESS_PARAMS: ParamTable = Object.freeze({
  name: 'brittleness',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'threshold', default: 0, meaning: 'An output above it means the prediction is still the original one (0 for a margin).' }],
  inputs: ['train', 'tests', 'ks', 'onProgress'],
});

export interface BrittlenessOptions {
  /**
   * Retrains without the given rows; returns per test point an output that is > `threshold` while the prediction is
   * the original (correct) one — the correct-class margin (logit of the true class minus the largest other logit).
   */
  train: RetrainFunction;
  /** Test columns to examine. */
  tests: ArrayLike<number>;
  /** Removal sizes to try, ascending (e.g. [10, 20, 40, 80, 160]); the first that flips is reported. */
  ks: number[];
  /** Default 0 (a margin). */
  threshold?: number;
  onProgress?: ProgressCallback;
}

export interface BrittlenessResult {
  ks: number[];
  tests: Uint32Array;
  /** Smallest k in `ks` that flipped test point tests[c]; -1 when none did, or when the full model already got it wrong. */
  smallestK: Int32Array;
  /** Whether the full model's output was above the threshold (only those points are examined). */
  examined: Uint8Array;
  /** flippedFraction[m] = fraction of examined test points flipped by removing ≤ ks[m] rows. */
  flippedFraction: Float64Array;
  retrains: number;
}

/**
 * Indices of the k largest entries of `column` (a test point's scores), highest first — its strongest proponents —
 * ties by lower index, so the order is deterministic.
 *
 * @example
 * ```ts
 * import { topProponents } from 'provenant/attribution';
 *
 * topProponents([0.1, 0.7, -0.3, 0.7], 2); // Uint32Array [1, 3]
 * ```
 */
export function topProponents(column: ArrayLike<number>, k: number): Uint32Array {
  const order = Array.from({ length: column.length }, (_, i) => i).sort((a, b) => column[b]! - column[a]! || a - b);
  return Uint32Array.from(order.slice(0, k));
}

/**
 * Runs the brittleness test (Ilyas et al. 2022, "Datamodels", §4.2; Park et al. 2023, "TRAK", App. E): for each test
 * point the full model gets right (output > `threshold`), removes its top-k proponents for k in `ks` (ascending,
 * stopping at the first flip) and retrains; reports the smallest flipping k per point and the fraction flipped per k.
 * Cost: up to `tests.length × ks.length + 1` retrains.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for `ks` that are not strictly ascending integers in [1, nTrain),
 *   a test index out of range, or a malformed score matrix; errors of the retrain function's output
 *   (`ATTRIBUTION_SHAPE_MISMATCH`, `ATTRIBUTION_INPUT_INVALID`).
 * @example
 * ```ts
 * import { brittleness, type RetrainFunction, type ScoreMatrix } from 'provenant/attribution';
 *
 * declare const scores: ScoreMatrix;   // 5000 × 500
 * declare const train: RetrainFunction; // returns the correct-class margin per test point
 * const r = await brittleness(scores, { train, tests: [0, 1, 2], ks: [10, 20, 40, 80] });
 * r.smallestK;       // Int32Array [20, -1, 40]: -1 = never flipped (or already wrong)
 * r.flippedFraction; // Float64Array per k
 * ```
 */
export async function brittleness(scores: ScoreMatrix, options: BrittlenessOptions): Promise<BrittlenessResult> {
  resolve(BRITTLENESS_PARAMS, options);
  assertScoreMatrix(scores);
  const { train, ks } = options;
  const threshold = options.threshold ?? 0;
  const tests = Uint32Array.from(options.tests);
  assertIndices(tests, scores.nTest, 'tests');
  if (!Array.isArray(ks) || ks.length === 0 || ks.some((k, m) => !Number.isInteger(k) || k < 1 || k >= scores.nTrain || (m > 0 && k <= ks[m - 1]!))) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'brittleness needs ks: strictly ascending integers in [1, nTrain).', {
      metaMessages: [`ks: [${ks}]`, `nTrain: ${scores.nTrain}`],
    });
  }
  const progress = createProgressReporter('brittleness', tests.length, options.onProgress);
  const full = await callRetrain(train, complementRows(scores.nTrain, []), scores.nTest);
  let retrains = 1;
  const smallestK = new Int32Array(tests.length).fill(-1);
  const examined = new Uint8Array(tests.length);
  for (let c = 0; c < tests.length; c++) {
    const t = tests[c]!;
    if (full[t]! > threshold) {
      examined[c] = 1;
      const order = topProponents(scoreColumn(scores, t), ks[ks.length - 1]!);
      for (const k of ks) {
        const out = await callRetrain(train, complementRows(scores.nTrain, order.subarray(0, k)), scores.nTest);
        retrains++;
        if (out[t]! <= threshold) {
          smallestK[c] = k;
          break;
        }
      }
    }
    progress.tick(c + 1);
  }
  const nExamined = examined.reduce((a, b) => a + b, 0);
  const flippedFraction = new Float64Array(ks.length);
  for (let m = 0; m < ks.length; m++) {
    let flipped = 0;
    for (let c = 0; c < tests.length; c++) if (examined[c] && smallestK[c]! >= 1 && smallestK[c]! <= ks[m]!) flipped++;
    flippedFraction[m] = nExamined === 0 ? Number.NaN : flipped / nExamined;
  }
  return { ks: [...ks], tests, smallestK, examined, flippedFraction, retrains };
}
