/**
 * Matrix-free curvature operators for iterative inverse-Hessian-vector products (conjugate gradient, LiSSA).
 * `apply` multiplies a block of vectors (rows) at once, so the backend sees matrix–matrix products.
 */
import { ProvenantError, resolve, type ParamTable, type Rng } from '../../core/index.js';
import type { CurvatureFeatures } from './gauss-newton.js';
import { tf } from '../../finetune/index.js';
import { matMulF32 } from './dense-linear-algebra.js';

export interface CurvatureOperator {
  readonly dim: number;
  /**
   * Relative accuracy of `apply` (‖error‖/‖Hv‖): about 1e-4 for float32 backend products, 1e-12 for float64 loops.
   * Iterative solvers do not demand residuals below it.
   */
  readonly precision?: number;
  /** H·v for each of the `rows` row vectors in V (rows × dim); float64 in and out. */
  apply(V: Float64Array, rows: number): Float64Array;
  /** A stochastic, unbiased estimate of H·v from a mini-batch of `batchSize` examples (LiSSA). */
  sample?(V: Float64Array, rows: number, batchSize: number, rng: Rng): Float64Array;
  /** Frees backend memory kept between products. Idempotent. */
  dispose?(): void;
}

/**
 * A {@link CurvatureOperator} over an explicit d × d matrix (row-major, float64): `apply` returns H·v + damping·v for
 * each row vector, at float64 precision (`precision` 1e-12). For conjugate gradient or LiSSA on a Hessian already formed.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when `H` does not hold dim² entries.
 * @example
 * ```ts
 * import { explicitOperator, lissa } from 'provenant/attribution';
 *
 * const op = explicitOperator([2, 0, 0, 4], 2);
 * lissa(op, [1, 1], 1, { depth: 200 }); // Float64Array ≈ [0.5, 0.25] = H⁻¹v
 * ```
 */
export function explicitOperator(H: ArrayLike<number>, dim: number, damping = 0): CurvatureOperator {
  if (H.length !== dim * dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Matrix has ${H.length} entries, expected ${dim}².`);
  return {
    dim,
    precision: 1e-12,
    apply(V, rows) {
      const out = new Float64Array(rows * dim);
      for (let r = 0; r < rows; r++) {
        for (let a = 0; a < dim; a++) {
          let s = damping * V[r * dim + a]!;
          for (let b = 0; b < dim; b++) s += H[a * dim + b]! * V[r * dim + b]!;
          out[r * dim + a] = s;
        }
      }
      return out;
    },
  };
}

/** The options of {@link curvatureOperator}: a misspelt name is refused with the nearest field, never ignored. */
const CURVATURE_OPERATOR_PARAMS: ParamTable = Object.freeze({
  name: 'curvatureOperator',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'l2', default: 0, meaning: 'The training objective\'s L2 coefficient, part of its Hessian.', aliases: ['weightDecay', 'weight_decay'] },
    { name: 'damping', default: 0, meaning: 'Damping λ added to the diagonal.', aliases: ['lambda'] },
  ],
});

/**
 * A matrix-free {@link CurvatureOperator}: H·v = (1/n) Σ_i Σ_c s_ic (s_icᵀ v) + (l2 + damping)·v over Gauss–Newton
 * pseudo-gradients (or, with one row per example, the empirical Fisher), never forming H. The two products run as float32
 * matmuls on the tfjs backend (`precision` 1e-4) against S and Sᵀ kept there after the first call; `sample` gives
 * LiSSA's unbiased mini-batch estimate. Call `dispose()` when done.
 *
 * @example
 * ```ts
 * import { curvatureOperator, fitLissa, type CurvatureFeatures } from 'provenant/attribution';
 *
 * declare const gn: CurvatureFeatures; // gaussNewtonFeatures(model, data, { projection })
 * const op = curvatureOperator(gn, { l2: 1e-3 });
 * const pre = fitLissa(op, { depth: 500, batchSize: 64, seed: 1 }); // pre.dispose() frees S, Sᵀ
 * ```
 */
export function curvatureOperator(curvature: CurvatureFeatures, options: { l2?: number; damping?: number } = {}): CurvatureOperator {
  resolve(CURVATURE_OPERATOR_PARAMS, options);
  const { features, examples, rowsPerExample } = curvature;
  const dim = features.dim;
  const shift = (options.l2 ?? 0) + (options.damping ?? 0);
  const product = (S: Float32Array, sRows: number, V: Float64Array, rows: number, scale: number) => {
    const v32 = Float32Array.from(V);
    const proj = matMulF32(S, sRows, dim, v32, rows, true); // [sRows, rows] = S Vᵀ
    const back = matMulF32(transpose(proj, sRows, rows), rows, sRows, S, dim, false); // [rows, dim]
    const out = new Float64Array(rows * dim);
    for (let k = 0; k < out.length; k++) out[k] = back[k]! * scale + shift * V[k]!;
    return out;
  };
  let kept: { S: tf.Tensor2D; ST: tf.Tensor2D } | undefined;
  return {
    dim,
    precision: 1e-4,
    apply(V, rows) {
      kept ??= tf.tidy(() => {
        const S = tf.keep(tf.tensor2d(features.data, [features.rows, dim]));
        return { S, ST: tf.keep(tf.transpose(S) as tf.Tensor2D) };
      });
      const { S, ST } = kept;
      const t = tf.tidy(() => tf.matMul(tf.matMul(tf.tensor2d(Float32Array.from(V), [rows, dim]), ST), S));
      const back = t.dataSync();
      t.dispose();
      const out = new Float64Array(rows * dim);
      for (let k = 0; k < out.length; k++) out[k] = back[k]! / examples + shift * V[k]!;
      return out;
    },
    dispose() {
      if (kept) tf.dispose([kept.S, kept.ST]);
      kept = undefined;
    },
    sample(V, rows, batchSize, rng) {
      const b = Math.min(batchSize, examples);
      const S = new Float32Array(b * rowsPerExample * dim);
      for (let j = 0; j < b; j++) {
        const i = rng.nextInt(examples);
        S.set(features.data.subarray(i * rowsPerExample * dim, (i + 1) * rowsPerExample * dim), j * rowsPerExample * dim);
      }
      return product(S, b * rowsPerExample, V, rows, 1 / b);
    },
  };
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/**
 * The largest eigenvalue of a PSD operator by power iteration (`iterations` steps, default 30; a deterministic start
 * vector unless `rng` is given): the Rayleigh quotient vᵀHv at the last normalised iterate. LiSSA's default scale is
 * 1.5× it, so the Neumann series converges.
 *
 * @example
 * ```ts
 * import { explicitOperator, largestEigenvalue } from 'provenant/attribution';
 *
 * largestEigenvalue(explicitOperator([2, 0, 0, 4], 2)); // ≈ 4
 * ```
 */
export function largestEigenvalue(op: CurvatureOperator, iterations = 30, rng?: Rng): number {
  let v: Float64Array = new Float64Array(op.dim).map((_, i) => (rng ? rng.nextNormal() : Math.sin(i + 1)));
  let lambda = 0;
  for (let it = 0; it < iterations; it++) {
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (let k = 0; k < v.length; k++) v[k]! /= norm;
    const w = op.apply(v, 1);
    lambda = 0;
    for (let k = 0; k < v.length; k++) lambda += v[k]! * w[k]!;
    v = w;
  }
  return lambda;
}
