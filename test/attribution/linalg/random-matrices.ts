/** Test inputs for the dense kernels, built by plain loops (independent of the kernels under test). */
import { createRng } from '../../../src/core/index.js';

/** rows × cols standard normal entries, row-major. */
export function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: rows * cols }, () => rng.nextNormal());
}

/**
 * X Xᵀ / k + shift·I for a random n × k matrix X (k = n + extraColumns): symmetric positive definite, its condition number
 * set by `shift`, by a triple loop.
 */
export function randomSpd(n: number, seed: number, shift: number, extraColumns: number): Float64Array {
  const k = n + extraColumns;
  const X = randomMatrix(n, k, seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += X[i * k + p]! * X[j * k + p]!;
    A[i * n + j] = A[j * n + i] = s / k + (i === j ? shift : 0);
  }
  return A;
}

/** Q diag(d) Qᵀ with Q from modified Gram–Schmidt on a random matrix and d log-spaced from 1 down to 1/cond. */
export function illConditioned(n: number, cond: number, seed: number): Float64Array {
  const Q = randomMatrix(n, n, seed); // columns orthonormalised in place (column j: Q[i * n + j])
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += Q[i * n + j]! * Q[i * n + p]!;
      for (let i = 0; i < n; i++) Q[i * n + j]! -= dot * Q[i * n + p]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += Q[i * n + j]! ** 2;
    for (let i = 0; i < n; i++) Q[i * n + j]! /= Math.sqrt(norm);
  }
  const d = Float64Array.from({ length: n }, (_, j) => cond ** (-j / Math.max(1, n - 1)));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Q[i * n + j]! * d[j]! * Q[k * n + j]!;
    A[i * n + k] = A[k * n + i] = s;
  }
  return A;
}

/** ‖L Lᵀ − A‖_F / ‖A‖_F, and whether L is lower-triangular with a positive diagonal. */
export function choleskyResidual(L: Float64Array, A: Float64Array, n: number): { rel: number; lowerOk: boolean } {
  let num = 0, den = 0, lowerOk = true;
  for (let i = 0; i < n; i++) {
    if (!(L[i * n + i]! > 0)) lowerOk = false;
    for (let j = i + 1; j < n; j++) if (L[i * n + j] !== 0) lowerOk = false;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k <= Math.min(i, j); k++) s += L[i * n + k]! * L[j * n + k]!;
      num += (s - A[i * n + j]!) ** 2;
      den += A[i * n + j]! ** 2;
    }
  }
  return { rel: Math.sqrt(num / Math.max(den, Number.MIN_VALUE)), lowerOk };
}

/** Largest |a − b| over the largest |b| (b is the reference; one number for a whole matrix). */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let q = 0; q < b.length; q++) {
    diff = Math.max(diff, Math.abs(a[q]! - b[q]!));
    scale = Math.max(scale, Math.abs(b[q]!));
  }
  return diff / Math.max(scale, Number.MIN_VALUE);
}
