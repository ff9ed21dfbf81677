/**
 * Text generation from the tiny transformer (a qualitative check of a base or tuned model, and demo output): seeded
 * sampling from softmax(logits / temperature), optionally restricted to the top k tokens; temperature 0 is greedy.
 * When the text outgrows the context, the model sees its last maxSeqLen tokens.
 */
import { ProvenantError, createRng } from '../../core/index.js';
import { sampleToken } from '../sampling.js';
import { tf } from '../tf.js';
import { PAD_ID, UNK_ID, type CharTokenizer } from './tokenizer.js';
import type { TransformerModel } from './transformer.js';

const NEVER_GENERATED: ReadonlySet<number> = new Set([PAD_ID, UNK_ID]);

export interface GenerateOptions {
  /** Characters to add. Default 100. */
  maxNewTokens?: number;
  /** Default 0.8; 0 picks the most likely token every time. */
  temperature?: number;
  /** Sample only among the k most likely tokens. Default: all. */
  topK?: number;
  /** Seed of the sampling. */
  seed: number;
}

/**
 * Continues `prompt` and returns the new text only. `<pad>` and `<unk>` are never produced.
 *
 * @example
 * ```ts
 * import { createCharTokenizer, generateText, loadBaseModel } from 'provenant/finetune';
 * const model = await loadBaseModel();
 * generateText(model, createCharTokenizer(), 'Call me ', { seed: 1, maxNewTokens: 40 });
 * ```
 */
export function generateText(model: TransformerModel, tokenizer: CharTokenizer, prompt: string, options: GenerateOptions): string {
  const maxNew = options.maxNewTokens ?? 100;
  const temperature = options.temperature ?? 0.8;
  const topK = options.topK ?? tokenizer.vocabSize;
  if (!Number.isInteger(maxNew) || maxNew < 0 || !(temperature >= 0) || !Number.isInteger(topK) || topK < 1) {
    throw new ProvenantError('INVALID_ARGUMENT', 'generateText needs maxNewTokens ≥ 0, temperature ≥ 0 and topK ≥ 1 (integers where counts).');
  }
  const rng = createRng(options.seed);
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) ids.push(tokenizer.encode(' ')[0]!);
  const context = model.config.maxSeqLen;
  const out: number[] = [];
  for (let n = 0; n < maxNew; n++) {
    const window = ids.slice(-context);
    const logits = tf.tidy(() => {
      const x = tf.tensor2d(window, [1, window.length], 'int32');
      return model.forwardLm(x).slice([window.length - 1, 0], [1, tokenizer.vocabSize]).dataSync() as Float32Array;
    });
    const next = sampleToken(logits, { temperature, topK, bannedIds: NEVER_GENERATED }, rng);
    ids.push(next);
    out.push(next);
  }
  return tokenizer.decode(out);
}
