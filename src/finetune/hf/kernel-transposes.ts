/**
 * Transposes of frozen kernels, kept between training steps. The input gradient of y = x·W is dy·Wᵀ; the wasm matmul is
 * fast only without transpose flags, so Wᵀ must exist as a tensor, and recomputing it every backward pass cost ≈ 2.3 s of
 * a SmolLM-135M-shaped LoRA step (its tied [576, 49152] head alone is 28 M floats). A kept Wᵀ also lets XNNPACK reuse
 * the weights it packed for it: the wasm backend caches its fully-connected operator per weight tensor, so a fresh Wᵀ
 * each step is packed again each step.
 *
 * Memory: one float32 copy of each frozen kernel that a backward pass has gone through (made on first use, so inference
 * alone never pays it). An entry is rebuilt when its kernel is reassigned (merge, unmerge, loading weights: tfjs gives a
 * Variable a new data id on `assign`), and all of them are freed by `dispose` (the model's own dispose).
 */
import { tf, type Tensor, type Variable } from '../tf.js';

export interface KernelTransposes {
  /** Wᵀ for this frozen kernel (kept; owned by the cache — never dispose it). */
  of(kernel: Variable): Tensor;
  /** Frees every kept transpose. */
  dispose(): void;
  /** How many transposes are kept (for tests and memory accounting). */
  readonly size: number;
}

/**
 * A per-model cache of the transposes Wᵀ of frozen kernels (each `[in, out]` → `[out, in]`), for the input gradient of
 * `linearOp`: the wasm backend is fast only for non-transposed 2-D products and re-packs an operand that is a new tensor,
 * so a transpose made afresh every step costs both the copy and the re-packing. Each entry is made on first use and kept
 * until `dispose()`; the model rebuilds an entry when its kernel changes (merge, unmerge, `modules_to_save`). Memory: one
 * extra float32 copy of each frozen kernel used in a backward pass (inference makes none).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createKernelTransposes } from 'provenant/finetune';
 *
 * const cache = createKernelTransposes();
 * const w = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), false); // frozen [3, 2]
 * const wT = cache.of(w); // [2, 3]; a second call returns the same kept tensor
 * cache.size; // 1
 * cache.dispose();
 * ```
 */
export function createKernelTransposes(): KernelTransposes {
  const kept = new Map<Variable, { dataId: object; transpose: Tensor }>();
  return {
    of(kernel) {
      const entry = kept.get(kernel);
      if (entry && entry.dataId === kernel.dataId && !entry.transpose.isDisposed) return entry.transpose;
      entry?.transpose.dispose();
      // tf.keep: the first use happens inside a backward pass, whose tidy would otherwise free it.
      const transpose = tf.keep(tf.transpose(kernel));
      kept.set(kernel, { dataId: kernel.dataId, transpose });
      return transpose;
    },
    dispose() {
      for (const { transpose } of kept.values()) transpose.dispose();
      kept.clear();
    },
    get size() {
      return kept.size;
    },
  };
}
