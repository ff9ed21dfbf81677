/**
 * Small float64 linear algebra for preconditioners: Gram matrices and Cholesky solves (ml-matrix), plus a float32 matmul
 * on the tfjs backend for products too large for JavaScript loops.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { ProvenantError } from '../../core/index.js';
import { tf } from '../../finetune/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';

/**
 * Σ_i w_i g_i g_iᵀ over the rows of `features` (columns [offset, offset + size) only), float64, d×d row-major.
 * Exact float64 loops when the work is small (≤ 2·10⁸ multiply-adds); otherwise tiles of 1,024 rows are multiplied on
 * the tfjs backend in float32 (fast 2-D matmuls) and accumulated in float64.
 */
export function gramMatrix(features: FeatureMatrix, weights?: ArrayLike<number>, offset = 0, size = features.dim): Float64Array {
  const { rows, dim, data } = features;
  const G = new Float64Array(size * size);
  if (weights && Array.prototype.some.call(weights, (w: number) => !(w >= 0))) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'Gram-matrix row weights must be finite and non-negative.');
  }
  if (rows * size * size <= 2e8) {
    const row = new Float64Array(size);
    for (let i = 0; i < rows; i++) {
      const w = weights ? weights[i]! : 1;
      if (w === 0) continue;
      for (let c = 0; c < size; c++) row[c] = data[i * dim + offset + c]!;
      for (let a = 0; a < size; a++) {
        const ra = row[a]! * w;
        if (ra === 0) continue;
        const base = a * size;
        for (let b = a; b < size; b++) G[base + b]! += ra * row[b]!;
      }
    }
    for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) G[a * size + b] = G[b * size + a]!;
    return G;
  }
  const tile = 1024;
  for (let start = 0; start < rows; start += tile) {
    const end = Math.min(rows, start + tile);
    const block = new Float32Array((end - start) * size);
    for (let i = start; i < end; i++) {
      const w = weights ? Math.sqrt(weights[i]!) : 1;
      for (let c = 0; c < size; c++) block[(i - start) * size + c] = data[i * dim + offset + c]! * w;
    }
    const part = tf.tidy(() => {
      const x = tf.tensor2d(block, [end - start, size]);
      return tf.matMul(tf.transpose(x) as tf.Tensor2D, x);
    });
    const values = part.dataSync();
    part.dispose();
    for (let k = 0; k < values.length; k++) G[k]! += values[k]!;
  }
  return G;
}

/** A Cholesky factorisation of a symmetric positive definite d×d matrix (after adding `damping`·I). */
export interface CholeskySolver {
  readonly dim: number;
  /** Solves A X = B for `rows` right-hand sides given as rows (rows × d, row-major); returns rows × d. */
  solveRows(B: ArrayLike<number>, rows: number): Float64Array;
}

/** Factorises A + damping·I with ml-matrix; throws `ATTRIBUTION_INPUT_INVALID` when it is not positive definite. */
export function choleskySolver(A: ArrayLike<number>, dim: number, damping = 0): CholeskySolver {
  if (A.length !== dim * dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Matrix has ${A.length} entries, expected ${dim}².`);
  const M = new Matrix(dim, dim);
  for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) M.set(a, b, A[a * dim + b]! + (a === b ? damping : 0));
  const chol = new CholeskyDecomposition(M);
  if (!chol.isPositiveDefinite()) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The (damped) curvature matrix is not positive definite.', {
      details: 'Increase the damping (λ), or regularise every parameter, bias included (softmax is shift-invariant).',
      data: { dim, damping },
    });
  }
  return {
    dim,
    solveRows(B, rows) {
      const rhs = new Matrix(dim, rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) rhs.set(c, r, B[r * dim + c]!);
      const X = chol.solve(rhs);
      const out = new Float64Array(rows * dim);
      for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) out[r * dim + c] = X.get(c, r);
      return out;
    },
  };
}

/** A [m, k] · B [k, n] (or Bᵀ when `transposeB`, B stored [n, k]) in float32 on the tfjs backend. */
export function matMulF32(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transposeB: boolean): Float32Array {
  const t = tf.tidy(() => {
    const A = tf.tensor2d(a, [m, k]);
    const B = transposeB ? (tf.transpose(tf.tensor2d(b, [n, k])) as tf.Tensor2D) : tf.tensor2d(b, [k, n]);
    return tf.matMul(A, B);
  });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

/** The columns [offset, offset + size) of every row, as a new float32 matrix. */
export function columnSlice(features: FeatureMatrix, offset: number, size: number): Float32Array {
  const out = new Float32Array(features.rows * size);
  for (let i = 0; i < features.rows; i++) out.set(features.data.subarray(i * features.dim + offset, i * features.dim + offset + size), i * size);
  return out;
}
