/**
 * `toEvalModel`: the bridge from the fine-tuning engine's models (`src/finetune`) to evaluation's structural
 * {@link EvalModel}. Logistic regression and MLP classify feature vectors; the transformer classifies texts through
 * its tokenizer and classification head, and scores texts through its LM head.
 *
 * One model object can be viewed as base and as tuned: `adapters` names the LoRA adapters active while the view runs
 * (`[]` = the base model), and the model's own active set is restored after every call — so a sweep compares base and
 * tuned without copying weights.
 *
 * Language scoring: a text of n tokens (or a language task's `tokenIds` sequence, taken as is) is cut into consecutive
 * windows of at most maxTokens + 1 tokens that overlap by one, each predicting its tokens from the context inside the
 * window, so every token but the first is predicted exactly once (n − 1 predictions). The character tokenizer makes `characters` = `tokens` (characters of the normalised text;
 * see tokenizer.ts); a Hugging Face tokenizer's `characters` are those of the decoded predicted tokens.
 *
 * Hugging Face models (`loadPretrained`: GPT-2, the Llama family, BERT) are viewed through their own tokenizer and
 * `logits`: a `sequence-classification` head classifies texts (right-padded with the pad token, masked), a `causal-lm`
 * head scores texts. The context — the longest `maxTokens` accepted, and the default — is the model's own: `maxSeqLen`
 * for the zoo transformer, `n_positions` / `max_position_embeddings` for a Hugging Face model, so a model is evaluated
 * at the sequence length it was trained at.
 */
import { ProvenantError, resolve, type ParamTable } from '../core/index.js';
import {
  activeAdapters,
  createCharTokenizer,
  setActiveAdapters,
  tf,
  type CharTokenizer,
  type Model,
  type TransformerModel,
} from '../finetune/index.js';
import type { EvalModel, LanguageInput } from './eval-model.js';
import type { TextScore } from './perplexity.js';

/** What a finetune model's view classifies: feature vectors (LR, MLP) or texts / token ids (transformer). */
export type FinetuneInput = string | ArrayLike<number>;

export interface ToEvalModelOptions {
  /** Shown in tables. Default: the model kind, with the adapters in brackets. */
  name?: string;
  /**
   * Adapters active while this view runs: `[]` for the base model, a list for the tuned one. Default: whatever is active
   * on the model at each call.
   */
  adapters?: readonly string[];
  /** Items (texts or windows) per forward pass. Default 32. */
  batchSize?: number;
  /**
   * Tokenizer of a zoo transformer (`createTransformer`); default the character tokenizer. A Hugging Face model
   * (`loadPretrained`) is always viewed through its own tokenizer (`model.tokenizer`), so passing one for it is an
   * `EVAL_INPUT_INVALID` error; for a model loaded without a tokenizer, give language tasks `dataset.tokenIds` and
   * classification tasks token-id inputs.
   */
  tokenizer?: CharTokenizer;
  /**
   * Tokens per classified input and per scoring window (longer inputs are truncated, longer texts windowed). Default and
   * maximum: the model's context (`maxSeqLen`; a Hugging Face model's `maxPositions`).
   */
  maxTokens?: number;
}

/** What a Hugging Face model (`loadPretrained`) exposes that a view needs; matched structurally. */
interface HfViewModel extends Model {
  readonly config: Readonly<{ task: string; maxPositions: number; padTokenId: number | null; numLabels?: number }>;
  readonly tokenizer: {
    encode(text: string): number[];
    decode?(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  } | null;
  logits(inputs: { inputIds: tf.Tensor; attentionMask?: ArrayLike<number> | null }): tf.Tensor;
}

function isHfModel(model: Model): model is HfViewModel {
  const config = model.config as { task?: unknown; maxPositions?: unknown };
  return typeof (model as { logits?: unknown }).logits === 'function' && typeof config.task === 'string' && typeof config.maxPositions === 'number';
}

/** A window of token ids and the rows of it that are predicted. */
interface Window {
  text: number;
  ids: number[];
}

function hasAdapterSystem(model: Model): boolean {
  for (const l of model.linears.values()) if (l.adapters.size > 0) return true;
  return false;
}

/** The options of {@link toEvalModel} (names only: values are checked where toEvalModel uses them). */
const TO_EVAL_MODEL_PARAMS: ParamTable = Object.freeze({
  name: 'toEvalModel',
  fields: [
    { name: 'name', default: null, meaning: 'Shown in tables; null: the model kind with the adapters in brackets.' },
    { name: 'adapters', default: null, meaning: 'Adapters active while the view runs ([] = the base model); null: whatever is active at each call.', aliases: ['adapter_names', 'activeAdapters'] },
    { name: 'batchSize', default: 32, meaning: 'Items (texts or windows) per forward pass.', aliases: ['batch_size', 'per_device_eval_batch_size'] },
    { name: 'maxTokens', default: null, meaning: "Tokens per classified input and per scoring window; null: the model's context.", aliases: ['max_length', 'maxLength', 'max_seq_length', 'maxSeqLen'] },
    { name: 'tokenizer', default: null, meaning: 'Tokenizer of a zoo transformer; null: the character tokenizer (a Hugging Face model uses its own).' },
  ],
});

/**
 * An {@link EvalModel} over a fine-tuning model.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (`adapter` → `adapters`: a
 *   typo there would silently evaluate with whatever adapters are active); `EVAL_INPUT_INVALID` for a bad `batchSize`.
 * @example
 * ```ts
 * import { compareModels, toEvalModel, type FinetuneInput } from 'provenant/eval';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const emails: readonly FinetuneInput[];
 * declare const labels: readonly number[];
 * declare const passages: readonly string[];
 * const base = toEvalModel(model, { name: 'base', adapters: [] });
 * const tuned = toEvalModel(model, { name: 'tuned', adapters: ['default'] });
 * const table = await compareModels(base, tuned, [
 *   { name: 'spam', kind: 'domain', metric: 'macro-f1', dataset: { inputs: emails, labels } },
 *   { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts: passages } },
 * ]);
 * ```
 */
export function toEvalModel(model: Model, options: ToEvalModelOptions = {}): EvalModel<FinetuneInput> {
  const { batchSize } = resolve<{ batchSize: number }>(TO_EVAL_MODEL_PARAMS, options);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `toEvalModel: batchSize must be a positive integer, got ${batchSize}.`);
  }
  const adapters = options.adapters ? [...options.adapters] : undefined;
  const name = options.name ?? `${model.kind}${adapters ? ` [${adapters.join(', ') || 'base'}]` : ''}`;

  /** Runs fn with this view's adapters active, then restores the model's set. */
  const withView = <T>(fn: () => T): T => {
    if (!adapters || !hasAdapterSystem(model)) {
      if (adapters && adapters.length > 0) {
        throw new ProvenantError('ADAPTER_NOT_FOUND', `toEvalModel: the model has no adapters, but the view asks for ${adapters.join(', ')}.`);
      }
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

  /** Row-major float32 probabilities [n, K] → rows. */
  const rowsOf = (values: Float32Array, n: number, K: number): Float64Array[] =>
    Array.from({ length: n }, (_, i) => Float64Array.from(values.subarray(i * K, (i + 1) * K)));

  if (isHfModel(model)) {
    if (options.tokenizer !== undefined) {
      throw new ProvenantError('EVAL_INPUT_INVALID', "toEvalModel: the tokenizer option is for zoo transformers; a Hugging Face model is viewed through its own tokenizer.", {
        details: 'Drop the option. For a model loaded without a tokenizer, pass token ids (a language task\'s dataset.tokenIds).',
        data: { option: 'tokenizer' },
      });
    }
    return hfView(model, name, batchSize, options.maxTokens, withView, rowsOf);
  }

  if (model.kind !== 'transformer') {
    const F = (model.config as { inputSize: number }).inputSize;
    return {
      name,
      predictProba(inputs) {
        return withView(() => {
          const out: Float64Array[] = [];
          for (let start = 0; start < inputs.length; start += batchSize) {
            const slice = inputs.slice(start, start + batchSize);
            const x = new Float32Array(slice.length * F);
            slice.forEach((v, i) => {
              if (typeof v === 'string' || v.length !== F) {
                throw new ProvenantError('EVAL_INPUT_INVALID', `toEvalModel: input ${start + i} must be a vector of ${F} features.`, {
                  data: { index: start + i, expected: F },
                });
              }
              x.set(v, i * F);
            });
            const probs = tf.tidy(() => tf.softmax(model.forward(tf.tensor2d(x, [slice.length, F], 'float32'))));
            const K = probs.shape[1]!;
            const values = probs.dataSync() as Float32Array;
            probs.dispose();
            out.push(...rowsOf(values, slice.length, K));
          }
          return out;
        });
      },
    };
  }

  const transformer = model as TransformerModel;
  const tokenizer = options.tokenizer ?? createCharTokenizer();
  const T = transformer.config.maxSeqLen;
  const padId = transformer.config.padId ?? 0;
  const maxTokens = checkedMaxTokens(options.maxTokens, T, 'maxSeqLen');
  const idsOf = (input: FinetuneInput): number[] => (typeof input === 'string' ? tokenizer.encode(input) : Array.from(input));

  const windowsOf = (texts: readonly LanguageInput[]): { windows: Window[]; tokens: number[] } => {
    const windows: Window[] = [];
    const tokens: number[] = [];
    texts.forEach((text, t) => {
      const ids = idsOf(text);
      tokens.push(Math.max(0, ids.length - 1));
      for (let start = 0; start + 1 < ids.length; start += maxTokens) windows.push({ text: t, ids: ids.slice(start, start + maxTokens + 1) });
    });
    return { windows, tokens };
  };

  /** Log-probabilities of every next token of each window, [rows, V] in window order (only real positions). */
  const windowLogProbs = (windows: readonly Window[], each: (w: Window, logp: Float32Array, V: number) => void): void => {
    for (let start = 0; start < windows.length; start += batchSize) {
      const slice = windows.slice(start, start + batchSize);
      const L = Math.max(...slice.map((w) => w.ids.length - 1));
      const ids = new Int32Array(slice.length * L).fill(padId);
      slice.forEach((w, b) => {
        for (let j = 0; j < w.ids.length - 1; j++) ids[b * L + j] = w.ids[j]!;
      });
      const logp = tf.tidy(() => tf.logSoftmax(transformer.forwardLm(tf.tensor2d(ids, [slice.length, L], 'int32'))));
      const V = logp.shape[1]!;
      const values = logp.dataSync() as Float32Array;
      logp.dispose();
      slice.forEach((w, b) => each(w, values.subarray(b * L * V, (b * L + w.ids.length - 1) * V), V));
    }
  };

  return {
    name,
    predictProba(inputs) {
      if (transformer.config.numClasses === undefined) {
        throw new ProvenantError('EVAL_INPUT_INVALID', 'toEvalModel: this transformer has no classifier head, so it cannot classify.', {
          details: 'Add one with addClassificationHead, or evaluate it on language tasks only.',
        });
      }
      return withView(() => {
        const out: Float64Array[] = [];
        for (let start = 0; start < inputs.length; start += batchSize) {
          const encoded = inputs.slice(start, start + batchSize).map((x) => idsOf(x).slice(0, maxTokens));
          const L = Math.max(1, ...encoded.map((e) => e.length));
          const ids = new Int32Array(encoded.length * L).fill(padId);
          encoded.forEach((e, b) => ids.set(e, b * L));
          const probs = tf.tidy(() => tf.softmax(transformer.forwardClassifier(tf.tensor2d(ids, [encoded.length, L], 'int32'))));
          const K = probs.shape[1]!;
          const values = probs.dataSync() as Float32Array;
          probs.dispose();
          out.push(...rowsOf(values, encoded.length, K));
        }
        return out;
      });
    },
    scoreText(texts) {
      return withView(() => {
        const { windows, tokens } = windowsOf(texts);
        const nll = new Float64Array(texts.length);
        windowLogProbs(windows, (w, logp, V) => {
          for (let j = 0; j + 1 < w.ids.length; j++) nll[w.text] = nll[w.text]! - logp[j * V + w.ids[j + 1]!]!;
        });
        return texts.map((_, t): TextScore => ({ nll: nll[t]!, tokens: tokens[t]!, characters: tokens[t]! }));
      });
    },
    nextTokenProba(texts) {
      return withView(() => {
        const { windows } = windowsOf(texts);
        const rows: Float64Array[][] = texts.map(() => []);
        windowLogProbs(windows, (w, logp, V) => {
          for (let j = 0; j + 1 < w.ids.length; j++) rows[w.text]!.push(Float64Array.from(logp.subarray(j * V, (j + 1) * V), Math.exp));
        });
        return rows;
      });
    },
  };
}

/** `maxTokens` checked against the model's context (default: the context itself). */
function checkedMaxTokens(maxTokens: number | undefined, context: number, field: string): number {
  const value = maxTokens ?? context;
  if (!Number.isInteger(value) || value < 1 || value > context) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `toEvalModel: maxTokens must be an integer in [1, ${context}] (the model's ${field}), got ${value}.`, {
      data: { maxTokens: value, context },
    });
  }
  return value;
}

/** The view of a Hugging Face model: its tokenizer, right padding with its pad token, its `logits`. */
function hfView(
  model: HfViewModel,
  name: string,
  batchSize: number,
  maxTokensOption: number | undefined,
  withView: <T>(fn: () => T) => T,
  rowsOf: (values: Float32Array, n: number, K: number) => Float64Array[],
): EvalModel<FinetuneInput> {
  const maxTokens = checkedMaxTokens(maxTokensOption, model.config.maxPositions, 'maxPositions');
  const tokenizer = model.tokenizer;
  const idsOf = (input: FinetuneInput): number[] => {
    if (typeof input !== 'string') return Array.from(input);
    if (!tokenizer) {
      throw new ProvenantError('EVAL_INPUT_INVALID', 'toEvalModel: this model was loaded without a tokenizer, so pass token ids, not texts.', {
        details: "Give a language task dataset.tokenIds (one token-id array per sequence) instead of dataset.texts, or load a folder with a tokenizer.json.",
        metaMessages: [`text: ${JSON.stringify(input.slice(0, 40))}`],
      });
    }
    return tokenizer.encode(input);
  };
  // Without a pad token rows cannot share a padded batch (transformers refuses it too): one row per pass.
  const padId = model.config.padTokenId;
  const rowsPerPass = padId === null ? 1 : batchSize;

  /** logits of right-padded rows (pads masked), read out and freed. */
  const logitsOfRows = (rows: readonly number[][]): { values: Float32Array; L: number; width: number } => {
    const L = Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * L).fill(padId ?? 0);
    const mask = new Int32Array(rows.length * L);
    rows.forEach((r, b) => {
      ids.set(r, b * L);
      mask.fill(1, b * L, b * L + r.length);
    });
    const out = tf.tidy(() => model.logits({ inputIds: tf.tensor2d(ids, [rows.length, L], 'int32'), attentionMask: mask }));
    const values = Float32Array.from(out.dataSync() as Float32Array);
    const width = out.shape[out.shape.length - 1]!;
    out.dispose();
    return { values, L, width };
  };

  const view: EvalModel<FinetuneInput> = { name };
  if (model.config.task === 'sequence-classification') {
    view.predictProba = (inputs) =>
      withView(() => {
        const out: Float64Array[] = [];
        for (let start = 0; start < inputs.length; start += rowsPerPass) {
          const rows = inputs.slice(start, start + rowsPerPass).map((x) => idsOf(x).slice(0, maxTokens));
          const { values, width } = logitsOfRows(rows);
          const probs = tf.tidy(() => tf.softmax(tf.tensor2d(values, [rows.length, width])));
          out.push(...rowsOf(Float32Array.from(probs.dataSync() as Float32Array), rows.length, width));
          probs.dispose();
        }
        return out;
      });
  }
  if (model.config.task === 'causal-lm') {
    /** Per text, −log p of each predicted token's row, window by window (windows overlap by one token). */
    const eachWindow = (texts: readonly LanguageInput[], each: (text: number, ids: readonly number[], logp: Float32Array, V: number) => void): number[][] => {
      const encoded = texts.map((t) => idsOf(t));
      const windows: Array<{ text: number; ids: number[] }> = [];
      encoded.forEach((ids, text) => {
        for (let start = 0; start + 1 < ids.length; start += maxTokens) windows.push({ text, ids: ids.slice(start, start + maxTokens + 1) });
      });
      for (let start = 0; start < windows.length; start += rowsPerPass) {
        const slice = windows.slice(start, start + rowsPerPass);
        const { values, L, width } = logitsOfRows(slice.map((w) => w.ids.slice(0, -1)));
        const logp = tf.tidy(() => tf.logSoftmax(tf.tensor2d(values, [slice.length * L, width])));
        const all = Float32Array.from(logp.dataSync() as Float32Array);
        logp.dispose();
        slice.forEach((w, b) => each(w.text, w.ids, all.subarray(b * L * width, (b * L + w.ids.length - 1) * width), width));
      }
      return encoded;
    };
    view.scoreText = (texts) =>
      withView(() => {
        const nll = new Float64Array(texts.length);
        const encoded = eachWindow(texts, (t, ids, logp, V) => {
          for (let j = 0; j + 1 < ids.length; j++) nll[t] = nll[t]! - logp[j * V + ids[j + 1]!]!;
        });
        return texts.map((_, t): TextScore => {
          const predicted = encoded[t]!.slice(1);
          // Characters the predicted tokens cover, measured by decoding them (special tokens cover none).
          const characters = tokenizer?.decode ? [...(predicted.length > 0 ? tokenizer.decode(predicted, { skipSpecialTokens: true }) : '')].length : undefined;
          return { nll: nll[t]!, tokens: predicted.length, ...(characters === undefined ? {} : { characters }) };
        });
      });
    view.nextTokenProba = (texts) =>
      withView(() => {
        const rows: Float64Array[][] = texts.map(() => []);
        eachWindow(texts, (t, ids, logp, V) => {
          for (let j = 0; j + 1 < ids.length; j++) rows[t]!.push(Float64Array.from(logp.subarray(j * V, (j + 1) * V), Math.exp));
        });
        return rows;
      });
  }
  return view;
}
