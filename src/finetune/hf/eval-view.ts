/**
 * A Hugging Face model seen as evaluation's structural `EvalModel` (src/eval/eval-model.ts; restated structurally here
 * because finetune does not import eval): class probabilities for texts (or id lists) through the model's tokenizer and
 * classification head, and per-text negative log-likelihood / next-token distributions through its LM head, so
 * `compareModels`, perplexity, bits per character and the forgetting measures run on these models as on the tiny one.
 *
 * Language scoring: each text is encoded with the tokenizer's special tokens; a text longer than the model's positions
 * is cut into windows of at most maxPositions + 1 tokens overlapping by one, so every token after the first is predicted
 * exactly once. `characters` counts the characters those predicted tokens cover: the whole text when the first token is
 * a special one (a BOS), else the text less the first token's characters.
 */
import { ProvenantError } from '../../core/index.js';
import { activeAdapters, setActiveAdapters } from '../lora/adapter.js';
import { tf } from '../tf.js';
import type { PretrainedModel } from './pretrained-model.js';

export interface PretrainedEvalViewOptions {
  name?: string;
  /** Adapters active while the view runs (`[]` = the base); the model's own active set is restored after each call. */
  adapters?: readonly string[];
  /** Texts (or windows) per forward pass; default 16. */
  batchSize?: number;
  /** Classification: truncate inputs to this many tokens; default the model's positions. */
  maxTokens?: number;
}

/** One text's language score, as src/eval's `TextScore`. */
export interface PretrainedTextScore {
  nll: number;
  tokens: number;
  characters: number;
}

export interface PretrainedEvalView {
  readonly name: string;
  predictProba(inputs: ReadonlyArray<string | ArrayLike<number>>): Float64Array[];
  scoreText(texts: readonly string[]): PretrainedTextScore[];
  nextTokenProba(texts: readonly string[]): Float64Array[][];
}

/**
 * @example
 * ```ts
 * const base = pretrainedEvalView(model, { name: 'base', adapters: [] });
 * const tuned = pretrainedEvalView(model, { name: 'tuned', adapters: ['default'] });
 * await compareModels(base, tuned, [{ name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts } }]);
 * ```
 */
export function pretrainedEvalView(model: PretrainedModel, options: PretrainedEvalViewOptions = {}): PretrainedEvalView {
  const batchSize = options.batchSize ?? 16;
  const limit = model.config.maxPositions;
  const maxTokens = options.maxTokens ?? limit;
  if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > limit) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `pretrainedEvalView: batchSize ≥ 1 and maxTokens in [1, ${limit}] are needed.`);
  }
  const adapters = options.adapters ? [...options.adapters] : undefined;
  const name = options.name ?? `${model.config.modelType}${adapters ? ` [${adapters.join(', ') || 'base'}]` : ''}`;
  const tokenizer = model.tokenizer;
  const eos = Array.isArray(model.config.eosTokenId) ? model.config.eosTokenId[0] : model.config.eosTokenId;
  const padId = model.config.padTokenId ?? eos ?? 0;

  const withView = <T>(fn: () => T): T => {
    if (!adapters) return fn();
    const hasAdapters = [...model.linears.values()].some((l) => l.adapters.size > 0);
    if (!hasAdapters) {
      if (adapters.length > 0) throw new ProvenantError('ADAPTER_NOT_FOUND', `The model has no adapters, but the view asks for ${adapters.join(', ')}.`);
      return fn();
    }
    const previous = activeAdapters(model);
    setActiveAdapters(model, adapters);
    try {
      return fn();
    } finally {
      setActiveAdapters(model, previous);
    }
  };
  const needTokenizer = () => {
    if (!tokenizer) throw new ProvenantError('EVAL_INPUT_INVALID', 'This model has no tokenizer; pass token ids instead of texts.');
    return tokenizer;
  };
  const idsOf = (input: string | ArrayLike<number>): number[] => (typeof input === 'string' ? needTokenizer().encode(input) : Array.from(input));

  /** Right-padded batch forward; returns the head's output rows. */
  const run = (rows: number[][]): { values: Float32Array; width: number; T: number } => {
    const T = Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * T).fill(padId);
    const mask = new Int32Array(rows.length * T);
    rows.forEach((r, b) => {
      ids.set(r, b * T);
      mask.fill(1, b * T, b * T + r.length);
    });
    const out = tf.tidy(() => {
      const logits = model.logits({ inputIds: tf.tensor2d(ids, [rows.length, T], 'int32'), attentionMask: mask });
      return model.config.task === 'sequence-classification' ? tf.softmax(logits) : tf.logSoftmax(logits);
    });
    const values = out.dataSync() as Float32Array;
    const width = out.shape[1]!;
    out.dispose();
    return { values, width, T };
  };

  const windows = (texts: readonly string[]) => {
    const tok = needTokenizer();
    const list: Array<{ text: number; ids: number[] }> = [];
    const scores: PretrainedTextScore[] = texts.map((text, t) => {
      const ids = tok.encode(text);
      for (let start = 0; start + 1 < ids.length; start += limit) list.push({ text: t, ids: ids.slice(start, start + limit + 1) });
      const first = ids[0];
      const special = first !== undefined && tok.decode([first], { skipSpecialTokens: true }) === '';
      const characters = ids.length <= 1 ? 0 : special ? text.length : Math.max(0, text.length - tok.decode([first!]).length);
      return { nll: 0, tokens: Math.max(0, ids.length - 1), characters };
    });
    return { list, scores };
  };
  const eachWindow = (list: Array<{ text: number; ids: number[] }>, each: (w: { text: number; ids: number[] }, logp: Float32Array, V: number) => void) => {
    if (model.config.task !== 'causal-lm') throw new ProvenantError('EVAL_INPUT_INVALID', `Language scoring needs a causal LM; this is a ${model.config.className}.`);
    for (let start = 0; start < list.length; start += batchSize) {
      const slice = list.slice(start, start + batchSize);
      const { values, width, T } = run(slice.map((w) => w.ids.slice(0, -1)));
      slice.forEach((w, b) => each(w, values.subarray(b * T * width, (b * T + w.ids.length - 1) * width), width));
    }
  };

  return {
    name,
    predictProba(inputs) {
      if (model.config.task !== 'sequence-classification') {
        throw new ProvenantError('EVAL_INPUT_INVALID', `Classification needs a classification head; load with loadPretrained(dir, { numLabels }). This is a ${model.config.className}.`);
      }
      return withView(() => {
        const out: Float64Array[] = [];
        for (let start = 0; start < inputs.length; start += batchSize) {
          const rows = inputs.slice(start, start + batchSize).map((x) => idsOf(x).slice(0, maxTokens));
          const { values, width } = run(rows);
          for (let i = 0; i < rows.length; i++) out.push(Float64Array.from(values.subarray(i * width, (i + 1) * width)));
        }
        return out;
      });
    },
    scoreText(texts) {
      return withView(() => {
        const { list, scores } = windows(texts);
        eachWindow(list, (w, logp, V) => {
          for (let j = 0; j + 1 < w.ids.length; j++) scores[w.text]!.nll -= logp[j * V + w.ids[j + 1]!]!;
        });
        return scores;
      });
    },
    nextTokenProba(texts) {
      return withView(() => {
        const { list } = windows(texts);
        const rows: Float64Array[][] = texts.map(() => []);
        eachWindow(list, (w, logp, V) => {
          for (let j = 0; j + 1 < w.ids.length; j++) rows[w.text]!.push(Float64Array.from(logp.subarray(j * V, (j + 1) * V), Math.exp));
        });
        return rows;
      });
    },
  };
}
