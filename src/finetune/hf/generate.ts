/**
 * Generation from a causal Hugging Face model with a key/value cache, as transformers' `generate`: prompts are
 * left-padded, positions come from the attention mask (cumsum − 1, so a padded row numbers its real tokens from 0), the
 * prompt runs once and each new token is one cached step. Decoding: greedy (temperature 0), or sampling with the
 * transformers warpers in their order — temperature, top-k, top-p (nucleus, Holtzman et al. 2020, §3.1) — from a seeded
 * generator, so the same seed gives the same text. A row stops at any stop token (default the model's EOS ids); finished
 * rows are fed the pad id, as transformers does.
 */
import { ProvenantError, createRng, type Seed } from '../../core/index.js';
import { linearForward } from '../linear.js';
import { sampleToken } from '../sampling.js';
import { tf } from '../tf.js';
import { createCache, disposeCache, type PretrainedModel } from './pretrained-model.js';
import type { ChatMessage } from './tokenizer.js';

export interface GenerateTokensOptions {
  /** New tokens per row at most. Default 32. */
  maxNewTokens?: number;
  /** 0 (default) = greedy; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Keep the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
  /** Token ids that end a row (included in its output). Default the config's / tokenizer's EOS. */
  stopTokens?: readonly number[];
  /** Seed of the sampling (required when temperature > 0). */
  seed?: Seed;
}

export interface GenerateTokensResult {
  /** Generated ids per row (prompt excluded, stop token included when hit). */
  tokens: number[][];
  finishReasons: Array<'stop' | 'length'>;
}

function checkOptions(options: GenerateTokensOptions): Required<Omit<GenerateTokensOptions, 'stopTokens' | 'seed'>> {
  const maxNewTokens = options.maxNewTokens ?? 32;
  const temperature = options.temperature ?? 0;
  const topK = options.topK ?? 0;
  const topP = options.topP ?? 1;
  const problems: string[] = [];
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) problems.push(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) problems.push(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isSafeInteger(topK) || topK < 0) problems.push(`topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) problems.push(`topP must be in (0, 1], got ${topP}`);
  if (temperature > 0 && options.seed === undefined) problems.push('sampling (temperature > 0) needs a seed');
  if (problems.length > 0) throw new ProvenantError('INVALID_ARGUMENT', 'Invalid generation options.', { metaMessages: problems });
  return { maxNewTokens, temperature, topK, topP };
}

/**
 * Continues each prompt (token ids) with a key/value cache.
 *
 * @example
 * ```ts
 * import { generateTokens, type PretrainedModel } from 'provenant/finetune';
 * declare const model: PretrainedModel;
 * declare const promptIds: readonly number[];
 * const { tokens } = generateTokens(model, [promptIds], { maxNewTokens: 20 }); // greedy
 * tokens[0]; // the new token ids of the first prompt
 * ```
 */
export function generateTokens(model: PretrainedModel, prompts: ReadonlyArray<readonly number[]>, options: GenerateTokensOptions = {}): GenerateTokensResult {
  if (model.config.task !== 'causal-lm') {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `Generation needs a causal LM; this is a ${model.config.className}.`);
  }
  const { maxNewTokens, temperature, topK, topP } = checkOptions(options);
  if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new ProvenantError('INVALID_ARGUMENT', 'Every prompt needs at least one token.');
  const eos = model.config.eosTokenId ?? model.tokenizer?.eosTokenId ?? null;
  const stop = new Set(options.stopTokens ?? (eos === null ? [] : Array.isArray(eos) ? eos : [eos]));
  const pad = model.config.padTokenId ?? model.tokenizer?.padTokenId ?? (stop.size > 0 ? [...stop][0]! : 0);
  const rng = temperature > 0 ? createRng(options.seed!) : null;
  const head = model.linears.get('lm_head')!;
  const B = prompts.length;
  const T0 = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(B * T0).fill(pad);
  const mask: number[] = new Array(B * T0).fill(0);
  const positions = new Int32Array(B * T0).fill(1);
  const next = new Int32Array(B);
  prompts.forEach((p, b) => {
    const offset = T0 - p.length;
    p.forEach((id, t) => {
      ids[b * T0 + offset + t] = id;
      mask[b * T0 + offset + t] = 1;
      positions[b * T0 + offset + t] = t;
    });
    next[b] = p.length;
  });
  const cache = createCache(model);
  const tokens: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let stepIds = tf.tensor2d(ids, [B, T0], 'int32');
  let stepPositions: Int32Array = positions;
  let fullMask = mask;
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      const T = stepIds.shape[1]!;
      const logits = tf.tidy(() => {
        const h = model.hiddenStates({ inputIds: stepIds, attentionMask: fullMask, positionIds: stepPositions }, {}, cache);
        const last = h.reshape([B, T, -1]).slice([0, T - 1, 0], [B, 1, -1]).reshape([B, -1]);
        return linearForward(head, last, {});
      });
      const values = logits.dataSync() as Float32Array;
      const V = logits.shape[1]!;
      logits.dispose();
      stepIds.dispose();
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next[b] = pad;
          continue;
        }
        const choice = sampleToken(values.subarray(b * V, (b + 1) * V), { temperature, topK, topP }, rng);
        tokens[b]!.push(choice);
        if (stop.has(choice)) done[b] = true;
        next[b] = choice;
      }
      if (done.every(Boolean) || step === maxNewTokens - 1) break;
      // One new position per row: the mask grows by a real token, the position is one past the row's last.
      const S = cache.length;
      const grown: number[] = new Array(B * (S + 1));
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < S; s++) grown[b * (S + 1) + s] = fullMask[b * S + s]!;
        grown[b * (S + 1) + S] = 1;
      }
      fullMask = grown;
      stepPositions = Int32Array.from({ length: B }, (_, b) => tokens[b]!.length + prompts[b]!.length - 1);
      stepIds = tf.tensor2d(Int32Array.from(next), [B, 1], 'int32');
    }
  } finally {
    if (!stepIds.isDisposed) stepIds.dispose();
    disposeCache(cache);
  }
  return { tokens, finishReasons: done.map((d) => (d ? 'stop' : 'length')) };
}

export interface GenerateTextOptions extends GenerateTokensOptions {
  /** Leave special tokens out of the decoded text (default true). */
  skipSpecialTokens?: boolean;
}

/**
 * Continues a text, or a chat (messages rendered by the tokenizer's chat template with the generation prompt), and
 * returns the new text. Needs the model's tokenizer.
 *
 * @example
 * ```ts
 * import { generate, loadPretrained } from 'provenant/finetune';
 * const model = await loadPretrained('./SmolLM-135M-Instruct');
 * const reply = generate(model, [{ role: 'user', content: 'Name a prime.' }], { maxNewTokens: 16 });
 * ```
 */
export function generate(model: PretrainedModel, prompt: string | readonly ChatMessage[], options: GenerateTextOptions = {}): { text: string; tokens: number[]; finishReason: 'stop' | 'length' } {
  const tokenizer = model.tokenizer;
  if (!tokenizer) throw new ProvenantError('TOKENIZER_INVALID', 'This model was loaded without tokenizer.json; use generateTokens with ids.');
  const text = typeof prompt === 'string' ? prompt : tokenizer.applyChatTemplate(prompt, { addGenerationPrompt: true });
  // A rendered chat template already holds its special tokens (bos included); a plain text gets the post-processor's.
  const ids = tokenizer.encode(text, { addSpecialTokens: typeof prompt === 'string' });
  const { tokens, finishReasons } = generateTokens(model, [ids], options);
  return { text: tokenizer.decode(tokens[0]!, { skipSpecialTokens: options.skipSpecialTokens ?? true }), tokens: tokens[0]!, finishReason: finishReasons[0]! };
}
