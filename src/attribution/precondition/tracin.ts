/**
 * TracInCP (Pruthi et al. 2020, eq. 3): τ(i, t) = Σ_c η_c ∇ℓ(w_c, z_i) · ∇ℓ(w_c, z_t) over saved checkpoints c with
 * learning rates η_c. Written as one feature vector per example — the checkpoints' features side by side, each scaled by
 * √η_c — so the ordinary dot-product scorer (and a cached index) computes it exactly.
 */
import { ProvenantError } from '../../core/index.js';
import { concatColumns, type FeatureMatrix } from '../feature-matrix.js';
import { gradDot } from './identity.js';
import type { Preconditioner } from './preconditioner.js';

/**
 * Concatenates per-checkpoint features scaled by √η_c. Apply it to the training features and to the query features
 * alike, then score with {@link tracInCP} (a dot product).
 *
 * @example
 * ```ts
 * import { denseScores, tracInCP, tracInFeatures, type FeatureMatrix } from 'provenant/attribution';
 * declare const train1: FeatureMatrix, train2: FeatureMatrix; // training rows' features at checkpoints 1 and 2
 * declare const query1: FeatureMatrix, query2: FeatureMatrix;
 * const train = tracInFeatures([train1, train2], [0.1, 0.01]);
 * const test = tracInFeatures([query1, query2], [0.1, 0.01]);
 * const scores = denseScores(train, test, tracInCP());
 * ```
 */
export function tracInFeatures(checkpoints: readonly FeatureMatrix[], learningRates: readonly number[]): FeatureMatrix {
  if (checkpoints.length === 0 || checkpoints.length !== learningRates.length) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `TracInCP needs one learning rate per checkpoint (${checkpoints.length} checkpoints, ${learningRates.length} rates).`);
  }
  const bad = learningRates.filter((r) => !(Number.isFinite(r) && r >= 0));
  if (bad.length) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Learning rates must be finite and non-negative, got ${bad.join(', ')}.`);
  return concatColumns(checkpoints, learningRates.map(Math.sqrt), checkpoints.map((_, c) => `ckpt${c}/`));
}

/**
 * The TracInCP preconditioner (Pruthi et al. 2020, "Estimating training data influence by tracing gradient descent",
 * Eq. 4 — the checkpoint approximation): τ(i, t) = Σ_c η_c ∇ℓ(z_t; θ_c)·∇ℓ(z_i; θ_c), a plain dot product over
 * features built by {@link tracInFeatures} (each checkpoint's gradients scaled by √η_c and laid side by side). Recorded
 * as method `tracin-cp`.
 *
 * @example
 * ```ts
 * import { denseScores, tracInCP, tracInFeatures, type FeatureMatrix } from 'provenant/attribution';
 *
 * declare const trainCk1: FeatureMatrix, trainCk2: FeatureMatrix, testCk1: FeatureMatrix, testCk2: FeatureMatrix;
 * const train = tracInFeatures([trainCk1, trainCk2], [0.1, 0.01]); // learning rates at the two checkpoints
 * const test = tracInFeatures([testCk1, testCk2], [0.1, 0.01]);
 * const scores = denseScores(train, test, tracInCP()); // { values, nTrain, nTest }
 * ```
 */
export function tracInCP(): Preconditioner {
  return { ...gradDot(), method: 'tracin-cp' };
}
