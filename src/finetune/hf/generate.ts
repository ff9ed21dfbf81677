/**
 * Generation from a causal Hugging Face model with a key/value cache, as transformers' `generate`: prompts are
 * left-padded, positions come from the attention mask (cumsum − 1, so a padded row numbers its real tokens from 0), the
 * prompt runs once and each new token is one cached step. Decoding: greedy (temperature 0), or sampling with the
 * transformers warpers in their order — temperature, top-k, top-p (nucleus, Holtzman et al. 2020, §3.1) — from a seeded
 * generator, so the same seed gives the same text. A row stops at any stop token (default the model's EOS ids); finished
 * rows are fed the pad id, as transformers does.
 */
import { ProvenantError, checks, createRng, describeValue, resolve, type ParamCheck, type ParamTable, type Seed } from '../../core/index.js';
import { linearForward } from '../linear.js';
import { sampleToken } from '../sampling.js';
import { tf } from '../tf.js';
import { createCache, disposeCache, type PretrainedModel } from './pretrained-model.js';
import { SKIP_SPECIAL_TOKENS_FIELD, type ChatMessage } from './tokenizer.js';

export interface GenerateTokensOptions {
  /** New tokens per row at most. Default 32. */
  maxNewTokens?: number;
  /** 0 (default) = greedy; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Keep the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
  /** Token ids that end a row (included in its output). Default (or null) the config's / tokenizer's EOS. */
  stopTokens?: readonly number[] | null;
  /** Seed of the sampling (required when temperature > 0). */
  seed?: Seed | null;
}

export interface GenerateTokensResult {
  /** Generated ids per row (prompt excluded, stop token included when hit). */
  tokens: number[][];
  finishReasons: Array<'stop' | 'length'>;
}

const seedCheck: ParamCheck = (v) =>
  v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && v.length > 0)
    ? null
    : `must be a non-negative integer or a non-empty string, got ${describeValue(v)}`;
const stopTokensCheck: ParamCheck = (v) =>
  v === null || (Array.isArray(v) && v.every((id) => Number.isSafeInteger(id) && id >= 0)) ? null : `must be an array of non-negative token ids, got ${describeValue(v)}`;

/**
 * The options of {@link generateTokens} in the one parameter mechanism (`core/params.ts`): defaults live here only, and
 * unknown names are refused with the nearest field ("temprature" → temperature; transformers' `max_new_tokens`, `top_k`,
 * `top_p`, `eos_token_id` map to theirs) — a typo never silently decodes greedily. Defaults are transformers' when
 * `do_sample` is off (greedy), with its warpers' neutral values.
 */
export const GENERATION_PARAMS: ParamTable = Object.freeze({
  name: 'generation',
  fields: [
    { name: 'maxNewTokens', default: 32, meaning: 'New tokens per row at most.', check: checks.int(0), aliases: ['max_new_tokens', 'maxTokens', 'max_tokens'] },
    { name: 'temperature', default: 0, meaning: '0 = greedy; otherwise logits are divided by it before sampling.', check: checks.number(0, Number.MAX_VALUE) },
    { name: 'topK', default: 0, meaning: 'Keep the k most likely tokens (0: all).', check: checks.int(0), aliases: ['top_k'] },
    { name: 'topP', default: 1, meaning: 'Keep the smallest set of most likely tokens whose probability reaches p (1: all).', check: checks.number(0, 1, { min: true }), aliases: ['top_p'] },
    { name: 'stopTokens', default: null, meaning: "Token ids that end a row (null: the config's / tokenizer's EOS).", check: stopTokensCheck, aliases: ['eos_token_id', 'eosTokenId', 'stop'] },
    { name: 'seed', default: null, meaning: 'Seed of the sampling (required when temperature > 0).', check: seedCheck },
  ],
  crossChecks: (used: Readonly<Record<string, unknown>>): Array<[string, string]> => (used.temperature !== 0 && used.seed === null ? [['seed', 'sampling (temperature > 0) needs a seed']] : []),
});

/** {@link GENERATION_PARAMS} plus the text options of {@link generate}. */
export const GENERATE_TEXT_PARAMS: ParamTable = Object.freeze({
  name: 'generation',
  fields: [...GENERATION_PARAMS.fields, { ...SKIP_SPECIAL_TOKENS_FIELD, default: true }],
  crossChecks: GENERATION_PARAMS.crossChecks,
});

interface UsedGeneration {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  stopTokens: readonly number[] | null;
  seed: Seed | null;
}

/**
 * Continues each prompt (token ids) with a key/value cache. No id is banned (as transformers' `generate`), so the eos
 * token stays generable where a config sets `pad_token_id = eos_token_id`.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option (with the nearest name, see {@link GENERATION_PARAMS})
 *   or a bad value, prompt ids or stop tokens outside the vocabulary (`prompts[b][t]` named), or — on a model with
 *   learned positions (GPT-2) — a prompt longer than them or a generation that runs past them (the `maxNewTokens` that
 *   fits is given); `MODEL_CONFIG_INVALID` for a model that is not a causal LM.
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
  const { maxNewTokens, temperature, topK, topP, stopTokens, seed } = resolve<UsedGeneration>(GENERATION_PARAMS, options);
  if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new ProvenantError('INVALID_ARGUMENT', 'Every prompt needs at least one token.');
  // Named here, by prompt and position: once left-padded into one batch the positions would be shifted by the padding.
  const V = model.config.vocabSize;
  const inVocab = (id: number) => Number.isSafeInteger(id) && id >= 0 && id < V;
  const badIds = prompts.flatMap((p, b) => p.flatMap((id, t) => (inVocab(id) ? [] : [`prompts[${b}][${t}] = ${describeValue(id)}`])));
  const badStops = (stopTokens ?? []).filter((id) => !inVocab(id));
  if (badIds.length > 0 || badStops.length > 0) {
    throw new ProvenantError('INVALID_ARGUMENT', `Token ids outside the vocabulary [0, ${V}) (vocab_size ${V}): ${[badIds.length ? 'prompts' : '', badStops.length ? 'stopTokens' : ''].filter(Boolean).join(', ')}.`, {
      metaMessages: [...badIds.slice(0, 10), ...(badIds.length > 10 ? [`… ${badIds.length - 10} more`] : []), ...badStops.map((id) => `stopTokens: ${id} can never be generated`)],
      data: { prompts: badIds.length, stopTokens: badStops },
    });
  }
  const eos = model.config.eosTokenId ?? model.tokenizer?.eosTokenId ?? null;
  const stop = new Set(stopTokens ?? (eos === null ? [] : Array.isArray(eos) ? eos : [eos]));
  const pad = model.config.padTokenId ?? model.tokenizer?.padTokenId ?? (stop.size > 0 ? [...stop][0]! : 0);
  const rng = temperature > 0 ? createRng(seed!) : null;
  const learnedPositions = model.config.architecture === 'llama' ? null : model.config.maxPositions;
  const tooLong = learnedPositions === null ? -1 : prompts.findIndex((p) => p.length > learnedPositions);
  if (tooLong >= 0) {
    throw new ProvenantError('INVALID_ARGUMENT', `prompts[${tooLong}] has ${prompts[tooLong]!.length} tokens, past the model's ${learnedPositions} learned positions (n_positions).`, {
      data: { prompt: tooLong, promptLength: prompts[tooLong]!.length, maxPositions: learnedPositions },
    });
  }
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
      // GPT-2 and BERT look positions up in a learned table: say so in generation's terms, not as a positionIds error.
      const past = learnedPositions === null ? -1 : stepPositions.findIndex((p) => p >= learnedPositions);
      if (past >= 0) {
        const n = tokens[past]!.length;
        throw new ProvenantError('INVALID_ARGUMENT', `Generation reached the model's ${learnedPositions} learned positions (${model.config.architecture === 'gpt2' ? 'n_positions' : 'max_position_embeddings'}): prompt ${past} has ${prompts[past]!.length} tokens and ${n} were generated.`, {
          details: `Lower maxNewTokens to ${n} or shorten the prompt (prompt length + maxNewTokens − 1 ≤ ${learnedPositions}).`,
          data: { prompt: past, promptLength: prompts[past]!.length, generated: n, maxPositions: learnedPositions },
        });
      }
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
  const { skipSpecialTokens, ...generation } = resolve<UsedGeneration & { skipSpecialTokens: boolean }>(GENERATE_TEXT_PARAMS, options);
  const { tokens, finishReasons } = generateTokens(model, [ids], generation);
  return { text: tokenizer.decode(tokens[0]!, { skipSpecialTokens }), tokens: tokens[0]!, finishReason: finishReasons[0]! };
}
