/**
 * Text generation from the tiny transformer (a qualitative check of a base or tuned model, and demo output): seeded
 * sampling from softmax(logits / temperature), optionally restricted to the top k tokens; temperature 0 is greedy.
 * When the text outgrows the context, the model sees its last maxSeqLen tokens.
 */
import { ProvenantError, createRng } from '../../core/index.js';
import { tf } from '../tf.js';
import { PAD_ID, UNK_ID, type CharTokenizer } from './tokenizer.js';
import type { TransformerModel } from './transformer.js';

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
    const candidates = Array.from(logits, (l, id) => ({ id, l })).filter((c) => c.id !== PAD_ID && c.id !== UNK_ID);
    candidates.sort((a, b) => b.l - a.l || a.id - b.id);
    let next: number;
    if (temperature === 0) next = candidates[0]!.id;
    else {
      const kept = candidates.slice(0, topK);
      const max = kept[0]!.l;
      const weights = kept.map((c) => Math.exp((c.l - max) / temperature));
      const total = weights.reduce((a, b) => a + b, 0);
      let u = rng.nextDouble() * total;
      next = kept.at(-1)!.id;
      for (let i = 0; i < kept.length; i++) {
        u -= weights[i]!;
        if (u <= 0) {
          next = kept[i]!.id;
          break;
        }
      }
    }
    ids.push(next);
    out.push(next);
  }
  return tokenizer.decode(out);
}
