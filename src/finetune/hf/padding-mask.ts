/**
 * Attention masks for padded BERT batches. BERT attends in both directions, so without a mask every real token also
 * attends to the padding after it and the padded row's outputs change (transformers does the same when no mask is given:
 * `computeLogits` keeps that behaviour, to stay equal to it). The decoders need no mask for right padding (a real token
 * never attends to a later one). So: every Provenant path that builds a padded batch builds its mask (`makeBatch`,
 * `toEvalModel`); the `Model` contract's `forward(ids)`, which has no mask argument (per-example gradients and attribution
 * featurization call it on right-padded id rows), derives BERT's mask from `pad_token_id`, which never occurs as a real
 * token; and a hand-made batch that reaches the loss with padding but no mask is refused, naming its rows.
 */
import { ProvenantError } from '../../core/index.js';
import type { HfModelConfig } from './config.js';

/**
 * Rows of ids [B, T] (row-major) that contain the pad id; none when the model has no pad id (`padTokenId` null).
 *
 * @example
 * ```ts
 * import { paddedRows } from 'provenant/finetune';
 *
 * paddedRows([101, 7, 102, 101, 102, 0], 2, 3, 0); // [1]: the second row ends in pad id 0
 * ```
 */
export function paddedRows(ids: ArrayLike<number>, B: number, T: number, padTokenId: number | null): number[] {
  if (padTokenId === null) return [];
  const rows: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (ids[b * T + t] === padTokenId) {
        rows.push(b);
        break;
      }
    }
  }
  return rows;
}

/** Whether this model reads padding wrongly without a mask: a bidirectional encoder (BERT) with a pad id. */
export const needsPaddingMask = (config: HfModelConfig): boolean => config.architecture === 'bert' && config.padTokenId !== null;

/**
 * BERT's mask [B·T] from its pad id (1 = real token, 0 = `pad_token_id`), or null when no row is padded (or the model is
 * not BERT): what the `Model` contract's `forward(ids)` uses.
 *
 * @example
 * ```ts
 * import { loadPretrained, maskFromPadding } from 'provenant/finetune';
 *
 * const bert = await loadPretrained('../shared/hf-fixtures/bert'); // pad_token_id 0
 * maskFromPadding(bert.config, [101, 7, 102, 101, 102, 0], 2, 3); // Int32Array [1, 1, 1, 1, 1, 0]
 * ```
 */
export function maskFromPadding(config: HfModelConfig, ids: ArrayLike<number>, B: number, T: number): Int32Array | null {
  if (!needsPaddingMask(config) || paddedRows(ids, B, T, config.padTokenId).length === 0) return null;
  return Int32Array.from({ length: B * T }, (_, i) => (ids[i] === config.padTokenId ? 0 : 1));
}

/**
 * Refuses a padded BERT batch that comes without an attention mask, naming the padded rows.
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` — "row 2 contains pad_token_id 0 but the batch has no attention mask".
 *
 * @example
 * ```ts
 * import { assertPaddingMasked, loadPretrained } from 'provenant/finetune';
 *
 * const bert = await loadPretrained('../shared/hf-fixtures/bert');
 * const ids = [101, 7, 102, 101, 102, 0]; // [2, 3], row 1 padded
 * assertPaddingMasked(bert.config, ids, 2, 3, [1, 1, 1, 1, 1, 0], 'my batch'); // passes: the mask is given
 * assertPaddingMasked(bert.config, ids, 2, 3, null, 'my batch'); // throws MODEL_CONFIG_INVALID naming row 1
 * ```
 */
export function assertPaddingMasked(config: HfModelConfig, ids: ArrayLike<number>, B: number, T: number, mask: ArrayLike<number> | null | undefined, where: string): void {
  if (mask || !needsPaddingMask(config)) return;
  const rows = paddedRows(ids, B, T, config.padTokenId);
  if (rows.length === 0) return;
  throw new ProvenantError(
    'MODEL_CONFIG_INVALID',
    `${where}: row ${rows[0]} of this ${config.className} batch is padded (pad_token_id ${config.padTokenId}) but the batch has no attention mask, so BERT would attend to the padding. Build batches with makeBatch (it adds the mask) or pass attentionMask.`,
    { data: { rows, padTokenId: config.padTokenId }, metaMessages: rows.slice(0, 10).map((r) => `row ${r} contains pad_token_id ${config.padTokenId}`) },
  );
}
