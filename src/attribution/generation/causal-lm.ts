/**
 * The causal language model as attribution sees it: any `Model` whose next-token logits can be read, cut into windows of
 * its context. This is the only place the generation room touches a model's forward pass, so every causal model that
 * meets the generic `Model` interface (the shipped character transformer today, Hugging Face GPT-2 / Llama loaded by
 * `loadPretrained` tomorrow) plugs in: `linears` keyed by module path carry the LoRA adapters, and the logits come from
 * `forwardLm(ids, ctx)` when the model has one, else from `forward(ids, ctx)`.
 *
 * Windows: a sequence longer than the context is scored as the strided sliding windows transformers' perplexity guide uses
 * (Hugging Face, "Perplexity of fixed-length models"): window w reads input positions [s_w, s_w + C) and scores only the
 * targets no earlier window scored, so every target token is scored exactly once, with at least C − stride tokens of
 * context once the first window is full. The loss of an example is the sum over its scored targets, so its gradient is
 * the sum of its windows' gradients — exact, no approximation beyond the windowing itself.
 */
import { ProvenantError } from '../../core/index.js';
import { tf, type ForwardContext, type Model } from '../../finetune/index.js';

/** A model that can give next-token logits. `forwardLm`, when present, wins over `forward`. */
export interface CausalLmModel extends Model {
  forwardLm?(ids: tf.Tensor, ctx?: ForwardContext): tf.Tensor;
}

/** A tokenizer as generation needs it (the character tokenizer and Hugging Face tokenizers both fit). */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** One training row or query, tokenized: the loss is taken on tokens at index ≥ `promptLength` (the prompt is masked). */
export interface CausalExample {
  ids: ArrayLike<number>;
  /** Tokens of `ids` that are prompt (no loss on them). Default 0: every token after the first is a target. */
  promptLength?: number;
}

/** One window of one example: `input` (≤ context tokens) and, per input position, the scored target or −1. */
export interface CausalWindow {
  example: number;
  input: Int32Array;
  targets: Int32Array;
  /** Number of targets ≥ 0 in `targets`. */
  scored: number;
}

/**
 * Next-token logits [B·T, V] for int32 ids [B, T]: row b·T + t predicts the token after position t. Reads the model's
 * `forwardLm` when present, else `forward`; a [B, T, V] answer is reshaped. Call inside a tidy or a gradient function
 * (the result is a tensor the caller disposes).
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when the model does not return one row per position (e.g. a
 *   classification head).
 * @example
 * ```ts
 * import { causalLogits, type CausalLmModel } from 'provenant/attribution';
 * import * as tf from '@tensorflow/tfjs-core';
 *
 * declare const model: CausalLmModel;
 * const ids = tf.tensor2d([[5, 6, 7]], [1, 3], 'int32');
 * const logits = causalLogits(model, ids); // Tensor2D [3, vocab]: row t scores the token after position t
 * tf.dispose([ids, logits]);
 * ```
 */
export function causalLogits(model: CausalLmModel, ids: tf.Tensor, ctx: ForwardContext = {}): tf.Tensor2D {
  const [B, T] = ids.shape as [number, number];
  const z = model.forwardLm ? model.forwardLm(ids, ctx) : model.forward(ids, ctx);
  if (z.rank === 3 && z.shape[0] === B && z.shape[1] === T) return z.reshape([B * T, z.shape[2]!]) as tf.Tensor2D;
  if (z.rank !== 2 || z.shape[0] !== B * T) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `A causal LM must return next-token logits [B·T, V] (or [B, T, V]); got [${z.shape}] for ids [${B}, ${T}].`, {
      details: 'A model with a classification head attributes through attributeQuery; generation needs the LM head.',
    });
  }
  return z as tf.Tensor2D;
}

/**
 * The model's context length in tokens: `maxSeqLen` (the shipped transformer), `maxPositions` (a checkpoint loaded by
 * `loadPretrained`, from `n_positions` / `max_position_embeddings`), or those raw config names (`n_ctx` too).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` when the config names no positive integer context length.
 * @example
 * ```ts
 * import { contextLength } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const gpt2: Model; // loadPretrained('models/gpt2')
 * contextLength(gpt2); // 1024 (n_positions)
 * ```
 */
export function contextLength(model: Model): number {
  const c = model.config as Record<string, unknown>;
  for (const key of ['maxSeqLen', 'maxPositions', 'n_positions', 'max_position_embeddings', 'n_ctx']) {
    const v = c[key];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The model config names no context length (maxSeqLen, n_positions or max_position_embeddings).');
}

/**
 * Cuts examples into scored windows of at most `context` input tokens (see the module comment), dropping windows with
 * nothing to score. `stride` defaults to half the context.
 *
 * @example
 * ```ts
 * import { causalWindows } from 'provenant/attribution';
 * causalWindows([{ ids: [5, 6, 7, 8], promptLength: 2 }], 8); // one window: input [5, 6, 7], targets [-1, 7, 8]
 * ```
 */
export function causalWindows(examples: readonly CausalExample[], context: number, stride = Math.max(1, Math.floor(context / 2))): CausalWindow[] {
  if (!Number.isInteger(context) || context < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `context must be a positive integer, got ${context}.`);
  if (!Number.isInteger(stride) || stride < 1 || stride > context) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `stride must be an integer in [1, context = ${context}], got ${stride}.`);
  }
  const out: CausalWindow[] = [];
  examples.forEach((example, e) => {
    const ids = example.ids;
    const L = ids.length;
    const p = example.promptLength ?? 0;
    if (!Number.isInteger(p) || p < 0 || p > L) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Example ${e}: promptLength ${p} is not in [0, ${L}].`, { data: { example: e } });
    }
    for (let i = 0; i < L; i++) {
      if (!Number.isInteger(ids[i]) || ids[i]! < 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Example ${e}: token ${i} is ${ids[i]}, not a token id.`, { data: { example: e } });
    }
    if (L < 2) return;
    const firstTarget = Math.max(1, p);
    let scoredUpTo = 0; // target indices ≤ this are done
    let start = 0;
    for (;;) {
      const end = Math.min(start + context, L - 1); // inputs [start, end), targets start+1 … end
      const input = new Int32Array(end - start);
      const targets = new Int32Array(end - start).fill(-1);
      let scored = 0;
      for (let j = start; j < end; j++) {
        input[j - start] = ids[j]!;
        const k = j + 1;
        if (k > scoredUpTo && k >= firstTarget) {
          targets[j - start] = ids[k]!;
          scored++;
        }
      }
      if (scored > 0) out.push({ example: e, input, targets, scored });
      scoredUpTo = end;
      if (end >= L - 1) break;
      start = Math.min(start + stride, L - 1 - context);
    }
  });
  return out;
}

/**
 * The gradient of the summed token cross-entropy with respect to the logits, ∂(Σ_scored −log p(y_t))/∂z_t = p_t − e_{y_t}
 * on scored rows and 0 elsewhere, computed in float64 from logits [R, V] (row-major, R = windows · T), plus each window's
 * summed loss in nats (length `windows`). `targets[r]` < 0 marks an unscored row (prompt or padding).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` when a target is outside the vocabulary.
 * @example
 * ```ts
 * import { tokenLossGradients } from 'provenant/attribution';
 *
 * const logits = new Float32Array([0, 0, 0, 2, 0, 0]); // 2 rows × vocab 3, one window
 * const { grad, loss } = tokenLossGradients(logits, 3, new Int32Array([-1, 0]), 1);
 * // grad: row 0 zeros (unscored), row 1 ≈ [-0.2130, 0.1065, 0.1065]; loss ≈ [0.2395] (nats)
 * ```
 */
export function tokenLossGradients(logits: Float32Array, vocab: number, targets: Int32Array, windows: number): { grad: Float32Array; loss: Float64Array } {
  const rows = targets.length;
  const perWindow = rows / windows;
  const grad = new Float32Array(rows * vocab);
  const loss = new Float64Array(windows);
  const p = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    const y = targets[r]!;
    if (y < 0) continue;
    if (y >= vocab) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Target token ${y} is outside the model's vocabulary of ${vocab}.`);
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, logits[r * vocab + c]!);
    let sum = 0;
    for (let c = 0; c < vocab; c++) sum += p[c] = Math.exp(logits[r * vocab + c]! - max);
    for (let c = 0; c < vocab; c++) grad[r * vocab + c] = p[c]! / sum - (c === y ? 1 : 0);
    loss[Math.floor(r / perWindow)]! += -(logits[r * vocab + y]! - max - Math.log(sum));
  }
  return { grad, loss };
}

/**
 * Right-pads windows into one int32 batch [B, T] (row-major, T the longest window's input, at least 1) and the matching
 * targets, −1 at pads so they are never scored.
 *
 * @example
 * ```ts
 * import { causalWindows, packWindows } from 'provenant/attribution';
 *
 * const windows = causalWindows([{ ids: [5, 6, 7, 8] }, { ids: [9, 10] }], 8);
 * const { ids, targets, T } = packWindows(windows); // T = 3; ids [5, 6, 7, 9, 0, 0]; targets [6, 7, 8, 10, -1, -1]
 * ```
 */
export function packWindows(windows: readonly CausalWindow[], padId = 0): { ids: Int32Array; targets: Int32Array; T: number } {
  const T = Math.max(1, ...windows.map((w) => w.input.length));
  const ids = new Int32Array(windows.length * T).fill(padId);
  const targets = new Int32Array(windows.length * T).fill(-1);
  windows.forEach((w, b) => {
    ids.set(w.input, b * T);
    targets.set(w.targets, b * T);
  });
  return { ids, targets, T };
}
