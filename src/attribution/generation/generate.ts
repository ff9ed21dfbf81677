/**
 * Completion of a prompt by any causal LM of the generic interface (./causal-lm.ts): seeded sampling from
 * softmax(logits / temperature), restricted to the top k tokens when asked; temperature 0 is greedy. The model sees the
 * last `context` tokens. Kept here (not in finetune/models/generate.ts, which serves the character model) so
 * attribution never depends on a particular model family; a Hugging Face model's own KV-cache generation can be used
 * instead by passing its text as `completion` to `attributeGeneration`.
 */
import { ProvenantError, createRng, resolve, type ParamTable } from '../../core/index.js';
import { sampleToken, tf } from '../../finetune/index.js';
import { causalLogits, contextLength, type CausalLmModel } from './causal-lm.js';

export interface CompletionOptions {
  /** Tokens to generate. Default 64. */
  maxNewTokens?: number;
  /** Default 0 (greedy: reproducible answers for paid queries). */
  temperature?: number;
  /** Sample among the k most likely tokens only. Default: all. */
  topK?: number;
  /** Seed of the sampling. Default 0. */
  seed?: number;
  /** Token ids never produced (padding, unknown). */
  bannedIds?: readonly number[];
  /** Stop after producing this id (e.g. end-of-text); it is kept in the output. */
  stopId?: number;
}

/** The defaults of {@link CompletionOptions}, recorded with every attribution. */
export const COMPLETION_DEFAULTS = Object.freeze({ maxNewTokens: 64, temperature: 0, seed: 0 });

/**
 * The options of {@link generateCompletion} (and `attributeGeneration`'s `generation`): a misspelt name is refused with
 * the nearest field, never ignored. Defaults from {@link COMPLETION_DEFAULTS}.
 */
export const COMPLETION_PARAMS: ParamTable = Object.freeze({
  name: 'generateCompletion',
  code: 'INVALID_ARGUMENT',
  fields: [
    { name: 'maxNewTokens', default: COMPLETION_DEFAULTS.maxNewTokens, meaning: 'Tokens to generate at most.', aliases: ['max_new_tokens', 'maxTokens', 'max_tokens'] },
    { name: 'temperature', default: COMPLETION_DEFAULTS.temperature, meaning: '0 = greedy (reproducible answers for paid queries); otherwise logits are divided by it.' },
    { name: 'topK', default: null, meaning: 'Sample among the k most likely tokens only (null: all).', aliases: ['top_k'] },
    { name: 'seed', default: COMPLETION_DEFAULTS.seed, meaning: 'Seed of the sampling.' },
    { name: 'bannedIds', default: null, meaning: 'Token ids never produced (padding, unknown).', aliases: ['banned_ids'] },
    { name: 'stopId', default: null, meaning: 'Stop after producing this id (kept in the output).', aliases: ['stopToken', 'eos_token_id', 'eosTokenId'] },
  ],
});

/**
 * Generates up to `maxNewTokens` ids after `promptIds`.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name (with the nearest one; see
 *   {@link COMPLETION_PARAMS}), a negative or fractional count, a negative temperature or an empty prompt.
 * @example
 * ```ts
 * import { generateCompletion, type CausalLmModel } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant/finetune';
 * declare const model: CausalLmModel;
 * const tok = createCharTokenizer();
 * const ids = generateCompletion(model, tok.encode('The capital of Zorbania is'), { maxNewTokens: 16, bannedIds: [0, 1] });
 * tok.decode(ids); // the completion's text
 * ```
 */
export function generateCompletion(model: CausalLmModel, promptIds: readonly number[], options: CompletionOptions = {}): number[] {
  resolve(COMPLETION_PARAMS, options);
  const maxNew = options.maxNewTokens ?? COMPLETION_DEFAULTS.maxNewTokens;
  const temperature = options.temperature ?? COMPLETION_DEFAULTS.temperature;
  if (!Number.isInteger(maxNew) || maxNew < 0 || !(temperature >= 0) || (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK < 1))) {
    throw new ProvenantError('INVALID_ARGUMENT', 'generateCompletion needs maxNewTokens ≥ 0, temperature ≥ 0 and topK ≥ 1 (integers where counts).');
  }
  if (promptIds.length === 0) throw new ProvenantError('INVALID_ARGUMENT', 'generateCompletion needs a non-empty prompt.');
  const banned = new Set(options.bannedIds ?? []);
  const rng = createRng(options.seed ?? COMPLETION_DEFAULTS.seed);
  const context = contextLength(model);
  const ids = [...promptIds];
  const out: number[] = [];
  for (let n = 0; n < maxNew; n++) {
    const window = ids.slice(-context);
    const logits = tf.tidy(() => {
      const z = causalLogits(model, tf.tensor2d(window, [1, window.length], 'int32'));
      return z.slice([window.length - 1, 0], [1, z.shape[1]!]).dataSync() as Float32Array;
    });
    const next = sampleToken(logits, { temperature, topK: options.topK, bannedIds: banned }, rng);
    ids.push(next);
    out.push(next);
    if (options.stopId !== undefined && next === options.stopId) break;
  }
  return out;
}
