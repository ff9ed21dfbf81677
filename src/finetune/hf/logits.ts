/**
 * `computeLogits(model, inputs)`: one forward pass with plain arrays in and a row-major Float32Array out — what
 * transformers' `model(**inputs).logits` returns, for comparing with PyTorch and for callers that do not want tensors.
 */
import { ProvenantError, describeValue, resolve, type ParamTable } from '../../core/index.js';
import { tf, type Tensor } from '../tf.js';
import type { PretrainedModel } from './pretrained-model.js';

/** A batch of equal-length rows ([B][T]), or an int32 tensor [B, T]. */
export type IdRows = ReadonlyArray<ReadonlyArray<number>> | Tensor;

export interface ComputeLogitsInputs {
  inputIds: IdRows;
  /** 1 = real token, 0 = padding, [B][T]; default all ones. */
  attentionMask?: IdRows;
  /** BERT segment ids [B][T]; default zeros. */
  tokenTypeIds?: IdRows;
  /** Positions [B][T]; default 0..T−1 for every row, whatever the mask (as transformers' forward pass). */
  positionIds?: IdRows;
}

/** The input names of {@link computeLogits}, so a misspelt one (`token_type_ids`, `attention_mask`) is refused, never ignored. */
const COMPUTE_LOGITS_INPUTS: ParamTable = Object.freeze({
  name: 'computeLogits',
  // The code of every other input error here and in model.logits.
  code: 'MODEL_CONFIG_INVALID',
  fields: [
    { name: 'inputIds', default: null, required: true, meaning: 'Token ids [B][T].' },
    { name: 'attentionMask', default: null, meaning: '1 = real token, 0 = padding [B][T]; absent: all ones.' },
    { name: 'tokenTypeIds', default: null, meaning: 'BERT segment ids [B][T]; absent: zeros.' },
    { name: 'positionIds', default: null, meaning: 'Positions [B][T]; absent: 0..T−1 for every row.' },
  ],
});

export interface LogitsResult {
  /** [B, T, V] (causal LM), [B, C] (sequence classification) or [B, T, D] (bare model: its last hidden state). */
  shape: number[];
  data: Float32Array;
}

/**
 * Id rows [B][T] (arrays, typed arrays or a rank-2 tensor) → { flat int32 values, row-major [B·T], B, T }. Every row must
 * have the same non-zero length: pad before calling. `what` names the input in errors (e.g. `'inputIds'`).
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` for a tensor not of rank 2, an empty or non-array input, or ragged rows
 * (each offending row and its length listed).
 *
 * @example
 * ```ts
 * import { flattenRows } from 'provenant/finetune';
 *
 * flattenRows([[1, 5, 9], [2, 6, 0]], 'inputIds'); // { values: Int32Array [1, 5, 9, 2, 6, 0], B: 2, T: 3 }
 * ```
 */
export function flattenRows(rows: IdRows, what: string): { values: Int32Array; B: number; T: number } {
  if (rows instanceof tf.Tensor) {
    if (rows.rank !== 2) throw new ProvenantError('MODEL_CONFIG_INVALID', `${what} must be [B, T], got [${rows.shape}].`);
    return { values: Int32Array.from(rows.dataSync() as ArrayLike<number>), B: rows.shape[0]!, T: rows.shape[1]! };
  }
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) || ArrayBuffer.isView(r))) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `${what} must be a non-empty array of rows, got ${describeValue(rows)}.`);
  }
  // The guard above narrows differently across TypeScript settings (tsup's declaration build reads the union of
  // every element type); name the element type once.
  const list = rows as readonly ArrayLike<number>[];
  const B = list.length;
  const T = list[0]!.length;
  const ragged = list.map((r, i) => [i, r.length] as const).filter(([, n]) => n !== T);
  if (ragged.length > 0 || T === 0) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `${what} rows must all have the same non-zero length (pad them).`, {
      metaMessages: ragged.map(([i, n]) => `row ${i}: ${n} tokens, row 0: ${T}`),
    });
  }
  const values = new Int32Array(B * T);
  list.forEach((r, b) => {
    for (let t = 0; t < T; t++) {
      const v = r[t]!;
      if (!Number.isInteger(v)) throw new ProvenantError('MODEL_CONFIG_INVALID', `${what}[${b}][${t}] must be an integer, got ${describeValue(v)}.`);
      values[b * T + t] = v;
    }
  });
  return { values, B, T };
}

/**
 * The model's output for a batch, as a row-major Float32Array with its shape; equal to transformers' eager float32
 * logits within 1e-4 (tested on the shared fixtures). Left padding shifts positions exactly as transformers' plain
 * forward pass does (positions 0..T−1); pass `positionIds` to number them from the mask instead.
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` for an unknown input name (with the nearest one: `token_type_ids` →
 *   `tokenTypeIds`), ragged or mis-shaped rows, ids outside their range (`inputIds` [0, vocab_size), `tokenTypeIds`
 *   [0, type_vocab_size), `positionIds` [0, n_positions / max_position_embeddings): each named with row and position),
 *   or attention-mask values other than 0 and 1.
 *
 * @example
 * ```ts
 * import { computeLogits, loadPretrained } from 'provenant/finetune';
 * const model = await loadPretrained('./tiny-gpt2');
 * const { shape, data } = computeLogits(model, { inputIds: [[1, 5, 9, 0]], attentionMask: [[1, 1, 1, 0]] });
 * // shape [1, 4, 128]; data[(b·T + t)·V + v]
 * ```
 */
export function computeLogits(model: PretrainedModel, inputs: ComputeLogitsInputs): LogitsResult {
  resolve(COMPUTE_LOGITS_INPUTS, inputs);
  const ids = flattenRows(inputs.inputIds, 'inputIds');
  const same = (rows: IdRows | undefined, what: string) => {
    if (rows === undefined) return null;
    const r = flattenRows(rows, what);
    if (r.B !== ids.B || r.T !== ids.T) throw new ProvenantError('MODEL_CONFIG_INVALID', `${what} is [${r.B}, ${r.T}], inputIds [${ids.B}, ${ids.T}].`);
    return r.values;
  };
  const mask = same(inputs.attentionMask, 'attentionMask');
  const types = same(inputs.tokenTypeIds, 'tokenTypeIds');
  const positions = same(inputs.positionIds, 'positionIds');
  const out = tf.tidy(() =>
    model.logits({
      inputIds: tf.tensor2d(ids.values, [ids.B, ids.T], 'int32'),
      attentionMask: mask,
      tokenTypeIds: types ? tf.tensor2d(types, [ids.B, ids.T], 'int32') : null,
      positionIds: positions,
    }),
  );
  const data = out.dataSync() as Float32Array;
  const width = out.shape[1]!;
  out.dispose();
  const shape = model.config.task === 'sequence-classification' ? [ids.B, width] : [ids.B, ids.T, width];
  return { shape, data };
}
