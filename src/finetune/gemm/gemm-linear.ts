/**
 * tfjs tensors through the float32 WebAssembly product (gemm-f32.ts): a plain product, and the linear op y = x·W (+ b)
 * with its gradients dx = dy·Wᵀ and dW = xᵀ·dy read through strides (no transposed copy, no kept Wᵀ).
 *
 * Data movement: on the tfjs-wasm backend with a workspace lent tfjs's heap (`tfjsWasmHeap()`, as Hugging Face models
 * make theirs) nothing is copied: the kernel packs the operands from the tensors' memory and writes the result into the
 * new tensor's. With a private workspace, an operand is copied once into it and the result once into the new tensor.
 * Elsewhere (`cpu`) `dataSync` is read directly.
 */
import { ProvenantError } from '../../core/index.js';
import { tf, type Tensor, type Tensor2D, type Variable, type CustomGradientFunc } from '../tf.js';
import type { GemmF32, GemmHeap, GemmOperand } from './gemm-f32.js';

interface WasmBackendInternals {
  dataIdMap: { has(id: object): boolean; get(id: object): { memoryOffset: number } };
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: GemmHeap['memory'] }; _malloc?: (bytes: number) => number; _free?: (address: number) => void };
}

/**
 * tfjs-wasm's heap as a `GemmHeap` (its WebAssembly.Memory and its allocator), when the wasm backend is the active one and
 * exposes them; else null. A workspace made with it (`createGemmF32({ heap })`) multiplies tensors in place.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGemmF32, gemmMatMul, initBackend, tfjsWasmHeap } from 'provenant/finetune';
 *
 * await initBackend({ backend: 'wasm' });
 * const gemm = createGemmF32({ heap: tfjsWasmHeap() ?? undefined });
 * const y = gemmMatMul(gemm, tf.ones([3, 4]), tf.ones([4, 2])); // [3, 2], every entry 4, written in place in tfjs's heap
 * gemm.counts; // { inPlace: 1, copied: 0 }
 * y.dispose();
 * gemm.dispose();
 * ```
 */
export function tfjsWasmHeap(): GemmHeap | null {
  const wasm = wasmBackend()?.wasm;
  const memory = wasm?.asm?.memory;
  if (!wasm || !memory || typeof wasm._malloc !== 'function' || typeof wasm._free !== 'function' || wasm.HEAPU8.buffer !== memory.buffer) return null;
  const { _malloc: malloc, _free: free } = wasm;
  // Emscripten's _malloc returns a signed i32: unsigned, as tfjs-wasm reads it, for a heap past 2 GiB.
  return { memory, malloc: (bytes) => malloc(bytes) >>> 0, free: (address) => free(address) };
}

/** The float32 values of a tensor: a view of tfjs-wasm's heap when the tensor lives there (valid until the next tfjs op), else `dataSync()`. */
export function valuesOf(t: Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new ProvenantError('LORA_SHAPE_MISMATCH', `The float32 product needs float32 tensors, got ${t.dtype}.`);
  // Only an already-initialised wasm backend (the registry, not findBackend, which would initialise one).
  const backend = (tf.engine() as unknown as { registry: Record<string, Partial<WasmBackendInternals> | undefined> }).registry.wasm;
  if (backend?.dataIdMap?.has(t.dataId) && backend.wasm) {
    const { memoryOffset } = backend.dataIdMap.get(t.dataId);
    return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, t.size);
  }
  return t.dataSync() as Float32Array;
}

/**
 * A new float32 tensor of `shape` whose values `fill` writes in place. On tfjs-wasm the tensor is allocated first in
 * tfjs's heap and `fill` receives a view of its memory, so no JavaScript array is made: a fresh multi-megabyte array
 * costs more than most ops that fill it, its pages being faulted in on first touch (measured on the bench:hf machine,
 * a Firecracker VM: 2.7 ms per MiB, 21 ms for bench:hf's 8 MiB logits, against 0.15 ms to write 8 MiB already mapped),
 * whereas tfjs's heap reuses the memory of freed tensors. Elsewhere `fill` writes a new array handed to `tf.tensor`.
 * `fill` must not call tfjs (an allocation may grow the heap and detach the view); read operands with `valuesOf`
 * inside it, after the output exists, for the same reason.
 */
export function tensorFilled(shape: number[], fill: (values: Float32Array) => void): Tensor {
  if (wasmBackend()) {
    const engine = tf.engine();
    const out = engine.makeTensorFromDataId(engine.backend.write(null as unknown as Float32Array, shape, 'float32'), shape, 'float32');
    fill(valuesOf(out));
    return out;
  }
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fill(values);
  return tf.tensor(values, shape, 'float32');
}

/** The tfjs-wasm backend when it is the active one (its internals give tensors' memory), else null. */
function wasmBackend(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.engine().backend as unknown as Partial<WasmBackendInternals>;
  return backend.dataIdMap && backend.wasm ? (backend as WasmBackendInternals) : null;
}

function operand(t: Tensor, transpose = false): GemmOperand {
  if (t.rank !== 2) throw new ProvenantError('LORA_SHAPE_MISMATCH', `The float32 product needs 2-D operands, got [${t.shape}]. Reshape to [N, in] first.`);
  return { data: valuesOf(t), rows: t.shape[0]!, cols: t.shape[1]!, transpose };
}

/**
 * op(a)·op(b) (+ bias on every row) through a float32 WebAssembly product workspace, as a new tfjs tensor; no gradient
 * is recorded (inside a gradient function use `gemmLinearOp`). op transposes when `transposeA`/`transposeB` is set —
 * read through strides, so a transposed operand costs nothing extra.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` for operands that are not 2-D float32 or whose inner sizes differ.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGemmF32, gemmMatMul } from 'provenant/finetune';
 *
 * const gemm = createGemmF32();
 * const y = gemmMatMul(gemm, tf.ones([3, 4]), tf.ones([2, 4]), { transposeB: true }); // [3, 2], every entry 4
 * y.dispose();
 * gemm.dispose();
 * ```
 */
export function gemmMatMul(gemm: GemmF32, a: Tensor, b: Tensor, options: { transposeA?: boolean; transposeB?: boolean; bias?: Tensor | null } = {}): Tensor2D {
  if (a.rank !== 2 || b.rank !== 2) throw new ProvenantError('LORA_SHAPE_MISMATCH', `The float32 product needs 2-D operands, got [${a.shape}] and [${b.shape}]. Reshape to [N, in] first.`);
  const m = options.transposeA ? a.shape[1]! : a.shape[0]!;
  const n = options.transposeB ? b.shape[0]! : b.shape[1]!;
  // The result is written straight into the new tensor's memory; the operands' views are taken after it exists (an
  // allocation may grow tfjs's heap and detach earlier views).
  return tensorFilled([m, n], (out) => {
    const c = gemm.product(operand(a, options.transposeA), operand(b, options.transposeB), options.bias ? valuesOf(options.bias) : null, out);
    // A workspace that ignores `into` (a wrapper written against the older signature) returns its own view instead.
    if (c !== out) out.set(c);
  }) as Tensor2D;
}

/**
 * y = x·W (+ bias) for x [N, in] and W [in, out] with the float32 WebAssembly product, and the gradients that are asked
 * for: dx = dy·Wᵀ when `needInputGrad`, dW = xᵀ·dy when `needWeightGrad` (both read W or x transposed in place). The
 * bias is added inside the product (one pass over y) and must be frozen; add a trainable bias outside.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when x is not [N, in] for W [in, out] or a bias is not [out].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGemmF32, gemmLinearOp } from 'provenant/finetune';
 *
 * const gemm = createGemmF32();
 * const w = tf.variable(tf.ones([4, 2]));
 * const dW = tf.grad((v: tf.Tensor) => gemmLinearOp(gemm, tf.ones([3, 4]), v, null, false, true).sum())(w); // [4, 2], every entry 3
 * gemm.dispose();
 * ```
 */
export function gemmLinearOp(gemm: GemmF32, x: Tensor, w: Tensor, bias: Tensor | null, needInputGrad: boolean, needWeightGrad: boolean): Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[0] || (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[1]))) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `gemmLinearOp: cannot compute [${x.shape}]·[${w.shape}]${bias ? ` + [${bias.shape}]` : ''}.`);
  }
  const forward = (xt: Tensor, wt: Tensor) => gemmMatMul(gemm, xt, wt, { bias });
  if (!needInputGrad && !needWeightGrad) return forward(x, w);
  const inputGrad = (dy: Tensor, wt: Tensor) => gemmMatMul(gemm, dy, wt, { transposeB: true });
  const weightGrad = (xt: Tensor, dy: Tensor) => gemmMatMul(gemm, xt, dy, { transposeA: true });
  // A Variable needs no saved copy (tidy never frees variables); any other tensor is saved for the backward pass.
  const kept = (t: Tensor): boolean => t instanceof tf.Variable;
  if (needInputGrad && needWeightGrad) {
    const op = tf.customGrad(((xt: Tensor, wt: Tensor, save: tf.GradSaveFunc) => {
      save([xt, wt]);
      return { value: forward(xt, wt), gradFunc: (dy: Tensor, [sx, sw]: Tensor[]) => [inputGrad(dy, sw!), weightGrad(sx!, dy)] };
    }) as unknown as CustomGradientFunc);
    return op(x, w) as Tensor2D;
  }
  if (needInputGrad) {
    const op = tf.customGrad(((xt: Tensor, save: tf.GradSaveFunc) => {
      save(kept(w) ? [] : [w]);
      return { value: forward(xt, w), gradFunc: (dy: Tensor, saved: Tensor[]) => [inputGrad(dy, saved[0] ?? w)] };
    }) as unknown as CustomGradientFunc);
    return op(x) as Tensor2D;
  }
  const op = tf.customGrad(((wt: Tensor, save: tf.GradSaveFunc) => {
    save(kept(x) ? [] : [x]);
    return { value: forward(x, wt), gradFunc: (dy: Tensor, saved: Tensor[]) => [weightGrad(saved[0] ?? x, dy)] };
  }) as unknown as CustomGradientFunc);
  return op(w as Variable) as Tensor2D;
}
