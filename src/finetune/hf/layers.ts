/**
 * The building blocks the Hugging Face architectures share, written to match transformers' eager PyTorch code to float32
 * rounding, on the tfjs-wasm fast paths of DESIGN.md (2-D matmuls, custom-gradient attention products, one-hot
 * embedding products where a gradient is needed, no `gather` gradient).
 */
import type { ForwardContext } from '../linear.js';
import { linearOp } from '../linear.js';
import type { GemmF32 } from '../gemm/gemm-f32.js';
import { attentionProducts, gelu as geluTanh, scaledMaskedSoftmax } from '../models/transformer.js';
import { tf, type CustomGradientFunc, type Tensor, type Tensor2D, type Variable } from '../tf.js';
import { ProvenantError } from '../../core/index.js';
import { tensorFilled, valuesOf } from '../gemm/gemm-linear.js';

/** float32's most negative finite value: transformers' additive mask value (`torch.finfo(float32).min`). */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** LayerNorm over the last axis with PyTorch's biased variance. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(weight).add(bias);
}

/**
 * RMSNorm (Zhang & Sennrich 2019, eq. 4) as `LlamaRMSNorm`: y = w ⊙ x / √(mean(x²) + ε) over the last axis of x [..., D]
 * with w [D]. The forward pass is tfjs's ops (vectorised; a plain-array loop was slower: 0.62 vs 0.26 ms on bench:hf's
 * [1024, 256]); the gradient is one closed-form pass over plain arrays written in place (`tensorFilled`): with
 * r = (mean(x²) + ε)^(−1/2) and g = dy ⊙ w, dx = r·g − x·r³·mean(g ⊙ x) and dw = Σ_rows dy ⊙ x·r. Under a gradient tape
 * the op keeps x, w and r only, where the op chain kept copies of every intermediate and ran five gradient ops. Measured on
 * [1024, 256] (Node 22, median of 60, same process, under load ≈ 3): forward + backward 6.2–6.4 vs 10.2–11.9 ms.
 *
 * @throws ProvenantError `LORA_SHAPE_MISMATCH` when x's last axis is not w's size.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const D = weight.shape[0]!;
  const N = x.size / D;
  if (weight.rank !== 1 || x.shape[x.rank - 1] !== D) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `rmsNorm: input [${x.shape}] does not end in the weight's size ${D}.`, { data: { input: x.shape, weight: weight.shape } });
  }
  const op = tf.customGrad(((xt: Tensor, wt: Tensor, save: tf.GradSaveFunc) => {
    const rs = tf.rsqrt(xt.mul(xt).mean(-1, true).add(eps));
    save([xt, wt, rs]);
    return {
      value: xt.mul(rs).mul(wt),
      gradFunc: (dy: Tensor, [sx, sw, sr]: Tensor[]) => {
        const dw = new Float64Array(D);
        // A frozen weight (LoRA on a frozen base) needs no gradient: its zeros are returned unread.
        const needWeightGrad = !(weight instanceof tf.Variable && !weight.trainable);
        const dx = tensorFilled(x.shape, (out) => {
          const G = valuesOf(dy);
          const X = valuesOf(sx!);
          const W = valuesOf(sw!);
          const R = valuesOf(sr!);
          for (let n = 0, o = 0; n < N; n++, o += D) {
            const r = R[n]!;
            let gx = 0;
            for (let j = 0; j < D; j++) gx += G[o + j]! * W[j]! * X[o + j]!;
            const c = (r * r * r * gx) / D;
            for (let j = 0; j < D; j++) out[o + j] = r * G[o + j]! * W[j]! - X[o + j]! * c;
            if (needWeightGrad) for (let j = 0; j < D; j++) dw[j]! += G[o + j]! * X[o + j]! * r;
          }
        });
        return [dx, tensorFilled([D], (out) => out.set(dw))];
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(x, weight) as Tensor;
}

/**
 * Activations by transformers' `ACT2FN` names: `gelu_new` (tanh approximation, GPT-2), `gelu` (exact, erf — BERT),
 * `relu`, `silu` (x·σ(x), Llama's SwiGLU gate).
 */
export function activation(name: 'gelu_new' | 'gelu' | 'relu' | 'silu', x: Tensor): Tensor {
  switch (name) {
    case 'gelu_new':
      return geluTanh(x);
    case 'gelu':
      return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
    case 'relu':
      return tf.relu(x);
    case 'silu':
      return x.mul(tf.sigmoid(x));
  }
}

/**
 * Embedding rows for ids [N]. `table` is [V, D], or with `transposed` the [D, V] kernel of a tied output head. A frozen
 * table is read by copying rows (`gatherRows`); a trainable one through oneHot(ids)·E, because `gather`'s gradient is
 * missing on wasm.
 */
export function embed(table: Variable, ids: Tensor, transposed = false): Tensor2D {
  if (!table.trainable) return gatherRows(table, ids, transposed);
  const flat = ids.reshape([-1]);
  const vocab = transposed ? table.shape[1]! : table.shape[0]!;
  const oneHot = tf.oneHot(flat as tf.Tensor1D, vocab).cast('float32');
  return linearOp(oneHot, transposed ? tf.transpose(table) : table, false, true);
}

/**
 * Rows `ids` of a [V, D] table (or columns of a [D, V] one, `transposed`) → [N, D], copied in a plain loop: tfjs-wasm's
 * `gather` took 12–20 ms for bench:hf's 1,024 × 256 lookup (a row copy is well under 1 ms).
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` for an id outside [0, V).
 */
export function gatherRows(table: Tensor, ids: Tensor, transposed = false): Tensor2D {
  const index = ids.dataSync();
  const [V, D] = transposed ? [table.shape[1]!, table.shape[0]!] : [table.shape[0]!, table.shape[1]!];
  for (let r = 0; r < index.length; r++) {
    const id = index[r]!;
    if (!(id >= 0 && id < V) || !Number.isInteger(id)) {
      throw new ProvenantError('MODEL_CONFIG_INVALID', `Token id ${id} at position ${r} is outside the ${V}-row embedding table.`, { data: { id, position: r, rows: V } });
    }
  }
  // Written in place (tensorFilled: no fresh JavaScript array); the table's view is taken after the output exists.
  return tensorFilled([index.length, D], (out) => {
    const values = valuesOf(table);
    for (let r = 0; r < index.length; r++) {
      const id = index[r]!;
      if (!transposed) out.set(values.subarray(id * D, (id + 1) * D), r * D);
      else for (let d = 0; d < D; d++) out[r * D + d] = values[d * V + id]!;
    }
  }) as Tensor2D;
}

/**
 * The additive attention bias [B, 1, T, S] for T queries after `past` cached positions over S = past + T keys: 0 where
 * query t may attend key s, float32's minimum elsewhere (transformers' eager mask). `causal` allows s ≤ past + t;
 * `slidingWindow` further requires past + t − s < window (Mistral); `mask` [B·S] (1 = real token) removes padded keys.
 * Returns null when nothing is masked.
 */
export function attentionBias(B: number, T: number, S: number, options: { causal: boolean; mask?: ArrayLike<number> | null; slidingWindow?: number | null }): Tensor | null {
  const past = S - T;
  const { causal, mask, slidingWindow } = options;
  const needsMask = mask ? Array.from({ length: B * S }, (_, i) => mask[i]).some((m) => !m) : false;
  if (!needsMask && !(causal && T > 1) && !(slidingWindow && S > slidingWindow)) return null;
  return tensorFilled([B, 1, T, S], (out) => {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * S;
        const q = past + t;
        for (let s = 0; s < S; s++) {
          let ok = !causal || s <= q;
          if (ok && slidingWindow) ok = q - s < slidingWindow;
          if (ok && mask) ok = mask[b * S + s] !== 0;
          out[row + s] = ok ? 0 : FLOAT32_MIN;
        }
      }
    }
  });
}

/** [B·T, H·d] → [B·H, T, d] (one head per batch row of the attention products). */
export function toHeads(x: Tensor, B: number, T: number, H: number, d: number): Tensor {
  return x.reshape([B, T, H, d]).transpose([0, 2, 1, 3]).reshape([B * H, T, d]);
}

/** [B·H, T, d] → [B·T, H·d]. */
export function fromHeads(x: Tensor, B: number, T: number, H: number, d: number): Tensor2D {
  return x.reshape([B, H, T, d]).transpose([0, 2, 1, 3]).reshape([B * T, H * d]) as Tensor2D;
}

/**
 * Scaled dot-product attention, eager form: softmax(q·kᵀ·scale + bias)·v with q [B·H, T, d], k and v [B·H, S, d],
 * bias [B, 1, T, S] or null. Returns [B·T, H·d]. The products are `batchMatMul`/`batchMatMulNT` (custom gradients with
 * explicit transposes; depthwise-convolution kernels on wasm), or with `gemm` (the model's linear layers' workspace, for
 * at least `GEMM_MIN_ROWS` query tokens) the float32 WebAssembly product, read through strides.
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, B: number, H: number, T: number, S: number, d: number, scale: number, gemm?: GemmF32): Tensor2D {
  const [productNT, productNN] = attentionProducts(gemm, B * T);
  const probabilities = scaledMaskedSoftmax(productNT(q, k), scale, bias, [B, H, T, S]);
  return fromHeads(productNN(probabilities, v), B, T, H, d);
}



/**
 * Grouped-query attention (Ainslie et al. 2023) with q [B, H, T, d] and k, v [B, H_kv, S, d]: query head h reads
 * key/value head ⌊h / (H / H_kv)⌋, as transformers' `repeat_kv`, computed by stacking each group's queries instead of
 * copying keys and values (a `tile` on wasm costs more than the attention products). Returns [B·T, H·d]. `gemm`: as `attend`.
 */
export function attendGrouped(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, B: number, H: number, Hkv: number, T: number, S: number, d: number, scale: number, gemm?: GemmF32): Tensor2D {
  const groups = H / Hkv;
  const [productNT, productNN] = attentionProducts(gemm, B * T);
  // [B, H, T, d] = [B, H_kv, groups, T, d] → [B·H_kv, groups·T, d]: a reshape, no copy.
  const scores = productNT(q.reshape([B * Hkv, groups * T, d]), k.reshape([B * Hkv, S, d]));
  const probabilities = scaledMaskedSoftmax(scores, scale, bias, [B, H, T, S]);
  return fromHeads(productNN(probabilities, v.reshape([B * Hkv, S, d])), B, T, H, d);
}

/**
 * Rows of h [N, D] picked by index, as a one-hot product (the gradient of `gather` is missing on wasm): a classifier head
 * on the last real token, or BERT's pooler on token 0.
 */
export function selectRows(h: Tensor, rows: readonly number[], needGrad: boolean): Tensor2D {
  const N = h.shape[0]!;
  const selector = tf.oneHot(tf.tensor1d(Int32Array.from(rows), 'int32'), N).cast('float32');
  return linearOp(selector, h, false, needGrad);
}

/** Positions 0..T−1 for every row (transformers' plain forward pass, whatever the mask), offset by `past`. */
export function defaultPositions(B: number, T: number, past = 0): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + t] = past + t;
  return out;
}

/** Whether any of these trainable flags is set: the next projection then needs its input gradient. */
export const anyTrainable = (...weights: Array<Variable | null | undefined>): boolean => weights.some((w) => w?.trainable === true);

/** The context for a projection whose input only depends on frozen weights and data (no input gradient needed). */
export const dataInput = (ctx: ForwardContext, upstreamTrainable: boolean): ForwardContext => ({ ...ctx, inputIsData: !upstreamTrainable });
