/**
 * The linear (dense) module every model in the zoo is built from, with LoRA adapters and gradient capture.
 *
 *   y = x·W + b + Σ_active s·dropout(x)·A·B
 *
 * Shapes (tfjs layout, row-major, batch first):  W [in, out], A [in, r], B [r, out].
 * PEFT stores the transposes: `base_layer.weight` [out, in], `lora_A.weight` [r, in], `lora_B.weight` [out, r].
 *
 * Why custom matmuls: the wasm backend's matMul is fast (XNNPACK, ~19 GFLOP/s here) only for 2-D, non-transposed
 * operands, while tfjs's own matMul gradient uses transposed products (~1.5 GFLOP/s). `linearOp` computes gradients with
 * an explicit `tf.transpose` and a plain matMul, and skips the gradient of an operand that does not need one (a frozen
 * base kernel, or raw input data): 2.3–2.9× faster steps in ../shared/probes, gradients equal to 7e-7.
 */
import { ProvenantError } from '../core/index.js';
import { tf, type Tensor2D, type Variable, type CustomGradientFunc } from './tf.js';
import type { GemmF32 } from './gemm/gemm-f32.js';
import { gemmLinearOp } from './gemm/gemm-linear.js';

/** One LoRA adapter's weights on one linear module. */
export interface LoraWeights {
  /** [in, r]; PEFT `lora_A.weight` is its transpose. */
  A: Variable;
  /** [r, out]; PEFT `lora_B.weight` is its transpose. */
  B: Variable;
  /** Scaling s: alpha / r, or alpha / √r with rsLoRA. */
  scale: number;
  /** Dropout probability on the adapter's input (training only). */
  dropout: number;
}

export interface Linear {
  /** Module path in PEFT's naming, e.g. `fc1`, `blocks.0.attn.q_proj`, `classifier`. */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [in, out]. Frozen when `kernel.trainable` is false (LoRA training): its gradient is then never computed. */
  readonly kernel: Variable;
  readonly bias: Variable | null;
  /** Adapters attached to this module, by adapter name. */
  readonly adapters: Map<string, LoraWeights>;
  /** Adapter names applied in the forward pass (several may be active; their updates add up). */
  active: string[];
  /** Adapter names currently merged into `kernel`; they are skipped in the forward pass. */
  merged: string[];
  /**
   * The frozen kernel's transpose [out, in] for the input gradient dy·Wᵀ, kept between steps by a model that owns and
   * disposes it (Hugging Face models: hf/kernel-transposes.ts). Without it the transpose is recomputed every backward pass.
   */
  readonly kernelTranspose?: () => tf.Tensor;
  /**
   * A float32 WebAssembly product workspace (gemm/gemm-f32.ts) for this module's base product x·W (+ a frozen bias,
   * fused) and its gradients, set by the model's owner (`setLinearGemm`); tf.matMul without it, for inputs of fewer
   * than `GEMM_MIN_ROWS` rows (token-by-token generation), where copying W in costs more than the product saves, and on
   * backends other than wasm and cpu (`useGemm`).
   */
  gemm?: GemmF32;
}

export interface CreateLinearOptions {
  bias?: boolean;
  /** Seed for the kernel's initial values. */
  seed: number;
  /** Standard deviation of the normal initialisation; default 1/√in (LeCun). */
  initStd?: number;
  trainable?: boolean;
}

/**
 * Creates a linear module: kernel W [in, out] drawn from N(0, initStd²) (default initStd = 1/√in, LeCun) with the given
 * seed, and a zero bias [out] unless `bias: false`; both trainable unless `trainable: false`. No adapters attached.
 * tfjs variable names get a unique suffix, so two models can coexist in one engine.
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` when `inFeatures` or `outFeatures` is not a positive integer.
 *
 * @example
 * ```ts
 * import { createLinear } from 'provenant/finetune';
 *
 * const fc1 = createLinear('fc1', 784, 128, { seed: 1 });
 * fc1.kernel.shape; // [784, 128]; fc1.bias?.shape: [128]; fc1.adapters.size: 0
 * ```
 */
export function createLinear(name: string, inFeatures: number, outFeatures: number, options: CreateLinearOptions): Linear {
  if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures < 1 || outFeatures < 1) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `Linear "${name}" needs positive integer sizes, got ${inFeatures}×${outFeatures}.`);
  }
  const std = options.initStd ?? 1 / Math.sqrt(inFeatures);
  const trainable = options.trainable ?? true;
  // tf.variable keeps its initial tensor alive as a separate tensor; free it so a disposed model leaves nothing behind.
  const kernelInit = tf.randomNormal([inFeatures, outFeatures], 0, std, 'float32', options.seed);
  const kernel = tf.variable(kernelInit, trainable, uniqueName(`${name}.weight`));
  kernelInit.dispose();
  let bias: Variable | null = null;
  if (options.bias !== false) {
    const biasInit = tf.zeros([outFeatures]);
    bias = tf.variable(biasInit, trainable, uniqueName(`${name}.bias`));
    biasInit.dispose();
  }
  return { name, inFeatures, outFeatures, kernel, bias, adapters: new Map(), active: [], merged: [] };
}

let variableCounter = 0;
/** tfjs variable names are global to the engine; suffix a counter so two models can coexist. */
export function uniqueName(name: string): string {
  variableCounter += 1;
  return `${name}__${variableCounter}`;
}

/**
 * Captures what per-example gradients need, without a backward pass per example (see ../shared/probes/pex.js):
 * the inputs of each linear module in the forward pass, and δ = dL/dy of its output in the ordinary backward pass.
 * Then for example rows i:  dW_i = x_iᵀ δ_i,  db_i = Σ δ_i,  dB_i = s·u_iᵀ δ_i,  dA_i = s·x̃_iᵀ (δ_i Bᵀ)
 * with u = x̃·A and x̃ the (dropped-out) adapter input. Tensors stored here are kept (tf.keep); call `disposeCapture`.
 */
export interface GradientCapture {
  /** Module names to capture; all when undefined. */
  modules?: ReadonlySet<string>;
  /** Module name → its input x, [N, in]. */
  inputs: Map<string, Tensor2D>;
  /** `${module}/${adapter}` → { input x̃ [N, in] after dropout, hidden u = x̃·A [N, r] }. */
  lora: Map<string, { input: Tensor2D; hidden: Tensor2D }>;
  /** Module name → δ = dL/dy, [N, out]; filled during the backward pass. */
  outputGrads: Map<string, Tensor2D>;
}

/**
 * An empty gradient capture for `ForwardContext.capture`: during the forward pass it records each linear module's input
 * x [N, in] (and each adapter's x̃, u = x̃·A), during the ordinary backward pass δ = dL/dy [N, out] — from which
 * per-example gradients follow without one backward pass per example (dW_i = x_iᵀ δ_i, see `GradientCapture`). Only
 * the named modules are recorded; all when `modules` is omitted. Free it with `disposeCapture`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createGradientCapture, createLinear, disposeCapture, linearForward } from 'provenant/finetune';
 *
 * const fc1 = createLinear('fc1', 4, 2, { seed: 1 });
 * const capture = createGradientCapture(['fc1']);
 * const x = tf.randomNormal([3, 4], 0, 1, 'float32', 7);
 * const { grads } = tf.variableGrads(() => linearForward(fc1, x, { capture, inputIsData: true }).square().sum() as tf.Scalar);
 * capture.inputs.get('fc1')?.shape; // [3, 4];  capture.outputGrads.get('fc1')?.shape: [3, 2]
 * tf.dispose(grads);
 * disposeCapture(capture);
 * ```
 */
export function createGradientCapture(modules?: Iterable<string>): GradientCapture {
  return { modules: modules ? new Set(modules) : undefined, inputs: new Map(), lora: new Map(), outputGrads: new Map() };
}

/**
 * Frees every tensor a `GradientCapture` keeps (module inputs, adapter inputs and hidden states, output gradients) and
 * empties its maps, so it can be reused for the next batch; `tf.memory().numTensors` returns to its level before the
 * forward pass.
 *
 * @example
 * ```ts
 * import { createGradientCapture, disposeCapture } from 'provenant/finetune';
 *
 * const capture = createGradientCapture();
 * try {
 *   // … forward and backward passes with { capture } in the ForwardContext, then read capture.inputs / outputGrads
 * } finally {
 *   disposeCapture(capture); // capture.inputs.size === 0
 * }
 * ```
 */
export function disposeCapture(capture: GradientCapture): void {
  for (const t of capture.inputs.values()) t.dispose();
  for (const { input, hidden } of capture.lora.values()) {
    input.dispose();
    hidden.dispose();
  }
  for (const t of capture.outputGrads.values()) t.dispose();
  capture.inputs.clear();
  capture.lora.clear();
  capture.outputGrads.clear();
}

export interface ForwardContext {
  /** Training mode enables LoRA dropout. Default false. */
  training?: boolean;
  /** Seed of this forward pass's dropout masks (vary it per step for deterministic training). */
  dropoutSeed?: number;
  /** Record inputs and output gradients for per-example gradients. */
  capture?: GradientCapture;
  /** When true, the module input is data and needs no gradient (first layer). */
  inputIsData?: boolean;
}

const transpose2d = (t: tf.Tensor): tf.Tensor => tf.transpose(t);

/**
 * What the backward pass keeps of an operand. `save` clones, and on wasm a clone is a memory copy; a Variable needs no
 * copy (tidy never frees variables, and none is assigned between a forward pass and its backward pass), while any other
 * tensor must be saved — variableGrads runs the forward pass in a tidy that frees every intermediate not saved.
 */
const needsSave = (t: tf.Tensor): boolean => !(t instanceof tf.Variable);

const matMulBoth = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  const saveB = needsSave(b);
  save(saveB ? [a, b] : [a]);
  return {
    value: tf.matMul(a as Tensor2D, b as Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dy as Tensor2D, transpose2d(saveB ? saved[1]! : b) as Tensor2D),
      tf.matMul(transpose2d(saved[0]!) as Tensor2D, dy as Tensor2D),
    ],
  };
}) as unknown as CustomGradientFunc) as (a: tf.Tensor, b: tf.Tensor) => Tensor2D;

/** a·b, gradient to `a` only (b frozen; `bTranspose` returns a kept bᵀ, e.g. a cached frozen kernel's). */
function matMulGradA(a: tf.Tensor, b: tf.Tensor, bTranspose?: () => tf.Tensor): Tensor2D {
  const saveB = needsSave(b);
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save(saveB ? [b] : []);
    return {
      value: tf.matMul(x as Tensor2D, b as Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.matMul(dy as Tensor2D, (bTranspose && !saveB ? bTranspose() : transpose2d(saveB ? saved[0]! : b)) as Tensor2D),
      ],
    };
  }) as unknown as CustomGradientFunc);
  return op(a) as Tensor2D;
}

/** a·b, gradient to `b` only (a is data). */
function matMulGradB(a: tf.Tensor, b: tf.Tensor): Tensor2D {
  const saveA = needsSave(a);
  const op = tf.customGrad(((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save(saveA ? [a] : []);
    return {
      value: tf.matMul(a as Tensor2D, w as Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(transpose2d(saveA ? saved[0]! : a) as Tensor2D, dy as Tensor2D)],
    };
  }) as unknown as CustomGradientFunc);
  return op(b) as Tensor2D;
}

/**
 * x·W for 2-D operands with fast-path gradients. `needInputGrad`/`needWeightGrad` say which gradients the backward pass
 * must produce; a product needing neither is a plain matMul. `wTranspose`, for a frozen Variable `w`, returns a kept wᵀ
 * that the input gradient reuses instead of transposing `w` again (and XNNPACK reuses its packed copy, cached per tensor).
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when either operand is not 2-D.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { linearOp } from 'provenant/finetune';
 *
 * const w = tf.variable(tf.ones([4, 2]));
 * const dW = tf.grad((v: tf.Tensor) => linearOp(tf.ones([3, 4]), v, false, true).sum())(w); // [4, 2], every entry 3
 * ```
 */
export function linearOp(x: tf.Tensor, w: tf.Tensor, needInputGrad: boolean, needWeightGrad: boolean, wTranspose?: () => tf.Tensor): Tensor2D {
  if (x.rank !== 2 || w.rank !== 2) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `linearOp needs 2-D operands, got [${x.shape}] · [${w.shape}]. Reshape to [N, in] first.`);
  }
  if (needInputGrad && needWeightGrad) return matMulBoth(x, w);
  if (needInputGrad) return matMulGradA(x, w, wTranspose);
  if (needWeightGrad) return matMulGradB(x, w);
  return tf.matMul(x as Tensor2D, w as Tensor2D);
}

/** Identity whose gradient records dy: a backward hook for tfjs. */
function tap(x: Tensor2D, onGrad: (dy: Tensor2D) => void): Tensor2D {
  const op = tf.customGrad(((t: tf.Tensor) => ({
    value: t.clone(),
    gradFunc: (dy: tf.Tensor) => {
      onGrad(dy as Tensor2D);
      return [dy];
    },
  })) as unknown as CustomGradientFunc);
  return op(x) as Tensor2D;
}

function moduleSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * The forward pass of a linear module on x [N, in] → [N, out], with its active, unmerged adapters:
 * y = x·W + b + Σ_active s·dropout(x)·A·B (dropout only when `ctx.training`, seeded by `ctx.dropoutSeed` and the module
 * name). Call inside `tf.tidy` or a gradient function; it returns a new tensor and keeps only what `ctx.capture` asks for.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when x is not [N, in]; `ADAPTER_NOT_FOUND` when an active adapter is not
 * attached to the module.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createLinear, linearForward } from 'provenant/finetune';
 *
 * const fc1 = createLinear('fc1', 4, 2, { seed: 1 });
 * const y = tf.tidy(() => linearForward(fc1, tf.ones([5, 4]))); // [5, 2]
 * y.dispose();
 * ```
 */
export function linearForward(layer: Linear, x: tf.Tensor, ctx: ForwardContext = {}): Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== layer.inFeatures) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `Linear "${layer.name}" expects input [N, ${layer.inFeatures}], got [${x.shape}].`, {
      data: { module: layer.name, expected: layer.inFeatures, shape: x.shape },
    });
  }
  const needInputGrad = !ctx.inputIsData;
  const capture = ctx.capture && (!ctx.capture.modules || ctx.capture.modules.has(layer.name)) ? ctx.capture : undefined;
  let y: tf.Tensor;
  if (layer.gemm && useGemm(x.shape[0]!)) {
    const fusedBias = layer.bias && !layer.bias.trainable ? layer.bias : null;
    y = gemmLinearOp(layer.gemm, x, layer.kernel, fusedBias, needInputGrad, layer.kernel.trainable);
    if (layer.bias && !fusedBias) y = y.add(layer.bias);
  } else {
    y = linearOp(x, layer.kernel, needInputGrad, layer.kernel.trainable, layer.kernel.trainable ? undefined : layer.kernelTranspose);
    if (layer.bias) y = y.add(layer.bias);
  }
  if (capture) setKept(capture.inputs, layer.name, x as Tensor2D);
  for (const adapterName of layer.active) {
    if (layer.merged.includes(adapterName)) continue;
    const adapter = layer.adapters.get(adapterName);
    if (!adapter) {
      throw new ProvenantError('ADAPTER_NOT_FOUND', `Adapter "${adapterName}" is active on "${layer.name}" but not attached.`);
    }
    let input = x;
    if (ctx.training && adapter.dropout > 0) {
      input = tf.dropout(x, adapter.dropout, undefined, moduleSeed(ctx.dropoutSeed ?? 0, `${layer.name}/${adapterName}`));
    }
    // On the module's float32 workspace too: dA = x̃ᵀ·(dy·Bᵀ) and dB = uᵀ·dy then read x̃ and u transposed in place,
    // where tf.matMul needed a transposed copy of x̃ [N, in] per adapter per step.
    const product = (a: tf.Tensor, w: Variable, needA: boolean, needW: boolean): Tensor2D =>
      layer.gemm && useGemm(a.shape[0]!) ? gemmLinearOp(layer.gemm, a, w, null, needA, needW) : linearOp(a, w, needA, needW);
    const hidden = product(input, adapter.A, needInputGrad || false, adapter.A.trainable);
    const update = product(hidden, adapter.B, adapter.A.trainable || needInputGrad, adapter.B.trainable).mul(adapter.scale);
    if (capture) {
      const key = `${layer.name}/${adapterName}`;
      const previous = capture.lora.get(key);
      if (previous) {
        previous.input.dispose();
        previous.hidden.dispose();
      }
      capture.lora.set(key, { input: tf.keep(input.clone()) as Tensor2D, hidden: tf.keep(hidden.clone()) as Tensor2D });
    }
    y = y.add(update);
  }
  if (capture) {
    y = tap(y as Tensor2D, (dy) => setKept(capture.outputGrads, layer.name, dy));
  }
  return y as Tensor2D;
}

/**
 * Fewest input rows for which a module with a `gemm` workspace uses it: the kernel copies W into its memory on every call
 * (k·n values) and packs it, which at a handful of rows (KV-cache generation) outweighs the product itself.
 */
export const GEMM_MIN_ROWS = 64;

/**
 * Whether a product over `rows` input rows should use a module's float32 WebAssembly workspace: at least
 * `GEMM_MIN_ROWS` rows, and on the wasm or pure-JS backend (tfjs-node's native matMul is multi-threaded and faster).
 */
export function useGemm(rows: number): boolean {
  const backend = tf.getBackend();
  return rows >= GEMM_MIN_ROWS && (backend === 'wasm' || backend === 'cpu');
}

function setKept(map: Map<string, Tensor2D>, key: string, value: Tensor2D): void {
  map.get(key)?.dispose();
  map.set(key, tf.keep(value.clone()));
}
