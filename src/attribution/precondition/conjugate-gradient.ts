/**
 * Influence functions by conjugate gradient (Koh & Liang 2017, §3 "Conjugate gradients"; Martens 2010): solve
 * H x = g_t for each query without forming H⁻¹, using only Hessian(-approximation)-vector products. Converges in at most
 * d steps in exact arithmetic for a symmetric positive definite H; convergence is checked, never assumed.
 */
import { ProvenantError } from '../../core/index.js';
import type { CurvatureOperator } from './curvature-operator.js';
import { mapRows, identityTransform, type Preconditioner } from './preconditioner.js';

export interface CgSolveOptions {
  /** Stop when ‖r‖ ≤ tolerance·‖b‖; default 1e-6. */
  tolerance?: number;
  /** Default 10·d (capped at 10,000). */
  maxIterations?: number;
}

export interface CgSolveResult {
  /** rows × dim solutions. */
  x: Float64Array;
  iterations: number;
  /** Largest relative residual ‖H x − b‖ / ‖b‖ over the rows. */
  relativeResidual: number;
}

/**
 * Solves H X = B for every row of B at once (independent CG recurrences sharing each operator call).
 * Throws `ATTRIBUTION_NOT_CONVERGED` when a row misses the tolerance, or `ATTRIBUTION_INPUT_INVALID` on negative curvature.
 */
export function conjugateGradient(op: CurvatureOperator, B: ArrayLike<number>, rows: number, options: CgSolveOptions = {}): CgSolveResult {
  const d = op.dim;
  const tol = options.tolerance ?? 1e-6;
  const maxIt = options.maxIterations ?? Math.min(10 * d, 10_000);
  const x = new Float64Array(rows * d);
  const r = Float64Array.from(B as ArrayLike<number>);
  const p = Float64Array.from(r);
  const rs = new Float64Array(rows);
  const bNorm = new Float64Array(rows);
  const done = new Uint8Array(rows);
  for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += r[j * d + k]! ** 2;
    rs[j] = s;
    bNorm[j] = Math.sqrt(s);
    if (s === 0) done[j] = 1;
  }
  let it = 0;
  for (; it < maxIt && done.some((v) => v === 0); it++) {
    const Ap = op.apply(p, rows);
    for (let j = 0; j < rows; j++) {
      if (done[j]) continue;
      let pAp = 0;
      for (let k = 0; k < d; k++) pAp += p[j * d + k]! * Ap[j * d + k]!;
      if (!(pAp > 0)) {
        throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'Conjugate gradient met non-positive curvature: the operator is not positive definite.', {
          details: 'Add damping (λI) or an L2 term covering every parameter.',
          data: { iteration: it, pAp },
        });
      }
      const alpha = rs[j]! / pAp;
      let rsNew = 0;
      for (let k = 0; k < d; k++) {
        x[j * d + k]! += alpha * p[j * d + k]!;
        r[j * d + k]! -= alpha * Ap[j * d + k]!;
        rsNew += r[j * d + k]! ** 2;
      }
      if (Math.sqrt(rsNew) <= tol * bNorm[j]!) done[j] = 1;
      const beta = rsNew / rs[j]!;
      for (let k = 0; k < d; k++) p[j * d + k] = r[j * d + k]! + beta * p[j * d + k]!;
      rs[j] = rsNew;
    }
  }
  // The recurrence residual drifts from the true one; report the true residual.
  const Hx = op.apply(x, rows);
  let worst = 0;
  for (let j = 0; j < rows; j++) {
    if (bNorm[j] === 0) continue;
    let s = 0;
    for (let k = 0; k < d; k++) s += (Hx[j * d + k]! - (B[j * d + k] as number)) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / bNorm[j]!);
  }
  // The recurrence can report convergence below what the operator's own rounding allows (float32 products): accept a
  // true residual up to the operator's precision, never more.
  if (done.some((v) => v === 0) || !(worst <= Math.max(10 * tol, op.precision ?? 1e-10))) {
    throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `Conjugate gradient did not reach relative residual ${tol} in ${it} iterations (residual ${worst.toExponential(2)}).`, {
      details: 'Raise maxIterations, add damping to improve the conditioning, or use an explicit inverse for small models.',
      data: { iterations: it, relativeResidual: worst },
    });
  }
  return { x, iterations: it, relativeResidual: worst };
}

/**
 * The CG preconditioner: query(g_t) = H⁻¹ g_t by {@link conjugateGradient}.
 *
 * @example
 * const op = curvatureOperator(gaussNewtonFeatures(model, data), { l2: 1e-3 });
 * const pre = fitConjugateGradient(op, { tolerance: 1e-8 });
 */
export function fitConjugateGradient(op: CurvatureOperator, options: CgSolveOptions = {}): Preconditioner {
  const params: Record<string, unknown> = { tolerance: options.tolerance ?? 1e-6, maxIterations: options.maxIterations ?? Math.min(10 * op.dim, 10_000) };
  return {
    method: 'conjugate-gradient',
    params,
    query(q) {
      if (q.dim !== op.dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, the operator ${op.dim}.`);
      const { x, iterations, relativeResidual } = conjugateGradient(op, q.data, q.rows, options);
      params.lastIterations = iterations;
      params.lastRelativeResidual = relativeResidual;
      return mapRows(q, (_row, out, i) => out.set(x.subarray(i * q.dim, (i + 1) * q.dim)));
    },
    train: identityTransform,
    dispose: () => op.dispose?.(), // the operator keeps S, Sᵀ on the backend after its first product
  };
}
