/**
 * What the reference model says about any rows (training or test): probabilities, per-example losses, correct-class
 * margins — the "higher is better" outputs the quality harness retrains against are `-losses` or `margins`.
 */
import { forwardRows } from './kernels.js';
import { assertTheta, resolveRows, type ConvexLogisticProblem } from './problem.js';

/**
 * Softmax probabilities of the reference model on rows R (default all): |R| × C, row-major, each row summing to 1.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexProbabilities, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexProbabilities(problem, theta, [0, 1]); // Float64Array(4) ≈ [0.933, 0.067, 0.046, 0.954]
 * ```
 */
export function convexProbabilities(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  return probabilitiesOnRows(problem, theta, resolveRows(problem, rows));
}

/** Softmax probabilities of rows already resolved by `resolveRows` (θ already checked). */
export function probabilitiesOnRows(problem: ConvexLogisticProblem, theta: Float64Array, R: Uint32Array): Float64Array {
  const probs = new Float64Array(R.length * problem.numClasses);
  forwardRows(problem, theta, R, probs);
  return probs;
}

/**
 * Cross-entropy ℓ_i(θ) = −log p_{y_i} per row (nats, no regulariser), computed stably by log-sum-exp; length |R|.
 * `-losses` is one of the "higher is better" outputs the quality harness retrains against.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexExampleLosses, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexExampleLosses(problem, theta); // Float64Array(4) ≈ [0.069, 0.047, 0.063, 0.092]
 * ```
 */
export function convexExampleLosses(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(problem.numClasses);
  const out = new Float64Array(R.length);
  for (let r = 0; r < R.length; r++) out[r] = forwardRows(problem, theta, R.subarray(r, r + 1), probs);
  return out;
}

/**
 * Correct-class margin z_y − max_{c≠y} z_c per row, in logits (positive iff the prediction is right); length |R| — the
 * multi-class margin the datamodels literature retrains against (Ilyas et al. 2022, Datamodels, §2).
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexExampleMargins, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexExampleMargins(problem, theta); // Float64Array(4) ≈ [2.64, 3.02, 2.73, 2.35]
 * ```
 */
export function convexExampleMargins(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const C = problem.numClasses;
  const probs = probabilitiesOnRows(problem, theta, R);
  const out = new Float64Array(R.length);
  for (let r = 0; r < R.length; r++) {
    const y = problem.labels[R[r]!]!;
    let other = -Infinity;
    for (let c = 0; c < C; c++) if (c !== y && probs[r * C + c]! > other) other = probs[r * C + c]!;
    // log p_y − log p_other = z_y − z_other (the normaliser cancels).
    out[r] = Math.log(probs[r * C + y]!) - Math.log(other);
  }
  return out;
}

/**
 * Fraction of rows R (default all) predicted correctly (margin > 0), in [0, 1].
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexAccuracy, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * convexAccuracy(problem, fitConvexLogistic(problem).theta); // 1
 * ```
 */
export function convexAccuracy(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): number {
  const margins = convexExampleMargins(problem, theta, rows);
  let right = 0;
  for (const m of margins) if (m > 0) right++;
  return right / margins.length;
}
