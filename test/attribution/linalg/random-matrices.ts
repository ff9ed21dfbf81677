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
