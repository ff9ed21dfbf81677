/**
 * What the reference model says about any rows (training or test): probabilities, per-example losses, correct-class
 * margins — the "higher is better" outputs the quality harness retrains against are `-losses` or `margins`.
 */
import { forwardRows } from './kernels.js';
import { assertTheta, resolveRows, type ConvexLogisticProblem } from './problem.js';

/** Softmax probabilities (|R| × C, row-major). */
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

/** Cross-entropy ℓ_i(θ) per row (no regulariser), computed stably by log-sum-exp. */
export function convexExampleLosses(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(problem.numClasses);
  const out = new Float64Array(R.length);
  for (let r = 0; r < R.length; r++) out[r] = forwardRows(problem, theta, R.subarray(r, r + 1), probs);
  return out;
}

/** Correct-class margin z_y − max_{c≠y} z_c per row (positive iff the prediction is right). */
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

/** Fraction of rows predicted correctly. */
export function convexAccuracy(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): number {
  const margins = convexExampleMargins(problem, theta, rows);
  let right = 0;
  for (const m of margins) if (m > 0) right++;
  return right / margins.length;
}
