/**
 * Language-modelling metrics from per-text sums of negative log-likelihood (natural log, nats):
 * perplexity = exp(Σ_t NLL_t / Σ_t tokens_t) and bits per character = Σ_t NLL_t / (ln 2 · Σ_t characters_t).
 * Both are corpus-level ratios (total loss over total count, as in the usual held-out evaluation), not means of
 * per-text ratios, so a long text weighs by its length. The bootstrap resamples whole texts, which keeps the token
 * dependence inside a text intact.
 */
import { ProvenantError } from '../core/index.js';
import { bootstrapOptionsTable, checkedBootstrapOptions, bootstrapEstimate } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { MetricResult } from './metric-result.js';

/** What a language model reports for one text. */
export interface TextScore {
  /** Σ over the predicted tokens of −ln p(token | prefix), in nats. */
  nll: number;
  /** Number of predicted tokens the sum runs over. */
  tokens: number;
  /**
   * Number of characters the predicted tokens cover; required for bits per character. It is never guessed from the
   * text: a model that does not predict the first token, or that normalises the text, covers fewer characters than
   * the text has, and a guess would silently lower the figure. A character-level model returns `tokens` here.
   */
  characters?: number;
}

/** A language metric with the corpus totals it was computed from. */
export interface LanguageMetricResult extends MetricResult {
  metric: 'perplexity' | 'bits-per-character';
  totalNll: number;
  /** Σ tokens (perplexity) or Σ characters (bits per character). */
  totalCount: number;
}

/** Validates scores and returns NLLs and the chosen counts as float64 arrays. */
export function languageInputs(
  scores: readonly TextScore[],
  count: 'tokens' | 'characters',
): { nll: Float64Array; count: Float64Array } {
  if (!Array.isArray(scores) || scores.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'scores must be a non-empty array of { nll, tokens } objects.');
  }
  const nll = new Float64Array(scores.length);
  const counts = new Float64Array(scores.length);
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    const c = s?.[count];
    if (!s || typeof s.nll !== 'number' || !Number.isFinite(s.nll) || s.nll < 0) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `scores[${i}].nll must be a finite number ≥ 0 (nats).`, {
        metaMessages: [`scores[${i}].nll: ${s?.nll}`],
        data: { index: i },
      });
    }
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `scores[${i}].${count} must be an integer ≥ 0.`, {
        metaMessages: [`scores[${i}].${count}: ${c}`],
        data: { index: i },
      });
    }
    if (c === 0 && s.nll !== 0) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `scores[${i}] has a loss over zero ${count}.`, {
        metaMessages: [`scores[${i}]: nll ${s.nll}, ${count} 0`],
        data: { index: i },
      });
    }
    nll[i] = s.nll;
    counts[i] = c;
    total += c;
  }
  if (total === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `scores cover zero ${count} in total.`);
  }
  return { nll, count: counts };
}

/** θ(w) = g(Σ w_i a_i / Σ w_i b_i): a weighted ratio estimator mapped through g. NaN when Σ w_i b_i = 0. */
export function ratioStatistic(
  numerator: Float64Array,
  denominator: Float64Array,
  map: (ratio: number) => number = (r) => r,
): (weights: Float64Array) => number {
  return (w) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < numerator.length; i++) {
      a += w[i]! * numerator[i]!;
      b += w[i]! * denominator[i]!;
    }
    return b > 0 ? map(a / b) : NaN;
  };
}

const sum = (x: Float64Array): number => x.reduce((a, b) => a + b, 0);

/** The options of {@link perplexity} and {@link bitsPerCharacter}: the bootstrap's. */
const PERPLEXITY_PARAMS = bootstrapOptionsTable('perplexity');
const BITS_PER_CHARACTER_PARAMS = bootstrapOptionsTable('bitsPerCharacter');

/**
 * Perplexity exp(Σ NLL / Σ tokens) over texts, with a seeded percentile bootstrap interval over texts.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { perplexity } from 'provenant/eval';
 * perplexity([{ nll: 2, tokens: 1 }, { nll: 4, tokens: 3 }]).value; // Math.exp(6 / 4)
 * ```
 */
export function perplexity(scores: readonly TextScore[], options: BootstrapOptions = {}): LanguageMetricResult {
  const settings = checkedBootstrapOptions(PERPLEXITY_PARAMS, options);
  const { nll, count } = languageInputs(scores, 'tokens');
  const est = bootstrapEstimate(scores.length, ratioStatistic(nll, count, Math.exp), settings);
  return { metric: 'perplexity', higherIsBetter: false, n: scores.length, ...est, totalNll: sum(nll), totalCount: sum(count) };
}

/**
 * Bits per character Σ NLL / (ln 2 · Σ characters) over texts, with a seeded percentile bootstrap interval over texts.
 * Every score needs `characters`.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { bitsPerCharacter } from 'provenant/eval';
 * bitsPerCharacter([{ nll: Math.LN2 * 3, tokens: 2, characters: 6 }]).value; // 0.5
 * ```
 */
export function bitsPerCharacter(scores: readonly TextScore[], options: BootstrapOptions = {}): LanguageMetricResult {
  const settings = checkedBootstrapOptions(BITS_PER_CHARACTER_PARAMS, options);
  const { nll, count } = languageInputs(scores, 'characters');
  const est = bootstrapEstimate(scores.length, ratioStatistic(nll, count, (r) => r / Math.LN2), settings);
  return {
    metric: 'bits-per-character',
    higherIsBetter: false,
    n: scores.length,
    ...est,
    totalNll: sum(nll),
    totalCount: sum(count),
  };
}
