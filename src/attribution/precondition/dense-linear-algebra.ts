/**
 * Feature-matrix helpers for preconditioners: the float64 Gram matrix of (a column range of) a feature matrix on the
 * dense kernels (../linalg), plus a float32 matmul on the tfjs backend for matrix-free curvature products.
 */
import { ProvenantError } from '../../core/index.js';
import { tf } from '../../finetune/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { gram } from '../linalg/index.js';

/**
 * The weighted Gram matrix Σ_i w_i g_i g_iᵀ over the rows of `features` (columns [offset, offset + size) only; all by
 * default), float64, size × size row-major, on the blocked float64 kernel ({@link gram}). Weights (one per row, default
 * 1) must be finite and non-negative.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for a negative or non-finite weight, or an `offset` / `size` that is
 * not an integer or whose column range leaves [0, dim), naming the argument; `ATTRIBUTION_SHAPE_MISMATCH` (from
 * {@link gram}) when `weights` does not hold one value per row.
 * @example
 * ```ts
 * import { gramMatrix, singleBlock } from 'provenant/attribution';
 *
 * const features = { rows: 2, dim: 2, data: new Float32Array([1, 2, 3, 4]), blocks: singleBlock(2) };
 * gramMatrix(features); // Float64Array [10, 14, 14, 20] = GᵀG
 * ```
 */
export function gramMatrix(features: FeatureMatrix, weights?: ArrayLike<number>, offset = 0, size = features.dim): Float64Array {
  const { rows, dim, data } = features;
  checkColumnRange(features, offset, size);
  if (weights && Array.prototype.some.call(weights, (w: number) => !(w >= 0) || !Number.isFinite(w))) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'Gram-matrix row weights must be finite and non-negative.');
  }
  const X = new Float64Array(rows * size);
  for (let i = 0; i < rows; i++) for (let c = 0; c < size; c++) X[i * size + c] = data[i * dim + offset + c]!;
  return gram(X, rows, size, weights);
}

/**
 * A [m, k] · B [k, n] (or A·Bᵀ when `transposeB`, B stored [n, k]) in float32 on the tfjs backend, row-major in and
 * out; the tensors are disposed before returning. For matrix-free curvature products where float32 suffices.
 *
 * @example
 * ```ts
 * import { matMulF32 } from 'provenant/attribution';
 *
 * const c = matMulF32(new Float32Array([1, 2, 3, 4]), 2, 2, new Float32Array([1, 0, 0, 1]), 2, false); // Float32Array [1, 2, 3, 4]
 * ```
 */
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

/**
 * Refuses a column range outside the matrix: without it, a too-large `offset + size` reads the next row's values (or
 * `undefined` → NaN past the end) and returns a silently wrong Gram matrix.
 */
function checkColumnRange(features: FeatureMatrix, offset: number, size: number): void {
  const bad = (argument: 'offset' | 'size', value: number, why: string) =>
    new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Column range: ${argument} = ${value} ${why} (the feature matrix has ${features.dim} columns).`, {
      data: { argument, value, offset, size, dim: features.dim },
    });
  if (!Number.isInteger(offset) || offset < 0 || offset > features.dim) throw bad('offset', offset, 'is not an integer in [0, dim]');
  if (!Number.isInteger(size) || size < 0) throw bad('size', size, 'is not a non-negative integer');
  if (offset + size > features.dim) throw bad('size', size, `runs past the last column from offset ${offset}`);
}

/** The columns [offset, offset + size) of every row, as a new float32 matrix (range checked as in {@link gramMatrix}). */
export function columnSlice(features: FeatureMatrix, offset: number, size: number): Float32Array {
  checkColumnRange(features, offset, size);
  const out = new Float32Array(features.rows * size);
  for (let i = 0; i < features.rows; i++) out.set(features.data.subarray(i * features.dim + offset, i * features.dim + offset + size), i * size);
  return out;
}
