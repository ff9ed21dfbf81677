/**
 * RMSNorm (Zhang & Sennrich 2019) as transformers' `LlamaRMSNorm`, y = w · x / √(mean(x²) + ε), as one operation with
 * its closed-form gradient instead of six tfjs kernels and their gradients (square, mean, add, rsqrt, two broadcast
 * products). With r = (mean(x²) + ε)^(−1/2), n = x·r and g = dy·w, per row of width D:
 *
 *   dx = r · (g − n · (g·n) / D),   dw = Σ_rows dy·n.
 *
 * The sum of squares accumulates in float64 (transformers sums in float32; the difference is below float32's rounding
 * of the result). The backward pass reads n and r kept in plain arrays by the forward pass (no saved tensor copies).
 */
import { ProvenantError } from '../../core/index.js';
import { valuesOf } from '../gemm/gemm-linear.js';
import { tf, type Tensor, type CustomGradientFunc } from '../tf.js';

/**
 * y = w · x / √(mean(x²) + ε) over the last axis of x [..., D], w [D]; the gradient reaches x, and w when it is
 * trainable.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when w is not [D].
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const D = x.shape[x.rank - 1]!;
  if (weight.rank !== 1 || weight.shape[0] !== D) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `rmsNorm: weight [${weight.shape}] does not match the last axis of [${x.shape}].`);
  }
  const rows = x.size / D;
  const shape = x.shape;
  const forward = (input: Tensor) => {
    const w = valuesOf(weight).slice();
    const xv = valuesOf(input);
    const n = new Float32Array(x.size);
    const r = new Float64Array(rows);
    const y = new Float32Array(x.size);
    for (let i = 0; i < rows; i++) {
      const o = i * D;
      let ss = 0;
      for (let j = 0; j < D; j++) ss += xv[o + j]! * xv[o + j]!;
      const ri = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(ss / D) + eps)));
      r[i] = ri;
      for (let j = 0; j < D; j++) {
        const nj = Math.fround(xv[o + j]! * ri);
        n[o + j] = nj;
        y[o + j] = nj * w[j]!;
      }
    }
    return { y: tf.tensor(y, shape, 'float32'), n, r, w };
  };
  const backward = (dyTensor: Tensor, n: Float32Array, r: Float64Array, w: Float32Array, needWeight: boolean): [Tensor, Tensor | null] => {
    const dy = valuesOf(dyTensor);
    const dx = new Float32Array(x.size);
    const dw = needWeight ? new Float64Array(D) : null;
    for (let i = 0; i < rows; i++) {
      const o = i * D;
      let gn = 0;
      for (let j = 0; j < D; j++) gn += dy[o + j]! * w[j]! * n[o + j]!;
      const c = gn / D;
      const ri = r[i]!;
      for (let j = 0; j < D; j++) dx[o + j] = ri * (dy[o + j]! * w[j]! - n[o + j]! * c);
      if (dw) for (let j = 0; j < D; j++) dw[j] += dy[o + j]! * n[o + j]!;
    }
    return [tf.tensor(dx, shape, 'float32'), dw ? tf.tensor1d(Float32Array.from(dw)) : null];
  };
  if (weight instanceof tf.Variable && !weight.trainable) {
    const op = tf.customGrad(((input: Tensor) => {
      const { y, n, r, w } = forward(input);
      return { value: y, gradFunc: (dy: Tensor) => [backward(dy, n, r, w, false)[0]] };
    }) as unknown as CustomGradientFunc);
    return op(x) as Tensor;
  }
  const op = tf.customGrad(((input: Tensor, wt: Tensor) => {
    void wt;
    const { y, n, r, w } = forward(input);
    return { value: y, gradFunc: (dy: Tensor) => backward(dy, n, r, w, true) as Tensor[] };
  }) as unknown as CustomGradientFunc);
  return op(x, weight) as Tensor;
}
