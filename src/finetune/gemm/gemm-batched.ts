/**
 * Batched products for attention, [N, ·, ·] with N = batch·heads, on the float32 WebAssembly product: scores q·kᵀ and
 * probabilities·v, with their gradients, one strided product per batch item — no layout transposes (the tfjs-wasm path,
 * models/transformer.ts, writes each as a depthwise convolution between transposes, ≈ 6 GFLOP/s on bench:hf's shapes).
 */
import { ProvenantError } from '../../core/index.js';
import { tf, type Tensor, type CustomGradientFunc } from '../tf.js';
import type { GemmF32 } from './gemm-f32.js';
import { tensorFilled, valuesOf } from './gemm-linear.js';

/** op(a_i)·op(b_i) for every i of [N, ·, ·] operands, no gradient recorded. */
function batchedProduct(gemm: GemmF32, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `Batched float32 product: cannot multiply [${a.shape}] by [${b.shape}].`);
  }
  const [N, ar, ac] = a.shape as [number, number, number];
  const [, br, bc] = b.shape as [number, number, number];
  const m = transposeA ? ac : ar;
  const n = transposeB ? br : bc;
  // Each product is written straight into the output tensor's memory (tensorFilled), and the operands are read as views
  // of tfjs's memory, taken after the output exists: valid through this loop, which makes no tfjs allocation.
  return tensorFilled([N, m, n], (out) => {
    const A = valuesOf(a);
    const B = valuesOf(b);
    for (let i = 0; i < N; i++) {
      const into = out.subarray(i * m * n, (i + 1) * m * n);
      const c = gemm.product(
        { data: A.subarray(i * ar * ac, (i + 1) * ar * ac), rows: ar, cols: ac, transpose: transposeA },
        { data: B.subarray(i * br * bc, (i + 1) * br * bc), rows: br, cols: bc, transpose: transposeB },
        null,
        into,
      );
      if (c !== into) into.set(c); // a workspace that ignores `into` returns its own view
    }
  }) as tf.Tensor3D;
}

/**
 * a·b for a [N, m, k] and b [N, k, n] → [N, m, n] on the float32 WebAssembly product, with gradients da = dy·bᵀ and
 * db = aᵀ·dy (strided, no transposed copies).
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when the operands are not 3-D with equal batch and inner sizes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGemmF32, gemmBatchMatMul } from 'provenant/finetune';
 *
 * const gemm = createGemmF32();
 * const y = gemmBatchMatMul(gemm, tf.ones([2, 3, 4]), tf.ones([2, 4, 5])); // [2, 3, 5], every entry 4
 * y.dispose();
 * gemm.dispose();
 * ```
 */
export function gemmBatchMatMul(gemm: GemmF32, a: Tensor, b: Tensor): tf.Tensor3D {
  const op = tf.customGrad(((x: Tensor, y: Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: batchedProduct(gemm, x, y, false, false),
      gradFunc: (dy: Tensor, [sx, sy]: Tensor[]) => [batchedProduct(gemm, dy, sy!, false, true), batchedProduct(gemm, sx!, dy, true, false)],
    };
  }) as unknown as CustomGradientFunc);
  return op(a, b) as tf.Tensor3D;
}

/**
 * a·bᵀ for a [N, m, k] and b [N, n, k] → [N, m, n] (attention scores q·kᵀ) on the float32 WebAssembly product, with
 * gradients da = dy·b and db = dyᵀ·a.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when the operands are not 3-D with equal batch and inner sizes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGemmF32, gemmBatchMatMulNT } from 'provenant/finetune';
 *
 * const gemm = createGemmF32();
 * const scores = gemmBatchMatMulNT(gemm, tf.ones([2, 3, 4]), tf.ones([2, 5, 4])); // [2, 3, 5], every entry 4
 * scores.dispose();
 * gemm.dispose();
 * ```
 */
export function gemmBatchMatMulNT(gemm: GemmF32, a: Tensor, b: Tensor): tf.Tensor3D {
  const op = tf.customGrad(((x: Tensor, y: Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: batchedProduct(gemm, x, y, false, true),
      gradFunc: (dy: Tensor, [sx, sy]: Tensor[]) => [batchedProduct(gemm, dy, sy!, false, false), batchedProduct(gemm, dy, sx!, true, false)],
    };
  }) as unknown as CustomGradientFunc);
  return op(a, b) as tf.Tensor3D;
}
