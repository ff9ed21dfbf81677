/**
 * Puts a model's linear layers (and, through them, its attention products) on the float32 WebAssembly product, or back
 * on tf.matMul: the model's owner chooses the path, nothing is registered in tfjs. Hugging Face models start on it
 * (hf/pretrained-model.ts); other models opt in. Measured on bench:hf's Llama-256 shapes: the kernel alone 1.1–1.15×
 * tfjs-wasm's XNNPACK matMul for plain 2-D products (benchmarks/hf-gemm.ts, load ≈ 2), attention ≈ 3× its
 * depthwise-convolution path; whole model, the two paths interleaved in one process at load ≈ 4: a LoRA step 952 vs
 * 1,232 ms, a forward pass 402 vs 455 ms.
 */
import type { Linear } from '../linear.js';
import type { GemmF32 } from './gemm-f32.js';

/**
 * Sets (or with `undefined`, clears) the float32 product workspace of every linear module of a model: their base products
 * x·W (+ frozen bias) and its gradients then run on it for inputs of at least `GEMM_MIN_ROWS` rows. The caller owns the
 * workspace: clear it from the model before `gemm.dispose()`.
 *
 * @example
 * ```ts
 * import { createGemmF32, setLinearGemm, type PretrainedModel } from 'provenant/finetune';
 *
 * declare const model: PretrainedModel;
 * const gemm = createGemmF32();
 * setLinearGemm(model, gemm); // training and forward passes now use it
 * setLinearGemm(model, undefined);
 * gemm.dispose();
 * ```
 */
export function setLinearGemm(model: { readonly linears: ReadonlyMap<string, Linear> }, gemm: GemmF32 | undefined): void {
  for (const linear of model.linears.values()) linear.gemm = gemm;
}
