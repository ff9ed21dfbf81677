/**
 * Influence functions by conjugate gradient (Koh & Liang 2017, §3 "Conjugate gradients"; Martens 2010): solve
 * H x = g_t for each query without forming H⁻¹, using only Hessian(-approximation)-vector products. Converges in at most
 * d steps in exact arithmetic for a symmetric positive definite H; convergence is checked, never assumed.
 */
import { ProvenantError } from '../../core/index.js';
import { conjugateGradient, CONJUGATE_GRADIENT_DEFAULTS, type ConjugateGradientOptions } from '../linalg/index.js';
import type { CurvatureOperator } from './curvature-operator.js';
import { mapRows, identityTransform, type Preconditioner } from './preconditioner.js';

/**
 * The CG preconditioner: query(g_t) = H⁻¹ g_t by {@link conjugateGradient}.
 *
 * @example
 * ```ts
 * import { curvatureOperator, fitConjugateGradient, gaussNewtonFeatures, type FeaturizeData } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const data: FeaturizeData;
 * const op = curvatureOperator(gaussNewtonFeatures(model, data), { l2: 1e-3 });
 * const pre = fitConjugateGradient(op, { tolerance: 1e-8 });
 * ```
 */
export function fitConjugateGradient(op: CurvatureOperator, options: Pick<ConjugateGradientOptions, 'tolerance' | 'maxIterations'> = {}): Preconditioner {
  const params: Record<string, unknown> = {
    tolerance: options.tolerance ?? CONJUGATE_GRADIENT_DEFAULTS.tolerance,
    maxIterations: options.maxIterations ?? CONJUGATE_GRADIENT_DEFAULTS.maxIterations(op.dim),
  };
  return {
    method: 'conjugate-gradient',
    params,
    query(q) {
      if (q.dim !== op.dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, the operator ${op.dim}.`);
      const { x, iterations, relativeResidual } = conjugateGradient(op, q.data, q.rows, { tolerance: options.tolerance, maxIterations: options.maxIterations });
      params.lastIterations = iterations;
      params.lastRelativeResidual = relativeResidual;
      return mapRows(q, (_row, out, i) => out.set(x.subarray(i * q.dim, (i + 1) * q.dim)));
    },
    train: identityTransform,
    dispose: () => op.dispose?.(), // the operator keeps S, Sᵀ on the backend after its first product
  };
}
