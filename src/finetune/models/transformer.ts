/**
 * A tiny decoder-only (GPT-style, pre-LayerNorm) transformer over the character vocabulary of `tokenizer.ts`, with a causal
 * LM head and an optional sequence-classification head on the pooled final hidden states.
 *
 * Module paths (the LoRA targets, PEFT-style): `blocks.<i>.attn.{q,k,v,o}_proj`, `blocks.<i>.mlp.{fc_in,fc_out}`, `lm_head`,
 * `classifier`. Other weights: `embed_tokens.weight` [V, D], `embed_positions.weight` [T, D], `blocks.<i>.ln{1,2}.{weight,bias}`,
 * `ln_f.{weight,bias}`. Kernels are in tfjs layout [in, out].
 *
 * Recipes measured on tfjs-wasm (../shared/probes/model.js, DESIGN.md): the embedding is `oneHot(ids)·E` (the gradient of
 * `gather` needs `UnsortedSegmentSum`, missing on wasm); every projection goes through `linearForward` on 2-D [B·T, D] tensors
 * (the gradient of a 3-D × 2-D matMul has a shape bug, and only 2-D non-transposed matmuls hit XNNPACK); the attention
 * products use custom gradients with explicit transposes (no `transposeA/B` flags, which fall to a scalar loop); GELU uses
 * `x*x*x` (wasm `pow` is slow). `tf.oneHot(…, 'float32')` is cast from int32 instead: on wasm (tfjs 4.22) the dtype argument
 * writes int32 bit patterns into a float32 tensor (1 reads as 1.4e-45).
 */
import { ProvenantError } from '../../core/index.js';
import { createLinear, linearForward, linearOp, uniqueName, useGemm, type ForwardContext, type Linear } from '../linear.js';
import { gemmBatchMatMul, gemmBatchMatMulNT } from '../gemm/gemm-batched.js';
import { createGemmF32, gemmF32Available, type GemmF32 } from '../gemm/gemm-f32.js';
import { tfjsWasmHeap } from '../gemm/gemm-linear.js';
import { tf, type Tensor, type Tensor2D, type Variable, type CustomGradientFunc } from '../tf.js';
import { disposeModelVariables, validateSizes } from './logistic-regression.js';
import type { Model } from './model.js';

export interface TransformerConfig {
  /** Vocabulary size; 98 for the character tokenizer (`CHAR_VOCAB_SIZE`). */
  vocabSize: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads; must divide `dModel`. */
  nHeads: number;
  nLayers: number;
  /** Longest sequence (rows of the position embedding). */
  maxSeqLen: number;
  /** Hidden width of each MLP; default 4·dModel. */
  mlpHidden?: number;
  /** When set, a `classifier` head maps the pooled hidden state to this many classes and `forward` returns class logits. */
  numClasses?: number;
  /** How the classifier pools the sequence: mean over non-pad positions (default) or the last non-pad position. */
  pooling?: 'mean' | 'last';
  /** Padding id (ignored by pooling); default 0. Sequences are right-padded, so with causal attention real tokens never see pads. */
  padId?: number;
  /** LayerNorm ε; default 1e-5. */
  layerNormEps?: number;
  /** Seed of the initial weights. */
  seed: number;
}

export interface TransformerModel extends Model<TransformerConfig> {
  readonly kind: 'transformer';
  /**
   * Class logits [B, numClasses] when a classifier head exists, else LM logits [B·T, V]. `inputs`: int32 ids [B, T], T ≤ maxSeqLen.
   */
  forward(inputs: Tensor, ctx?: ForwardContext): Tensor;
  /** Next-token logits [B·T, V]: row b·T + t predicts the token after position t of sequence b. */
  forwardLm(ids: Tensor, ctx?: ForwardContext): Tensor2D;
  /** Class logits [B, numClasses]; T may exceed maxSeqLen (windows). Throws MODEL_CONFIG_INVALID without a classifier head. */
  forwardClassifier(ids: Tensor, ctx?: ForwardContext): Tensor2D;
  /** Final (LayerNorm'd) hidden states [B·T, D]. */
  hiddenStates(ids: Tensor, ctx?: ForwardContext): Tensor2D;
  /** Pooled hidden states [B, D], as the classifier sees them; T may exceed maxSeqLen (read in windows, see `pooled`). */
  pooled(ids: Tensor, ctx?: ForwardContext): Tensor2D;
}

const swapLast = (t: Tensor): Tensor => tf.transpose(t, [0, 2, 1]);

/**
 * Batched products for attention, [N, ·, ·] with N = batch·heads. On wasm, a batched `matMul` runs a scalar loop
 * (~1.5 GFLOP/s); the same product written as a depthwise convolution runs in XNNPACK: with the N heads as channels,
 * row i of `x` as the image row and the contraction index as the filter width, out[i, n·P + p] = Σ_k x[i, k, n]·f[k, n, p].
 * Measured here for [128, 64, 16]·[128, 16, 64]: 11.0 ms → 6.0 ms including the layout transposes (2.3 ms for the
 * convolution alone). Other backends keep `matMul`. No gradient kernels are needed: the custom gradients below are
 * products of the same kind.
 */
function contract(x: Tensor, f: Tensor, M: number, K: number, N: number, P: number): tf.Tensor3D {
  // x: [M, K, N], f: [K, N, P] → [N, M, P]
  const out = tf.depthwiseConv2d(x.reshape([1, M, K, N]) as tf.Tensor4D, f.reshape([1, K, N, P]) as tf.Tensor4D, 1, 'valid');
  return tf.transpose(out.reshape([M, N, P]), [1, 0, 2]) as tf.Tensor3D;
}
const useConv = () => tf.getBackend() === 'wasm';

/** a·bᵀ: [N, M, K]·[N, P, K] → [N, M, P]. */
function productNT(a: Tensor, b: Tensor): tf.Tensor3D {
  if (!useConv()) return tf.matMul(a as tf.Tensor3D, swapLast(b) as tf.Tensor3D);
  const [N, M, K] = a.shape as [number, number, number];
  return contract(tf.transpose(a, [1, 2, 0]), tf.transpose(b, [2, 0, 1]), M, K, N, b.shape[1]!);
}

/** a·b: [N, M, K]·[N, K, P] → [N, M, P]. */
function productNN(a: Tensor, b: Tensor): tf.Tensor3D {
  if (!useConv()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const [N, M, K] = a.shape as [number, number, number];
  return contract(tf.transpose(a, [1, 2, 0]), tf.transpose(b, [1, 0, 2]), M, K, N, b.shape[2]!);
}

/** aᵀ·b: [N, K, M]·[N, K, P] → [N, M, P]. */
function productTN(a: Tensor, b: Tensor): tf.Tensor3D {
  if (!useConv()) return tf.matMul(swapLast(a) as tf.Tensor3D, b as tf.Tensor3D);
  const [N, K, M] = a.shape as [number, number, number];
  return contract(tf.transpose(a, [2, 1, 0]), tf.transpose(b, [1, 0, 2]), M, K, N, b.shape[2]!);
}

/** a·b for [N, m, k]·[N, k, n]; gradients da = dy·bᵀ, db = aᵀ·dy. Shared with the Hugging Face models (../hf). */
export const batchMatMul = tf.customGrad(((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: productNN(a, b),
    gradFunc: (dy: Tensor, [sa, sb]: Tensor[]) => [productNT(dy, sb!), productTN(sa!, dy)],
  };
}) as unknown as CustomGradientFunc) as (a: Tensor, b: Tensor) => tf.Tensor3D;

/** a·bᵀ for [N, m, k]·[N, n, k] (attention scores); gradients da = dy·b, db = dyᵀ·a. */
export const batchMatMulNT = tf.customGrad(((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: productNT(a, b),
    gradFunc: (dy: Tensor, [sa, sb]: Tensor[]) => [productNN(dy, sb!), productTN(dy, sa!)],
  };
}) as unknown as CustomGradientFunc) as (a: Tensor, b: Tensor) => tf.Tensor3D;

/**
 * The two attention products (a·bᵀ, a·b): the float32 WebAssembly ones ({@link gemmBatchMatMulNT}, {@link gemmBatchMatMul},
 * read through strides, no layout transposes) when a workspace is given and there are at least `GEMM_MIN_ROWS` query
 * rows on wasm/cpu, else {@link batchMatMulNT} and {@link batchMatMul}. Shared by this model and the Hugging Face ones.
 */
export function attentionProducts(gemm: GemmF32 | undefined, rows: number): [(a: Tensor, b: Tensor) => Tensor, (a: Tensor, b: Tensor) => Tensor] {
  if (!gemm || !useGemm(rows)) return [batchMatMulNT, batchMatMul];
  return [(a, b) => gemmBatchMatMulNT(gemm, a, b), (a, b) => gemmBatchMatMul(gemm, a, b)];
}

/**
 * softmax(scores·scale + bias) over the last axis, scores of any shape that reshapes to `heads` [B, H, T, S] (bias
 * broadcastable to [B, H, T, S] — [B, 1, T, S], or a causal [T, S] — or null), as one operation whose gradient is the
 * softmax's closed form dz = p ⊙ (dp − Σ_s dp ⊙ p), times scale: it keeps only p for the backward pass, where the three
 * tfjs operations kept a copy of the scores for the scaling's gradient as well (and recast them). Measured on bench:hf's
 * attention: 3.0 vs 4.6 ms per layer.
 */
export function scaledMaskedSoftmax(scores: Tensor, scale: number, bias: Tensor | null, heads: [number, number, number, number]): Tensor {
  const op = tf.customGrad(((s: Tensor, save: tf.GradSaveFunc) => {
    let z = scale !== 1 ? s.mul(scale) : s;
    if (bias) z = z.reshape(heads).add(bias).reshape(s.shape);
    const p = tf.softmax(z);
    save([p]);
    return {
      value: p,
      gradFunc: (dy: Tensor, [saved]: Tensor[]) => {
        const dyp = dy.mul(saved!);
        const dz = dyp.sub(saved!.mul(dyp.sum(-1, true)));
        return [scale !== 1 ? dz.mul(scale) : dz];
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(scores) as Tensor;
}

function layerNorm(x: Tensor, weight: Variable, bias: Variable, eps: number): Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(weight).add(bias);
}

/**
 * GELU, tanh approximation (Hendrycks & Gimpel 2016, §2), as GPT-2 and PyTorch's `approximate='tanh'`:
 * 0.5·x·(1 + tanh(z)) with z = √(2/π)(x + 0.044715x³), computed as x·σ(2z) (the same function, since 1 + tanh(z) = 2σ(2z))
 * because wasm's Tanh is a scalar loop: 10.8 ms vs 2.1 ms for Sigmoid on [2048, 256] here, and 15 vs 6.6 ms for the gradient.
 */
export function gelu(x: Tensor): Tensor {
  const c = 2 * Math.sqrt(2 / Math.PI);
  const cube = x.mul(x).mul(x);
  return x.mul(tf.sigmoid(x.add(cube.mul(0.044715)).mul(c)));
}

interface Block {
  ln1: [Variable, Variable];
  ln2: [Variable, Variable];
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  fcIn: Linear;
  fcOut: Linear;
}

function validateTransformerConfig(config: TransformerConfig): void {
  validateSizes('transformer', {
    vocabSize: config.vocabSize,
    dModel: config.dModel,
    nHeads: config.nHeads,
    nLayers: config.nLayers,
    maxSeqLen: config.maxSeqLen,
    ...(config.mlpHidden !== undefined ? { mlpHidden: config.mlpHidden } : {}),
    ...(config.numClasses !== undefined ? { numClasses: config.numClasses } : {}),
  });
  if (config.dModel % config.nHeads !== 0) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `transformer: nHeads (${config.nHeads}) must divide dModel (${config.dModel}).`);
  }
  if (config.pooling !== undefined && config.pooling !== 'mean' && config.pooling !== 'last') {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `transformer: pooling must be "mean" or "last", got ${JSON.stringify(config.pooling)}.`);
  }
  const padId = config.padId ?? 0;
  if (!Number.isInteger(padId) || padId < 0 || padId >= config.vocabSize) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `transformer: padId ${padId} is outside the vocabulary.`);
  }
}

/**
 * Creates the tiny transformer with freshly initialised weights (GPT-2's scheme: N(0, 0.02), residual output projections
 * scaled by 1/√(2·nLayers) so the residual stream's variance does not grow with depth — Radford et al. 2019, §2.3).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { CHAR_VOCAB_SIZE, createCharTokenizer, createTransformer } from 'provenant/finetune';
 * const model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, seed: 1 });
 * const tok = createCharTokenizer();
 * const ids = tf.tensor2d(tok.encodeBatch(['hello'], 8).ids, [1, 8], 'int32');
 * const logits = tf.tidy(() => model.forwardLm(ids)); // [8, 98]
 * ```
 */
export function createTransformer(config: TransformerConfig): TransformerModel {
  validateTransformerConfig(config);
  const cfg: TransformerConfig = { ...config };
  const { vocabSize: V, dModel: D, nHeads: H, nLayers: L, maxSeqLen } = cfg;
  const hd = D / H;
  const mlpHidden = cfg.mlpHidden ?? 4 * D;
  const eps = cfg.layerNormEps ?? 1e-5;
  const padId = cfg.padId ?? 0;
  const std = 0.02;
  const residualStd = std / Math.sqrt(2 * L);
  let seedCounter = 0;
  const nextSeed = () => (cfg.seed * 1_000_003 + 7919 * ++seedCounter) >>> 0;

  const weights = new Map<string, Variable>();
  const linears = new Map<string, Linear>();
  const variable = (name: string, init: Tensor): Variable => {
    const v = tf.variable(init, true, uniqueName(name));
    init.dispose();
    weights.set(name, v);
    return v;
  };
  const linear = (name: string, inF: number, outF: number, initStd: number, bias = true): Linear => {
    const layer = createLinear(name, inF, outF, { seed: nextSeed(), initStd, bias });
    linears.set(name, layer);
    weights.set(`${name}.weight`, layer.kernel);
    if (layer.bias) weights.set(`${name}.bias`, layer.bias);
    return layer;
  };
  const ln = (name: string): [Variable, Variable] => [variable(`${name}.weight`, tf.ones([D])), variable(`${name}.bias`, tf.zeros([D]))];

  const embedTokens = variable('embed_tokens.weight', tf.randomNormal([V, D], 0, std, 'float32', nextSeed()));
  const embedPositions = variable('embed_positions.weight', tf.randomNormal([maxSeqLen, D], 0, std, 'float32', nextSeed()));
  const blocks: Block[] = [];
  for (let i = 0; i < L; i++) {
    const p = `blocks.${i}`;
    const ln1 = ln(`${p}.ln1`);
    const q = linear(`${p}.attn.q_proj`, D, D, std);
    const k = linear(`${p}.attn.k_proj`, D, D, std);
    const v = linear(`${p}.attn.v_proj`, D, D, std);
    const o = linear(`${p}.attn.o_proj`, D, D, residualStd);
    const ln2 = ln(`${p}.ln2`);
    const fcIn = linear(`${p}.mlp.fc_in`, D, mlpHidden, std);
    const fcOut = linear(`${p}.mlp.fc_out`, mlpHidden, D, residualStd);
    blocks.push({ ln1, ln2, q, k, v, o, fcIn, fcOut });
  }
  const lnF = ln('ln_f');
  const lmHead = linear('lm_head', D, V, std, false);
  let classifier: Linear | null = null;
  if (cfg.numClasses !== undefined) classifier = linear('classifier', D, cfg.numClasses, std);

  // The causal mask is a constant per sequence length; kept (not global) and freed by dispose().
  const masks = new Map<number, Tensor>();
  // Attention's batched products q·kᵀ and p·v on the float32 WebAssembly product, read through strides (no layout
  // transposes), for at least GEMM_MIN_ROWS query tokens on wasm/cpu: measured on the demo's shape (d 64, 4 heads,
  // 3 blocks, batch 16, LoRA on all six projections, CPU ms per training step) 910 → 665 at context 256 and 318 → 279 at
  // 128; the forward 356 → 235 and 119 → 99. The linear layers stay on tfjs: at width 64 copying them in costs more than
  // the product saves (measured 1.28 s → 1.64 s per step). A workspace per model, made on first use, freed by dispose().
  let attentionGemm: GemmF32 | null = null;
  const attentionWorkspace = (rows: number): GemmF32 | undefined =>
    useGemm(rows) && gemmF32Available() ? (attentionGemm ??= createGemmF32({ heap: tfjsWasmHeap() ?? undefined })) : undefined;
  const causalMask = (T: number): Tensor => {
    let mask = masks.get(T);
    if (!mask) {
      mask = tf.tidy(() => tf.keep(tf.scalar(1).sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9)));
      masks.set(T, mask);
    }
    return mask;
  };

  const checkIds = (ids: Tensor, allowWindows = false): [number, number] => {
    if (ids.rank !== 2 || ids.dtype !== 'int32') {
      throw new ProvenantError('MODEL_CONFIG_INVALID', `transformer: inputs must be int32 ids [B, T], got ${ids.dtype} [${ids.shape}].`);
    }
    const [B, T] = ids.shape as [number, number];
    if (T > maxSeqLen && !allowWindows) {
      throw new ProvenantError('MODEL_CONFIG_INVALID', `transformer: sequence length ${T} exceeds maxSeqLen ${maxSeqLen}.`, {
        details: 'Truncate the input (tokenizer.encodeBatch(texts, maxSeqLen)) or build a model with a longer context.',
      });
    }
    return [B, T];
  };

  const hiddenStates = (ids: Tensor, ctx: ForwardContext = {}): Tensor2D => {
    const [B, T] = checkIds(ids);
    const inner: ForwardContext = { ...ctx, inputIsData: false };
    const oneHot = tf.oneHot(ids.reshape([B * T]), V).cast('float32');
    let h: Tensor = linearOp(oneHot, embedTokens, false, embedTokens.trainable)
      .reshape([B, T, D])
      .add(embedPositions.slice([0, 0], [T, D]))
      .reshape([B * T, D]);
    const mask = causalMask(T);
    const [productNT, productNN] = attentionProducts(attentionWorkspace(B * T), B * T);
    const toHeads = (t: Tensor) => t.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]).reshape([B * H, T, hd]);
    blocks.forEach((block, i) => {
      // Block 0's projections need no input gradient when nothing before them trains (LoRA on a frozen base).
      const upstream = i > 0 || embedTokens.trainable || embedPositions.trainable || block.ln1[0].trainable || block.ln1[1].trainable;
      const first: ForwardContext = { ...ctx, inputIsData: !upstream };
      const a = layerNorm(h, block.ln1[0], block.ln1[1], eps);
      const q = toHeads(linearForward(block.q, a, first));
      const k = toHeads(linearForward(block.k, a, first));
      const v = toHeads(linearForward(block.v, a, first));
      const attention = scaledMaskedSoftmax(productNT(q, k), 1 / Math.sqrt(hd), mask, [B, H, T, T]);
      const o = productNN(attention, v).reshape([B, H, T, hd]).transpose([0, 2, 1, 3]).reshape([B * T, D]);
      h = h.add(linearForward(block.o, o, inner));
      const m = layerNorm(h, block.ln2[0], block.ln2[1], eps);
      h = h.add(linearForward(block.fcOut, gelu(linearForward(block.fcIn, m, inner)), inner));
    });
    return layerNorm(h, lnF[0], lnF[1], eps) as Tensor2D;
  };

  /**
   * Pooling for classification. Inputs longer than the context are cut into consecutive windows of maxSeqLen tokens,
   * each read independently (no attention across windows), and pooled together over all their real tokens: the
   * classifier then sees a whole e-mail rather than its first maxSeqLen characters, at a cost linear in the length.
   */
  const pooled = (ids: Tensor, ctx: ForwardContext = {}): Tensor2D => {
    const [B, T0] = checkIds(ids, true);
    let windowed = ids;
    let T = T0;
    if (T0 > maxSeqLen) {
      const windows = Math.ceil(T0 / maxSeqLen);
      T = windows * maxSeqLen;
      windowed = tf.pad(ids, [[0, 0], [0, T - T0]], padId);
    }
    const S = Math.min(T, maxSeqLen);
    const h = hiddenStates(windowed.reshape([(B * T) / S, S]), ctx).reshape([B, T, D]);
    const real = windowed.notEqual(tf.scalar(padId, 'int32')).cast('float32');
    let weightsBT: Tensor;
    if ((cfg.pooling ?? 'mean') === 'mean') {
      weightsBT = real.div(real.sum(1, true).maximum(1));
    } else {
      // Right padding: the last real position is (number of real tokens − 1); an all-pad row pools position 0.
      const last = real.sum(1).sub(1).maximum(0).cast('int32');
      weightsBT = tf.oneHot(last, T).cast('float32');
    }
    return h.mul(weightsBT.expandDims(2)).sum(1) as Tensor2D;
  };

  const forwardLm = (ids: Tensor, ctx: ForwardContext = {}): Tensor2D => linearForward(lmHead, hiddenStates(ids, ctx), { ...ctx, inputIsData: false });

  const forwardClassifier = (ids: Tensor, ctx: ForwardContext = {}): Tensor2D => {
    if (!classifier) {
      throw new ProvenantError('MODEL_CONFIG_INVALID', 'transformer: this model has no classifier head.', {
        details: 'Create it with numClasses, or add one with addClassificationHead(model, numClasses, { seed }).',
      });
    }
    return linearForward(classifier, pooled(ids, ctx), { ...ctx, inputIsData: false });
  };

  const model: TransformerModel & { _addClassifier(numClasses: number, seed: number, pooling?: 'mean' | 'last'): void } = {
    kind: 'transformer',
    config: cfg,
    linears,
    weights,
    forward: (inputs, ctx) => (classifier ? forwardClassifier(inputs, ctx) : forwardLm(inputs, ctx)),
    forwardLm,
    forwardClassifier,
    hiddenStates,
    pooled,
    dispose() {
      disposeModelVariables(linears.values(), [embedTokens, embedPositions, ...blocks.flatMap((b) => [...b.ln1, ...b.ln2]), ...lnF]);
      for (const mask of masks.values()) mask.dispose();
      masks.clear();
      attentionGemm?.dispose();
      attentionGemm = null;
    },
    _addClassifier(numClasses, seed, pooling) {
      if (classifier) throw new ProvenantError('MODEL_CONFIG_INVALID', 'transformer: the model already has a classifier head.');
      validateSizes('transformer', { numClasses });
      classifier = createLinear('classifier', D, numClasses, { seed, initStd: std });
      linears.set('classifier', classifier);
      weights.set('classifier.weight', classifier.kernel);
      weights.set('classifier.bias', classifier.bias!);
      cfg.numClasses = numClasses;
      if (pooling) cfg.pooling = pooling;
    },
  };
  return model;
}

/**
 * Adds a freshly initialised `classifier` head (N(0, 0.02) kernel, zero bias) to a transformer — e.g. to the shipped base
 * model before LoRA fine-tuning for classification (list `classifier` in `modulesToSave` so it trains and is saved).
 * Afterwards `model.forward` returns class logits.
 *
 * @example
 * ```ts
 * import { addClassificationHead, loadBaseModel } from 'provenant/finetune';
 * const model = await loadBaseModel();
 * addClassificationHead(model, 2, { seed: 1 });
 * ```
 */
export function addClassificationHead(model: TransformerModel, numClasses: number, options: { seed: number; pooling?: 'mean' | 'last' }): void {
  const adder = (model as unknown as { _addClassifier?: (n: number, s: number, p?: 'mean' | 'last') => void })._addClassifier;
  if (model.kind !== 'transformer' || !adder) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', 'addClassificationHead needs a model made by createTransformer or loadBaseModel.');
  }
  adder(numClasses, options.seed, options.pooling);
}

/**
 * Number of scalar parameters in a model's base weights (`model.weights`: every tensor's element count summed). LoRA
 * factors are not counted (see `getAdapterInfo` for an adapter's trainable parameters).
 *
 * @example
 * ```ts
 * import { countParameters, loadBaseModel } from 'provenant/finetune';
 *
 * countParameters(await loadBaseModel()); // e.g. 278080 for the shipped tiny character transformer
 * ```
 */
export function countParameters(model: Model): number {
  let n = 0;
  for (const w of model.weights.values()) n += w.size;
  return n;
}
