/**
 * The heads of the decoder models: next-token logits on every position, or class logits read at each row's last
 * non-padding token — as transformers' `*ForSequenceClassification` do, which find that token from `pad_token_id` in the
 * ids (not from the attention mask): the rightmost position whose id is not the pad id (so right and left padding both
 * work), or the last position when the model has no pad id.
 */
import type { ForwardContext, Linear } from '../linear.js';
import { linearForward } from '../linear.js';
import type { Tensor2D } from '../tf.js';
import type { HfForwardInputs } from './architecture.js';
import type { HfModelConfig } from './config.js';
import { selectRows } from './layers.js';

/**
 * Index of the last non-pad token of each row of ids [B, T] (row-major, length B·T) — the position transformers'
 * `*ForSequenceClassification` heads read: the rightmost id that is not `padTokenId`, so right and left padding both
 * work; an all-pad row reads position 0 (transformers' argmax over a zero mask); with no pad id (null), T − 1.
 *
 * @example
 * ```ts
 * import { lastTokenIndices } from 'provenant/finetune';
 *
 * lastTokenIndices([5, 8, 0, 0, 7, 9, 4, 2], 2, 4, 0); // [1, 3]
 * ```
 */
export function lastTokenIndices(ids: ArrayLike<number>, B: number, T: number, padTokenId: number | null): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let last = T - 1;
    if (padTokenId !== null) {
      last = -1;
      for (let t = 0; t < T; t++) if (ids[b * T + t] !== padTokenId) last = t;
      // transformers' (token_indices * non_pad_mask).argmax(-1): an all-pad row reads position 0.
      if (last < 0) last = 0;
    }
    out.push(last);
  }
  return out;
}

export function classificationHead(config: HfModelConfig, head: Linear | null, h: Tensor2D, inputs: HfForwardInputs, ctx: ForwardContext): Tensor2D {
  if (config.task === 'base' || !head) return h;
  const inner = { ...ctx, inputIsData: false };
  if (config.task === 'causal-lm') return linearForward(head, h, inner);
  const [B, T] = inputs.inputIds.shape as [number, number];
  const last = lastTokenIndices(inputs.inputIds.dataSync() as Int32Array, B, T, config.padTokenId);
  return linearForward(head, selectRows(h, last.map((t, b) => b * T + t), true), inner);
}
