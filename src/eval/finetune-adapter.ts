/**
 * `toEvalModel`: the bridge from the fine-tuning engine's models (`src/finetune`) to evaluation's structural
 * {@link EvalModel}. Logistic regression and MLP classify feature vectors; the transformer classifies texts through
 * its tokenizer and classification head, and scores texts through its LM head.
 *
 * One model object can be viewed as base and as tuned: `adapters` names the LoRA adapters active while the view runs
 * (`[]` = the base model), and the model's own active set is restored after every call — so a sweep compares base and
 * tuned without copying weights.
 *
 * Language scoring: a text of n tokens is cut into consecutive windows of at most maxSeqLen + 1 tokens that overlap by
 * one, each predicting its tokens from the context inside the window, so every token but the first is predicted exactly
 * once (n − 1 predictions). The tokenizer is character-level, so `characters` = `tokens` (characters of the normalised
 * text; see tokenizer.ts).
 */
import { ProvenantError } from '../core/index.js';
import {
  activeAdapters,
  createCharTokenizer,
  setActiveAdapters,
  tf,
  type CharTokenizer,
  type Model,
  type TransformerModel,
} from '../finetune/index.js';
import type { EvalModel } from './eval-model.js';
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
  /** Transformer tokenizer. Default the character tokenizer. */
  tokenizer?: CharTokenizer;
  /** Transformer classification: truncate inputs to this many tokens. Default the model's maxSeqLen. */
  maxTokens?: number;
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

/**
 * An {@link EvalModel} over a fine-tuning model.
 *
 * @example
 * ```ts
 * const base = toEvalModel(model, { name: 'base', adapters: [] });
 * const tuned = toEvalModel(model, { name: 'tuned', adapters: ['default'] });
 * const table = await compareModels(base, tuned, [
 *   { name: 'spam', kind: 'domain', metric: 'macro-f1', dataset: { inputs: emails, labels } },
 *   { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts: passages } },
 * ]);
 * ```
 */
export function toEvalModel(model: Model, options: ToEvalModelOptions = {}): EvalModel<FinetuneInput> {
  const batchSize = options.batchSize ?? 32;
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
  const maxTokens = options.maxTokens ?? T;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > T) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `toEvalModel: maxTokens must be an integer in [1, ${T}], got ${maxTokens}.`);
  }
  const idsOf = (input: FinetuneInput): number[] => (typeof input === 'string' ? tokenizer.encode(input) : Array.from(input));

  const windowsOf = (texts: readonly string[]): { windows: Window[]; tokens: number[] } => {
    const windows: Window[] = [];
    const tokens: number[] = [];
    texts.forEach((text, t) => {
      const ids = tokenizer.encode(text);
      tokens.push(Math.max(0, ids.length - 1));
      for (let start = 0; start + 1 < ids.length; start += T) windows.push({ text: t, ids: ids.slice(start, start + T + 1) });
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
