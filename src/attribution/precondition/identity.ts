/**
 * Grad-Dot: τ(i, t) = g_tᵀ g_i, the identity preconditioner (the H = I special case of Koh & Liang 2017, eq. 2; used as a
 * baseline by Charpiat et al. 2019 and dattri). Cheap and scale-dependent: rows with large gradients dominate.
 */
import { identityTransform, type Preconditioner } from './preconditioner.js';

/**
 * @example
 * ```ts
 * import { denseScores, gradDot, type FeatureMatrix } from 'provenant/attribution';
 * declare const train: FeatureMatrix;
 * declare const test: FeatureMatrix;
 * const scores = denseScores(train, test, gradDot()); // scores.values[t * train.rows + i] = ⟨g_i, g_t⟩
 * ```
 */
export function gradDot(): Preconditioner {
  return { method: 'grad-dot', params: {}, query: identityTransform, train: identityTransform };
}
