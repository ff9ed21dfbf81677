/**
 * Puts a model's linear layers on the float32 WebAssembly product (or back on tf.matMul): the model's owner chooses the
 * path, nothing is registered in tfjs. Measured on bench:hf's Llama-256 shapes (benchmarks/hf-gemm.ts): the kernel alone
 * ≈ 1.1–1.9× tfjs-wasm's XNNPACK matMul under load, ≈ 1.1–1.3× inside a forward pass — so it is opt-in, not the default.
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
