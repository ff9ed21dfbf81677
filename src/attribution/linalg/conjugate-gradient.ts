/**
 * The one conjugate gradient of the code base (Hestenes & Stiefel 1952; with a Jacobi preconditioner, Nocedal & Wright
 * 2006, Alg. 5.3): solves A X = B for every row of B at once — independent recurrences sharing each operator call, so a
 * backend sees matrix–matrix products — using only products with the symmetric positive definite operator A. Used by
 * influence functions (Koh & Liang 2017, §3 "Conjugate gradients"), the CG preconditioner and Newton–CG.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';

/** A symmetric positive definite operator on float64 row vectors. */
export interface LinearOperator {
  readonly dim: number;
  /** A·v for each of the `rows` row vectors in V (rows × dim). */
  apply(V: Float64Array, rows: number): Float64Array;
  /** Relative accuracy of `apply` (e.g. 1e-4 for float32 products); residuals below it are not demanded. Default 1e-12. */
  readonly precision?: number;
}

/** Defaults of {@link ConjugateGradientOptions}, read (never restated) by callers. */
export const CONJUGATE_GRADIENT_DEFAULTS = {
  /** Stop a row when ‖r‖ ≤ tolerance·‖b‖ — 1e-6 keeps influence ranks stable; exact references pass 1e-10. */
  tolerance: 1e-6,
  /** Cap on iterations: exact arithmetic needs ≤ dim; rounding may need a few more. */
  maxIterations: (dim: number) => Math.min(10 * dim, 10_000),
} as const;

/** The options of {@link conjugateGradient}: a misspelt name is refused with the nearest field, never ignored. */
const CONJUGATE_GRADIENT_PARAMS: ParamTable = Object.freeze({
  name: 'conjugateGradient',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'tolerance', default: CONJUGATE_GRADIENT_DEFAULTS.tolerance, meaning: 'Relative residual ‖A x − b‖/‖b‖ per row.', aliases: ['tol'] },
    { name: 'maxIterations', default: null, meaning: 'Iterations at most (null: min(10·dim, 10,000)).', aliases: ['maxIter', 'max_iter'] },
    { name: 'diagonal', default: null, meaning: 'diag(A) for Jacobi preconditioning (null: none).' },
    { name: 'preconditioner', default: null, meaning: 'M⁻¹ applied to residual rows; takes precedence over diagonal.' },
    { name: 'x0', default: null, meaning: 'Initial guess (rows × dim; null: zeros).', aliases: ['init'] },
    { name: 'throwIfNotConverged', default: true, meaning: 'Throw ATTRIBUTION_NOT_CONVERGED when a row misses the tolerance.' },
  ],
});

export interface ConjugateGradientOptions {
  /** Relative residual ‖A x − b‖/‖b‖ per row; default {@link CONJUGATE_GRADIENT_DEFAULTS}.tolerance. */
  tolerance?: number;
  /** Default min(10·dim, 10,000). */
  maxIterations?: number;
  /** diag(A), for Jacobi preconditioning (all entries must be positive). */
  diagonal?: ArrayLike<number>;
  /**
   * M⁻¹ applied to each of `rows` residual rows (rows × dim), for an SPD M ≈ A — e.g. the Cholesky factor of a nearby
   * Hessian, which makes a retrain on a subset converge in a few iterations. Takes precedence over `diagonal`.
   */
  preconditioner?: (R: Float64Array, rows: number) => Float64Array;
  /** Initial guess (rows × dim; warm start). */
  x0?: ArrayLike<number>;
  /** Throw `ATTRIBUTION_NOT_CONVERGED` when a row misses the tolerance (default true); inexact Newton passes false. */
  throwIfNotConverged?: boolean;
}

export interface ConjugateGradientResult {
  /** rows × dim solutions. */
  x: Float64Array;
  /** Iterations of the longest-running row. */
  iterations: number;
  /** Largest true relative residual ‖A x − b‖/‖b‖ over the rows (recomputed, not the recurrence's). */
  relativeResidual: number;
  converged: boolean;
}

/**
 * Solves A X = B row by row. Throws `ATTRIBUTION_INPUT_INVALID` on non-positive curvature (A is not positive definite)
 * and, unless `throwIfNotConverged: false`, `ATTRIBUTION_NOT_CONVERGED` when a row misses the tolerance.
 *
 * @example
 * ```ts
 * import { conjugateGradient, type LinearOperator } from 'provenant/attribution';
 * // A = [[4, 1], [1, 3]], applied to each row of V.
 * const A: LinearOperator = { dim: 2, apply: (V, rows) => { const o = new Float64Array(2 * rows); for (let r = 0; r < rows; r++) { o[2*r] = 4*V[2*r] + V[2*r+1]; o[2*r+1] = V[2*r] + 3*V[2*r+1]; } return o; } };
 * conjugateGradient(A, [1, 2], 1, { tolerance: 1e-12 }).x; // ≈ [1/11, 7/11]
 * ```
 */
export function conjugateGradient(op: LinearOperator, B: ArrayLike<number>, rows: number, options: ConjugateGradientOptions = {}): ConjugateGradientResult {
  resolve(CONJUGATE_GRADIENT_PARAMS, options);
  const d = op.dim;
  if (B.length !== rows * d) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Right-hand sides have ${B.length} entries, expected ${rows} × ${d}.`, { data: { entries: B.length, rows, dim: d } });
  }
  const tol = options.tolerance ?? CONJUGATE_GRADIENT_DEFAULTS.tolerance;
  const maxIt = options.maxIterations ?? CONJUGATE_GRADIENT_DEFAULTS.maxIterations(d);
  const inv = options.diagonal ? Float64Array.from(options.diagonal, (v) => 1 / v) : null;
  if (inv && inv.some((v) => !(v > 0 && Number.isFinite(v)))) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The Jacobi preconditioner needs a positive, finite diagonal.');
  }
  const x = options.x0 ? Float64Array.from(options.x0) : new Float64Array(rows * d);
  const r = Float64Array.from(B);
  if (options.x0) {
    const Ax = op.apply(x, rows);
    for (let k = 0; k < r.length; k++) r[k]! -= Ax[k]!;
  }
  const precondition = (R: Float64Array, rows: number): Float64Array => {
    if (options.preconditioner) return options.preconditioner(R, rows);
    if (inv) return R.map((v, k) => v * inv[k % d]!);
    return R.slice();
  };
  const z = precondition(r, rows);
  const p = z.slice();
  const rz = new Float64Array(rows);
  const bNorm = new Float64Array(rows);
  const active: number[] = [];
  for (let j = 0; j < rows; j++) {
    let bb = 0, rr = 0, s = 0;
    for (let k = j * d; k < (j + 1) * d; k++) {
      bb += (B[k] as number) ** 2;
      rr += r[k]! ** 2;
      s += r[k]! * z[k]!;
    }
    rz[j] = s;
    bNorm[j] = Math.sqrt(bb);
    if (bb === 0) x.fill(0, j * d, (j + 1) * d);
    else if (Math.sqrt(rr) > tol * bNorm[j]!) active.push(j);
  }
  let it = 0;
  let live = active;
  const Pm = new Float64Array(rows * d);
  const Rm = new Float64Array(rows * d);
  const rrLive = new Float64Array(rows);
  for (; it < maxIt && live.length > 0; it++) {
    // Only the rows still iterating go through the operator (and the preconditioner).
    for (let q = 0; q < live.length; q++) Pm.set(p.subarray(live[q]! * d, (live[q]! + 1) * d), q * d);
    const Ap = op.apply(Pm.subarray(0, live.length * d), live.length);
    for (let q = 0; q < live.length; q++) {
      const j = live[q]!;
      const o = j * d;
      const ao = q * d;
      let pAp = 0;
      for (let k = 0; k < d; k++) pAp += p[o + k]! * Ap[ao + k]!;
      if (!(pAp > 0)) {
        throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Conjugate gradient met non-positive curvature pᵀAp = ${pAp}: the operator is not positive definite.`, {
          details: 'Add damping (λI) or an L2 term covering every parameter.',
          data: { iteration: it, row: j, pAp },
        });
      }
      const alpha = rz[j]! / pAp;
      let rr = 0;
      for (let k = 0; k < d; k++) {
        x[o + k]! += alpha * p[o + k]!;
        const rk = (r[o + k]! -= alpha * Ap[ao + k]!);
        rr += rk * rk;
        Rm[ao + k] = rk;
      }
      rrLive[q] = rr;
    }
    const Z = precondition(Rm.subarray(0, live.length * d), live.length);
    const next: number[] = [];
    for (let q = 0; q < live.length; q++) {
      const j = live[q]!;
      const o = j * d;
      const ao = q * d;
      let rzNew = 0;
      for (let k = 0; k < d; k++) {
        z[o + k] = Z[ao + k]!;
        rzNew += r[o + k]! * Z[ao + k]!;
      }
      const beta = rzNew / rz[j]!;
      rz[j] = rzNew;
      for (let k = 0; k < d; k++) p[o + k] = z[o + k]! + beta * p[o + k]!;
      if (Math.sqrt(rrLive[q]!) > tol * bNorm[j]!) next.push(j);
    }
    live = next;
  }
  // The recurrence residual drifts from the true one; report the true residual.
  const Ax = op.apply(x, rows);
  let worst = 0;
  for (let j = 0; j < rows; j++) {
    if (bNorm[j] === 0) continue;
    let s = 0;
    for (let k = j * d; k < (j + 1) * d; k++) s += (Ax[k]! - (B[k] as number)) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / bNorm[j]!);
  }
  // A recurrence can report convergence below what the operator's own rounding allows (float32 products): accept a true
  // residual up to the operator's precision, never more.
  const converged = live.length === 0 && worst <= Math.max(10 * tol, op.precision ?? 1e-12);
  if (!converged && (options.throwIfNotConverged ?? true)) {
    throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `Conjugate gradient did not reach relative residual ${tol} in ${it} iterations (residual ${worst.toExponential(2)}).`, {
      details: 'Raise maxIterations, add damping to improve the conditioning, or use the explicit (Cholesky) solver.',
      data: { iterations: it, relativeResidual: worst, tolerance: tol },
    });
  }
  return { x, iterations: it, relativeResidual: worst, converged };
}
