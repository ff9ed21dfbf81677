/**
 * Next-token choice from one row of logits, shared by every generation loop (the character model's `generateText`,
 * the Hugging Face KV-cache `generateTokens`, the attribution room's `generateCompletion`), so a seed means the same
 * draw everywhere.
 *
 * Greedy (temperature 0): the largest logit, the lowest id on ties. Sampling follows transformers' logits warpers in
 * their order — temperature, top-k, top-p (nucleus sampling, Holtzman et al. 2020, §3.1: the smallest set of most likely
 * tokens whose probability, renormalised over the top k, reaches p) — then one seeded uniform draw u ∈ [0, 1) picks the
 * token whose interval of the cumulative distribution (most likely first) contains u·total.
 * Banned ids (the caller's `bannedIds`) are removed before any of it: the character model bans its padding and unknown
 * ids; the Hugging Face `generateTokens` bans none, as transformers' `generate` (so eos stays generable where a GPT-2
 * style config sets `pad_token_id = eos_token_id`). Stop tokens stay with the loops: each ends a row its
 * own way (a batch row keeps being fed the pad id; a single completion breaks), and a set lookup is all they share.
 */
import { ProvenantError, type Rng } from '../core/index.js';

export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Keep the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
  /** Ids never chosen. */
  bannedIds?: ReadonlySet<number>;
}

/** The distribution a draw is made from: kept ids, most likely first (lowest id on ties), and their probabilities (sum 1). */
export interface SamplingDistribution {
  ids: number[];
  probabilities: Float64Array;
}

/** Ids not banned, by logit descending, the lowest id first on ties. */
function rankedIds(logits: ArrayLike<number>, banned: ReadonlySet<number> | undefined): number[] {
  const ids: number[] = [];
  for (let v = 0; v < logits.length; v++) if (!banned?.has(v)) ids.push(v);
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (ids.length === 0) throw new ProvenantError('INVALID_ARGUMENT', 'Every token id is banned: there is nothing to generate.');
  return ids;
}

/** Kept ids (ranked) and their unnormalised weights exp((l − max)/T), after top-k and top-p. */
function keptWeights(logits: ArrayLike<number>, options: SamplingOptions): { ids: number[]; weights: Float64Array; total: number } {
  const ranked = rankedIds(logits, options.bannedIds);
  const k = options.topK && options.topK > 0 ? Math.min(options.topK, ranked.length) : ranked.length;
  const max = logits[ranked[0]!]!;
  const all = new Float64Array(k);
  let topKTotal = 0;
  for (let i = 0; i < k; i++) {
    all[i] = Math.exp((logits[ranked[i]!]! - max) / options.temperature);
    topKTotal += all[i]!;
  }
  const topP = options.topP ?? 1;
  let kept = k;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < k; i++) {
      mass += all[i]! / topKTotal;
      if (mass >= topP) {
        kept = i + 1;
        break;
      }
    }
  }
  const weights = all.subarray(0, kept);
  let total = 0;
  for (let i = 0; i < kept; i++) total += weights[i]!;
  return { ids: ranked.slice(0, kept), weights, total };
}

/**
 * The exact distribution {@link sampleToken} draws from (greedy: one id with probability 1).
 *
 * @param logits one row of next-token logits, length V
 * @returns kept ids most likely first, with probabilities summing to 1
 * @example
 * ```ts
 * import { samplingDistribution } from 'provenant/finetune';
 * samplingDistribution([2, 1, 0, -5], { temperature: 1, topP: 0.9 }); // { ids: [0, 1], probabilities: [0.731, 0.269] }
 * ```
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): SamplingDistribution {
  if (options.temperature === 0) return { ids: [rankedIds(logits, options.bannedIds)[0]!], probabilities: Float64Array.of(1) };
  const { ids, weights, total } = keptWeights(logits, options);
  return { ids, probabilities: weights.map((w) => w / total) };
}

/**
 * Picks the next token: greedy at temperature 0 (no draw is taken from `rng`), otherwise one draw of `rng` from
 * {@link samplingDistribution}. Options are assumed checked by the caller (temperature ≥ 0, topK ≥ 0, topP in (0, 1]).
 *
 * @param logits one row of next-token logits, length V
 * @param rng the generation's seeded generator (`createRng(seed)`); may be null for greedy decoding
 * @returns the chosen token id
 * @throws ProvenantError `INVALID_ARGUMENT` when every id is banned, or when sampling without a generator
 * @example
 * ```ts
 * import { createRng } from 'provenant';
 * import { sampleToken } from 'provenant/finetune';
 * const rng = createRng(7);
 * sampleToken(new Float32Array([0.1, 2.3, -1]), { temperature: 0.8, topK: 2 }, rng); // 1 most of the time
 * ```
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng | null): number {
  if (options.temperature === 0) return rankedIds(logits, options.bannedIds)[0]!;
  if (!rng) throw new ProvenantError('INVALID_ARGUMENT', 'Sampling (temperature > 0) needs a seeded generator.');
  const { ids, weights, total } = keptWeights(logits, options);
  let u = rng.nextDouble() * total;
  for (let i = 0; i < ids.length; i++) {
    u -= weights[i]!;
    if (u < 0) return ids[i]!;
  }
  return ids[ids.length - 1]!; // rounding left u at or just above 0 after the last interval
}
