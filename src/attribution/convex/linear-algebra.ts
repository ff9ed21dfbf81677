/**
 * Small dense float64 solvers for the reference: Cholesky (explicit inverse-Hessian route, P up to a few thousand) and
 * Jacobi-preconditioned conjugate gradients (matrix-free route, any P).
 */
import { ProvenantError } from '../../core/index.js';

/**
 * In-place lower Cholesky factor of a symmetric positive-definite P × P row-major matrix (the upper triangle is
 * zeroed). Throws `ATTRIBUTION_NOT_CONVERGED` if a pivot is not positive (the matrix is not SPD to float64 precision).
 */
export function choleskyInPlace(a: Float64Array, P: number): Float64Array {
  for (let j = 0; j < P; j++) {
    const rj = j * P;
    let diag = a[rj + j]!;
    for (let k = 0; k < j; k++) diag -= a[rj + k]! * a[rj + k]!;
    if (!(diag > 0)) {
      throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `Cholesky: pivot ${j} is ${diag}; the Hessian is not positive definite.`, {
        details: 'Raise lambda, or check the features for non-finite values.',
        data: { pivot: j, value: diag },
      });
    }
    const l = Math.sqrt(diag);
    a[rj + j] = l;
    for (let i = j + 1; i < P; i++) {
      const ri = i * P;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s / l;
    }
    for (let k = j + 1; k < P; k++) a[rj + k] = 0;
  }
  return a;
}

/** Solves L y = b (forward substitution) in place in b. */
export function forwardSubstitute(L: Float64Array, P: number, b: Float64Array): Float64Array {
  for (let i = 0; i < P; i++) {
    const ri = i * P;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * b[k]!;
    b[i] = s / L[ri + i]!;
  }
  return b;
}

/** Solves Lᵀ x = y (back substitution) in place in y. */
export function backSubstitute(L: Float64Array, P: number, y: Float64Array): Float64Array {
  for (let i = P - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < P; k++) s -= L[k * P + i]! * y[k]!;
    y[i] = s / L[i * P + i]!;
  }
  return y;
}

/** x = (L Lᵀ)⁻¹ b, as a new array. */
export function choleskySolve(L: Float64Array, P: number, b: Float64Array): Float64Array {
  return backSubstitute(L, P, forwardSubstitute(L, P, b.slice()));
}

export interface ConjugateGradientOptions {
  /** Stop when ‖r‖ ≤ tolerance·‖b‖. Default 1e-10. */
  tolerance?: number;
  /** Default 10·P (exact arithmetic needs ≤ P). */
  maxIterations?: number;
  /** Diagonal of A, for Jacobi preconditioning. */
  diagonal?: Float64Array;
  /** Initial guess (warm start). */
  x0?: Float64Array;
  /** Throw `ATTRIBUTION_NOT_CONVERGED` when the tolerance is not met. Default true. */
  throwIfNotConverged?: boolean;
}

export interface ConjugateGradientResult {
  x: Float64Array;
  iterations: number;
  relativeResidual: number;
  converged: boolean;
}

/**
 * Preconditioned conjugate gradients for A x = b with A symmetric positive definite (Hestenes & Stiefel 1952;
 * Nocedal & Wright, Alg. 5.3).
 */
export function conjugateGradient(
  apply: (v: Float64Array, out?: Float64Array) => Float64Array,
  b: Float64Array,
  options: ConjugateGradientOptions = {},
): ConjugateGradientResult {
  const P = b.length;
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 10 * P;
  const inv = options.diagonal ? options.diagonal.map((v) => 1 / v) : null;
  const x = options.x0 ? options.x0.slice() : new Float64Array(P);
  let bNorm = 0;
  for (let k = 0; k < P; k++) bNorm += b[k]! * b[k]!;
  bNorm = Math.sqrt(bNorm);
  if (bNorm === 0) return { x: new Float64Array(P), iterations: 0, relativeResidual: 0, converged: true };
  const r = b.slice();
  const Ap = new Float64Array(P);
  if (options.x0) {
    apply(x, Ap);
    for (let k = 0; k < P; k++) r[k]! -= Ap[k]!;
  }
  const z = inv ? r.map((v, k) => v * inv[k]!) : r.slice();
  const p = z.slice();
  let rz = 0;
  for (let k = 0; k < P; k++) rz += r[k]! * z[k]!;
  let rNorm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
  let iterations = 0;
  while (rNorm > tolerance * bNorm && iterations < maxIterations) {
    apply(p, Ap);
    let pAp = 0;
    for (let k = 0; k < P; k++) pAp += p[k]! * Ap[k]!;
    if (!(pAp > 0)) {
      throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `Conjugate gradients met a non-positive curvature pᵀAp = ${pAp}; the operator is not positive definite.`);
    }
    const alpha = rz / pAp;
    let rr = 0;
    for (let k = 0; k < P; k++) {
      x[k]! += alpha * p[k]!;
      r[k]! -= alpha * Ap[k]!;
      rr += r[k]! * r[k]!;
    }
    rNorm = Math.sqrt(rr);
    let rzNew = 0;
    for (let k = 0; k < P; k++) {
      z[k] = inv ? r[k]! * inv[k]! : r[k]!;
      rzNew += r[k]! * z[k]!;
    }
    const beta = rzNew / rz;
    rz = rzNew;
    for (let k = 0; k < P; k++) p[k] = z[k]! + beta * p[k]!;
    iterations++;
  }
  const relativeResidual = rNorm / bNorm;
  const converged = relativeResidual <= tolerance;
  if (!converged && (options.throwIfNotConverged ?? true)) {
    throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `Conjugate gradients stopped at relative residual ${relativeResidual.toExponential(2)} after ${iterations} iterations (tolerance ${tolerance}).`, {
      details: 'Raise maxIterations or lambda, or use the explicit solver for small models.',
      data: { iterations, relativeResidual, tolerance },
    });
  }
  return { x, iterations, relativeResidual, converged };
}
